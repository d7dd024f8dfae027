// Host-wide leftovers of a network, for tests and `berth system prune`-like tools. A container teardown
// removes everything per container (veth, netns, its nat chains CNI-<hash>/CNI-DN-<hash>, its firewall
// rules, its lease); what the plugins leave on purpose, shared by every container on the host, is:
// the bridge device (down), the CNI-HOSTPORT-{DNAT,MASQ,SETMARK} nat chains with their jumps from
// PREROUTING/OUTPUT/POSTROUTING, the CNI-FORWARD/CNI-ADMIN filter chains, host-local's last_reserved_ip.0
// and lock files, net.ipv4.ip_forward=1, and possibly an empty nft "table ip6 nat". Those shared chains
// are safe to keep: they are empty once no container publishes ports.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deleteLink } from './netns';

/** Deletes the bridge device and the IPAM directory of one network; returns whether the bridge existed. */
export async function removeNetworkLeftovers(bridge: string, ipamDir?: string, networkName?: string): Promise<boolean> {
  const existed = await deleteLink(bridge);
  if (ipamDir && networkName) fs.rmSync(path.join(ipamDir, networkName), { recursive: true, force: true });
  return existed;
}
