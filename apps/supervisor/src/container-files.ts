// The per-container /etc files the runtime bind-mounts: hostname, hosts, resolv.conf.
import * as fs from 'node:fs';
import type { NetworkSetup } from './network/network-provider';

export function writeHostname(file: string, hostname: string): void {
  fs.writeFileSync(file, hostname + '\n');
}

export function writeHosts(file: string, hostname: string, setup: NetworkSetup | undefined, hostNetwork: boolean): void {
  if (hostNetwork) {
    try {
      fs.copyFileSync('/etc/hosts', file);
      return;
    } catch {
      // fall through to the default content
    }
  }
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters'];
  const ip = setup?.attachments[0]?.ipAddress;
  lines.push(`${ip || '127.0.1.1'}\t${hostname}`);
  for (const e of setup?.hostsEntries ?? []) lines.push(e);
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

export function writeResolvConf(file: string, dns: NetworkSetup['dns'] | undefined): void {
  const lines: string[] = [];
  for (const ns of dns?.nameservers ?? []) lines.push(`nameserver ${ns}`);
  if (dns?.search.length) lines.push(`search ${dns.search.join(' ')}`);
  if (dns?.options.length) lines.push(`options ${dns.options.join(' ')}`);
  fs.writeFileSync(file, lines.join('\n') + (lines.length ? '\n' : ''));
}
