// Everything networking in one place for the supervisor's main: the registry of networks, the CNI
// provider the container lifecycle uses, and the Networks gRPC service.
//
// State kept, all under <stateDir>/network:
//   networks/<id>.json   user-defined networks (the predefined ones come from configuration)
//   results/<cid>.json   one per attached container: conf list, netns, ports, cached CNI ADD result
//   ipam/<network>/      host-local leases (the IPAM dataDir)
//   created.json         when this state was first made (the predefined networks' creation time)
// Outside it: /run/netns/berth-<id12> per container, the bridge devices and the plugins' iptables rules.
//
// Environment: BERTH_BRIDGE_NAME (berth0), BERTH_BRIDGE_SUBNET (10.88.0.0/16), BERTH_BRIDGE_GATEWAY (first
// address), BERTH_NETWORK_POOL (10.89.0.0/16, subnets of user networks created without one),
// BERTH_CNI_PATH (/usr/lib/cni, ":"-separated).
import * as path from 'node:path';
import type { Logger, ServiceRegistration } from '@berth/service-kit';
import { AttachmentStore } from './attachment-store';
import { removeBridgeRules } from './bridge-rules';
import { CniInvoker, DEFAULT_CNI_PATH } from './cni-invoker';
import { attachmentInfo } from './attachment-info';
import { CniNetworkProvider, type PeersChange } from './cni-network-provider';
import type { EventPublisher } from './events';
import { deleteLink } from './netns';
import { NetworkRegistry, type CreateNetworkOptions, type DefaultBridgeConfig, type NetworkRecord } from './network-registry';
import { networksServiceRegistration, type MembershipApi } from './networks-service';

export interface NetworkEndpointInfo {
  containerId: string;
  name: string;
  /** CIDR. */
  ipAddress: string;
  macAddress: string;
  sandboxKey: string;
}

export interface NetworkDetails extends NetworkRecord {
  containers: NetworkEndpointInfo[];
}

export interface NetworkingOptions {
  /** The supervisor's state directory; networking keeps <stateDir>/network. */
  stateDir: string;
  log?: Logger;
  bus?: EventPublisher;
  defaultBridge?: Partial<DefaultBridgeConfig>;
  subnetPool?: string;
  cniPath?: string[];
  /** ACCEPT bridge traffic in FORWARD (default true). */
  firewall?: boolean;
  resolvConfPath?: string;
  onPeersChanged?: (change: PeersChange) => void;
  env?: Record<string, string | undefined>;
}

/** The domain behind the Networks service. */
export class Networks {
  constructor(
    readonly registry: NetworkRegistry,
    readonly provider: CniNetworkProvider,
  ) {}

  create(req: CreateNetworkOptions): NetworkRecord {
    return this.registry.create(req);
  }

  list(nameContains = ''): NetworkRecord[] {
    return this.registry.list().filter((n) => n.name.includes(nameContains));
  }

  inspect(ref: string): NetworkDetails {
    const net = this.registry.get(ref);
    const containers = this.registry.containers(net).map((rec) => {
      const info = attachmentInfo(rec);
      return {
        containerId: rec.containerId,
        name: rec.name,
        ipAddress: info ? `${info.ipAddress}/${info.ipPrefixLen}` : '',
        macAddress: info?.macAddress ?? '',
        sandboxKey: rec.netnsPath ?? '',
      };
    });
    return { ...net, containers };
  }

  /** Refused while containers are attached; then deletes the record, the IPAM state, the bridge and its rules. */
  async remove(ref: string): Promise<void> {
    const net = this.registry.remove(ref);
    if (!net.bridge) return;
    this.provider.forgetRules(net.bridge);
    await Promise.all([deleteLink(net.bridge), removeBridgeRules(net.bridge)]);
  }
}

export interface Networking {
  networks: Networks;
  provider: CniNetworkProvider;
  networksServiceRegistration: ServiceRegistration;
  /** Hands Connect/Disconnect their container side once the container manager is open. */
  useMembership(m: MembershipApi): void;
}

export function createNetworking(opts: NetworkingOptions): Networking {
  const env = opts.env ?? process.env;
  const dir = path.join(opts.stateDir, 'network');
  const attachments = new AttachmentStore(dir);
  const defaultBridge: Partial<DefaultBridgeConfig> = { ...opts.defaultBridge };
  if (!defaultBridge.bridge && env.BERTH_BRIDGE_NAME) defaultBridge.bridge = env.BERTH_BRIDGE_NAME;
  if (!defaultBridge.subnet && env.BERTH_BRIDGE_SUBNET) defaultBridge.subnet = env.BERTH_BRIDGE_SUBNET;
  if (!defaultBridge.gateway && env.BERTH_BRIDGE_GATEWAY) defaultBridge.gateway = env.BERTH_BRIDGE_GATEWAY;
  const subnetPool = opts.subnetPool ?? env.BERTH_NETWORK_POOL;
  const registry = new NetworkRegistry({
    dir,
    attachments,
    defaultBridge,
    ...(subnetPool ? { subnetPool } : {}),
    ...(opts.bus ? { events: opts.bus } : {}),
  });
  const cniPath = opts.cniPath ?? (env.BERTH_CNI_PATH ? env.BERTH_CNI_PATH.split(':') : [DEFAULT_CNI_PATH]);
  const provider = new CniNetworkProvider({
    registry,
    attachments,
    invoker: new CniInvoker({ pluginDirs: cniPath }),
    ...(opts.bus ? { events: opts.bus } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.firewall !== undefined ? { firewall: opts.firewall } : {}),
    ...(opts.resolvConfPath ? { resolvConfPath: opts.resolvConfPath } : {}),
    ...(opts.onPeersChanged ? { onPeersChanged: opts.onPeersChanged } : {}),
  });
  const networks = new Networks(registry, provider);
  let membership: MembershipApi | undefined;
  return {
    networks,
    provider,
    networksServiceRegistration: networksServiceRegistration(networks, opts.log, () => membership),
    useMembership: (m) => {
      membership = m;
    },
  };
}
