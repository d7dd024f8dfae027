// Host-wide leftovers of a network, for tests and `berth system prune`-like tools. A container teardown
// removes everything per container (veth, netns, portmap's DNAT chain, its lease); what stays on purpose is
// per network — the bridge device (down) and its masquerade/forward rules (bridge-rules.ts), removed with a
// user network, kept for the default bridge — and shared by every network on the host: the BERTH-POSTROUTING
// and BERTH-FORWARD chains, the CNI-HOSTPORT-{DNAT,MASQ,SETMARK} nat chains with their jumps, host-local's
// last_reserved_ip.0 and lock files, net.ipv4.ip_forward=1, and possibly an empty nft "table ip6 nat".
// The shared chains are safe to keep: they hold nothing once their networks are gone.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeBridgeRules } from './bridge-rules';
import { deleteLink } from './netns';

/** Deletes the bridge device, its rules and the IPAM directory of one network; returns whether the bridge existed. */
export async function removeNetworkLeftovers(bridge: string, ipamDir?: string, networkName?: string): Promise<boolean> {
  const [existed] = await Promise.all([deleteLink(bridge), removeBridgeRules(bridge)]);
  if (ipamDir && networkName) fs.rmSync(path.join(ipamDir, networkName), { recursive: true, force: true });
  return existed;
}
