// The seam between the supervisor's container lifecycle and container networking (CNI). The lifecycle code
// asks for a network before the runtime starts and gives it back on exit/delete; how it is made (netns,
// CNI plugins, IPAM, port maps, iptables) is the provider's business. Kept separate from a single container
// so pod sandboxes (a shared netns) can reuse it later.
import type { ExtraNetworkRequest } from './extra-networks';

export interface PortMapping {
  /** Host IP to bind; empty or undefined for all addresses. */
  hostIp?: string;
  /** Host port; 0 asks the provider to pick a free one. */
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface NetworkRequest {
  containerId: string;
  /** Container name (no leading slash): peers on a user network reach it by this name. */
  name: string;
  hostname: string;
  /** "bridge" (default), "none", "host", or a user-defined network name. */
  network: string;
  ports: PortMapping[];
  /** More names peers on a user network resolve it by (--network-alias). */
  aliases?: string[];
  /** The address to have on a user network instead of the next free one (--ip). */
  ipv4Address?: string;
  /** The MAC address of eth0 (--mac-address). */
  macAddress?: string;
  /**
   * The runtime makes the container's network namespace (it dies with PID 1): setup() checks and reserves
   * (network, ports, the pending record) and connect() plugs the namespace in once the runtime made it.
   * Without it, the provider makes a named namespace (/run/netns) in setup().
   */
  runtimeNetns?: boolean;
}

export interface NetworkAttachmentInfo {
  network: string;
  bridge: string;
  ipAddress: string;
  ipPrefixLen: number;
  gateway: string;
  macAddress: string;
  /** Names peers resolve besides the container's (--network-alias). */
  aliases: string[];
  /** The address that was asked for (--ip); empty when IPAM picked it. */
  requestedIpv4Address: string;
}

export interface NetworkSetup {
  /** Network namespace for the OCI spec (/run/netns/NAME); undefined means the host's namespace... */
  netnsPath?: string;
  /**
   * ...unless this is set: a fresh namespace the runtime makes with the container (crun and runc bring its
   * loopback up), which goes away with PID 1. "none" needs nothing more, so no `ip netns` or plugin runs.
   */
  newNetns?: boolean;
  /** connect() must be called with that new namespace before the container starts (bridge networks). */
  pendingConnect?: boolean;
  attachments: NetworkAttachmentInfo[];
  /** Ports as bound (host ports resolved). */
  ports: PortMapping[];
  /** Extra /etc/hosts lines, "IP NAME", e.g. peers on a user network. */
  hostsEntries: string[];
  /** What to write to /etc/resolv.conf. */
  dns: { nameservers: string[]; search: string[]; options: string[] };
  /** The whole /etc/resolv.conf to write (dns rendered, with a comment when loopback nameservers were left out). */
  resolvConf?: string;
}

export interface NetworkProvider {
  /** Makes the container's network; on failure nothing is left configured. */
  setup(req: NetworkRequest): Promise<NetworkSetup>;
  /**
   * Plugs a runtime-made namespace into the network a setup() with runtimeNetns reserved (the interface,
   * its address, published ports); returns the whole setup. On failure nothing is left configured.
   */
  connect?(containerId: string, netnsPath: string): Promise<NetworkSetup>;
  /** Undoes setup. Idempotent; works from persisted state after a supervisor crash. */
  teardown(containerId: string): Promise<void>;
  /** The setup of an attached container rebuilt from persisted state (inspect after a restart). */
  setupFor?(containerId: string): NetworkSetup | undefined;
  /** Current /etc/hosts lines for the container (its own, then peers on a user network). */
  hostsEntriesFor?(containerId: string): string[];
  /** Tears down the networks of containers that are not live (died while the supervisor was down). */
  reconcile?(isLive: (containerId: string) => boolean): Promise<string[]>;
  /** Joins a running container to one more network (docker network connect); returns the whole setup. */
  attach?(req: ExtraNetworkRequest): Promise<NetworkSetup>;
  /** Throws when `ipv4` cannot be asked for on the network now (not in its subnet, the gateway, taken). */
  checkAddress?(ipv4: string, network: string): void;
  /** Takes a network attach() added away; with the running container's namespace its interface goes too. */
  detach?(containerId: string, networkId: string, netnsPath?: string): Promise<void>;
}
