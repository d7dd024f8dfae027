// The per-container /etc files the runtime bind-mounts: hostname, hosts, resolv.conf.
import type { containersV1 } from '@berth/api';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { InvalidConfigError } from './errors';
import type { NetworkSetup } from './network/network-provider';

export function writeHostname(file: string, hostname: string): void {
  fs.writeFileSync(file, hostname + '\n');
}

export function writeHosts(file: string, ctr: containersV1.Container, setup: NetworkSetup | undefined, hostNetwork: boolean): void {
  const hostname = ctr.config!.hostname;
  const gateway = setup?.attachments[0]?.gateway || (hostNetwork ? '127.0.0.1' : '');
  const extra = (ctr.hostConfig?.extraHosts ?? []).map((e) => extraHostLine(e, gateway));
  if (hostNetwork) {
    try {
      const host = fs.readFileSync('/etc/hosts', 'utf8');
      fs.writeFileSync(file, host + (host.endsWith('\n') || !host ? '' : '\n') + extra.map((l) => l + '\n').join(''));
      return;
    } catch {
      // fall through to the default content
    }
  }
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters'];
  // As docker: the user's entries, then the container's own name, then its peers.
  lines.push(...extra);
  const ip = setup?.attachments[0]?.ipAddress;
  lines.push(`${ip || '127.0.1.1'}\t${hostname}`);
  for (const e of setup?.hostsEntries ?? []) lines.push(e);
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

/** One --add-host "name:address" as a hosts line; host-gateway is the network's gateway. */
function extraHostLine(entry: string, gateway: string): string {
  const { name, addr } = splitExtraHost(entry);
  if (addr !== 'host-gateway') return `${addr}\t${name}`;
  return gateway ? `${gateway}\t${name}` : `# ${name}: host-gateway left out, this container has no network gateway`;
}

/** "name:address" (an IPv6 address may be bracketed) as its two parts; empty when there is no colon. */
function splitExtraHost(entry: string): { name: string; addr: string } {
  const i = entry.indexOf(':');
  return i > 0 ? { name: entry.slice(0, i), addr: entry.slice(i + 1).replace(/^\[(.*)\]$/, '$1') } : { name: '', addr: '' };
}

/** --add-host entries, checked at create: a host name and an address or "host-gateway". */
export function validateExtraHosts(entries: string[]): void {
  for (const e of entries) {
    const { name, addr } = splitExtraHost(e);
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(name) || !(net.isIP(addr) || addr === 'host-gateway')) {
      throw new InvalidConfigError(`invalid extra host "${e}": use name:address`);
    }
  }
}

/** The user's --dns, --dns-search and --dns-option replace the matching parts of the network's. */
export function userDns(hc: containersV1.HostConfig | undefined, dns: NetworkSetup['dns']): NetworkSetup['dns'] | undefined {
  if (!hc || (!hc.dns.length && !hc.dnsSearch.length && !hc.dnsOptions.length)) return undefined;
  return {
    nameservers: hc.dns.length ? hc.dns : dns.nameservers,
    search: hc.dnsSearch.length ? hc.dnsSearch : dns.search,
    options: hc.dnsOptions.length ? hc.dnsOptions : dns.options,
  };
}

export function writeResolvConf(file: string, dns: NetworkSetup['dns'] | undefined): void {
  const lines: string[] = [];
  for (const ns of dns?.nameservers ?? []) lines.push(`nameserver ${ns}`);
  if (dns?.search.length) lines.push(`search ${dns.search.join(' ')}`);
  if (dns?.options.length) lines.push(`options ${dns.options.join(' ')}`);
  fs.writeFileSync(file, lines.join('\n') + (lines.length ? '\n' : ''));
}
