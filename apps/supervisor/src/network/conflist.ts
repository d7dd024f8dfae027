// The CNI configuration lists berth runs for a network: bridge with host-local IPAM, and portmap when ports
// are published, with the IPAM leases under the berth state root. Masquerade and FORWARD acceptance are per
// network (bridge-rules.ts), not per container: no ipMasq, no firewall plugin (podman 4 has both per container).
import { CNI_VERSION, type CniConfList } from './cni-invoker';
import type { NetworkRecord } from './network-registry';

export interface ConfListOptions {
  /** host-local dataDir (it keeps <dataDir>/<network name>/<ip> lease files). */
  ipamDir: string;
  /**
   * Add portmap. Left out for containers without published ports: it costs ~40 ms on ADD and ~110 ms on
   * DEL (its iptables calls) and does nothing for them. The list is cached per container, so DEL matches.
   */
  portmap: boolean;
}

export function bridgeConfList(net: NetworkRecord, opts: ConfListOptions): CniConfList {
  const plugins: CniConfList['plugins'] = [
    {
      type: 'bridge',
      // --ip reaches host-local and --mac-address the bridge plugin as runtime config, only when asked.
      capabilities: { ips: true, mac: true },
      bridge: net.bridge,
      isGateway: true,
      // Masquerade is one rule per network (bridge-rules.ts); portmap needs hairpin for a container
      // reaching its own published port.
      ipMasq: false,
      hairpinMode: true,
      ipam: {
        type: 'host-local',
        dataDir: opts.ipamDir,
        routes: [{ dst: '0.0.0.0/0' }],
        ranges: [[{ subnet: net.subnet, gateway: net.gateway }]],
      },
    },
  ];
  // snat stays at its default (on): without it 127.0.0.1:HOSTPORT does not reach the container.
  if (opts.portmap) plugins.push({ type: 'portmap', capabilities: { portMappings: true } });
  return { cniVersion: CNI_VERSION, name: net.name, plugins };
}

/** Loopback is its own call with CNI_IFNAME=lo (it brings lo up; DEL takes it down). */
export const LOOPBACK_CONF_LIST: CniConfList = { cniVersion: CNI_VERSION, name: 'lo', plugins: [{ type: 'loopback' }] };

/**
 * Plugins that refuse DEL without a prevResult; skipped when setup died before its result was cached (the
 * firewall plugin is in lists cached by earlier versions).
 */
export const NEEDS_PREV_RESULT_ON_DEL = new Set(['firewall']);
