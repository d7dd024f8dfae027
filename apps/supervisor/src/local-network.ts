// A network provider without CNI: "none" gets a fresh network namespace that the runtime makes (crun and runc
// bring its loopback up), "host" shares the host's. Used in-process and in tests until the CNI provider (src/network) is wired in; any other network
// name is refused.
import * as fs from 'node:fs';
import { InvalidArgumentError } from '@berth/service-kit';
import { run } from './runtime/oci-runtime';
import { RuntimeError } from './errors';
import type { NetworkProvider, NetworkRequest, NetworkSetup } from './network/network-provider';

export class UnknownNetworkError extends InvalidArgumentError {
  constructor(name: string) {
    super(`network "${name}" is not available: this supervisor supports "none" and "host"`);
  }
}

export function netnsName(containerId: string): string {
  return `berth-${containerId.slice(0, 12)}`;
}

function hostResolv(): NetworkSetup['dns'] {
  const dns = { nameservers: [] as string[], search: [] as string[], options: [] as string[] };
  try {
    for (const line of fs.readFileSync('/etc/resolv.conf', 'utf8').split('\n')) {
      const [k, ...v] = line.trim().split(/\s+/);
      if (k === 'nameserver' && v[0]) dns.nameservers.push(v[0]);
      if (k === 'search') dns.search.push(...v);
      if (k === 'options') dns.options.push(...v);
    }
  } catch {
    // no host resolv.conf: an empty one in the container
  }
  return dns;
}

export class LocalNetworkProvider implements NetworkProvider {
  async setup(req: NetworkRequest): Promise<NetworkSetup> {
    const net = req.network || 'none';
    if (net === 'host') return { attachments: [], ports: [], hostsEntries: [], dns: hostResolv() };
    if (net !== 'none') throw new UnknownNetworkError(net);
    if (req.ports.length) throw new InvalidArgumentError('ports cannot be published with network "none"');
    return { newNetns: true, attachments: [], ports: [], hostsEntries: [], dns: { nameservers: [], search: [], options: [] } };
  }

  /** Nothing to undo for none or host; removes a named namespace an older supervisor made for none. */
  async teardown(containerId: string): Promise<void> {
    const name = netnsName(containerId);
    if (!fs.existsSync(`/run/netns/${name}`)) return;
    const r = await run('ip', ['netns', 'del', name]);
    if (r.code !== 0) throw new RuntimeError(`ip netns del ${name} failed: ${r.stderr.trim()}`);
  }
}
