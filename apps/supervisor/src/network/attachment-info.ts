// What a cached ADD result says about a container's side of an attachment: address, gateway, MAC, bridge.
import type { AttachmentRecord } from './attachment-store';
import type { CniResult } from './cni-invoker';
import type { NetworkAttachmentInfo } from './network-provider';

/** The container's side of the attachment from the cached ADD result. */
export function attachmentInfo(rec: AttachmentRecord): NetworkAttachmentInfo | undefined {
  const r: CniResult | undefined = rec.result;
  if (!r?.ips?.length) return undefined;
  const ifaces = r.interfaces ?? [];
  const ip = r.ips.find((i) => i.interface !== undefined && ifaces[i.interface]?.sandbox) ?? r.ips[0]!;
  const [addr, prefix] = ip.address.split('/');
  const iface = ip.interface !== undefined ? ifaces[ip.interface] : undefined;
  const bridge = typeof rec.confList?.plugins[0]?.bridge === 'string' ? (rec.confList.plugins[0].bridge as string) : '';
  return {
    network: rec.network,
    bridge,
    ipAddress: addr ?? '',
    ipPrefixLen: Number(prefix ?? 0),
    gateway: ip.gateway ?? '',
    macAddress: iface?.mac ?? '',
    aliases: rec.aliases ?? [],
    requestedIpv4Address: rec.ipv4 ?? '',
  };
}

export function uniqueNames(ip: string, names: string[]): string {
  return [ip, ...new Set(names.filter((n) => n))].join(' ');
}
