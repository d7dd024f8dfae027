// IPv4 CIDR arithmetic for network subnets: parsing, validation, overlap and the default gateway.
import * as net from 'node:net';
import { InvalidNetworkConfigError } from './errors';

export interface Ipv4Subnet {
  /** Network address as a 32-bit unsigned number. */
  base: number;
  prefix: number;
}

export function ipToNumber(ip: string): number {
  if (!net.isIPv4(ip)) throw new InvalidNetworkConfigError(`"${ip}" is not an IPv4 address`);
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function size(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** Parses "10.213.1.0/24"; the host bits must be zero; prefixes from /8 to /30. */
export function parseSubnet(cidr: string): Ipv4Subnet {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new InvalidNetworkConfigError(`subnet "${cidr}" is not IPv4 CIDR like 10.89.1.0/24 (IPv6 is not supported)`);
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) throw new InvalidNetworkConfigError(`subnet "${cidr}": prefix /${prefix} must be between /8 and /30`);
  const base = ipToNumber(m[1]!);
  if (base % size(prefix) !== 0) {
    const fixed = numberToIp(base - (base % size(prefix)));
    throw new InvalidNetworkConfigError(`subnet "${cidr}" has host bits set; did you mean ${fixed}/${prefix}?`);
  }
  return { base, prefix };
}

export function formatSubnet(s: Ipv4Subnet): string {
  return `${numberToIp(s.base)}/${s.prefix}`;
}

export function subnetsOverlap(a: Ipv4Subnet, b: Ipv4Subnet): boolean {
  const aEnd = a.base + size(a.prefix);
  const bEnd = b.base + size(b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

export function contains(s: Ipv4Subnet, ip: string): boolean {
  const n = ipToNumber(ip);
  return n >= s.base && n < s.base + size(s.prefix);
}

/** The first host address, the usual gateway. */
export function defaultGateway(s: Ipv4Subnet): string {
  return numberToIp(s.base + 1);
}

/** Checks the gateway is a host address of the subnet (not its network or broadcast address). */
export function validateGateway(s: Ipv4Subnet, gateway: string): void {
  const n = ipToNumber(gateway);
  if (!contains(s, gateway)) throw new InvalidNetworkConfigError(`gateway ${gateway} is outside subnet ${formatSubnet(s)}`);
  if (n === s.base || n === s.base + size(s.prefix) - 1) {
    throw new InvalidNetworkConfigError(`gateway ${gateway} is the network or broadcast address of ${formatSubnet(s)}`);
  }
}

/** The first /24 in `pool` that overlaps none of `taken`; undefined when the pool is full. */
export function pickFreeSubnet(pool: Ipv4Subnet, taken: Ipv4Subnet[], prefix = 24): Ipv4Subnet | undefined {
  for (let base = pool.base; base < pool.base + size(pool.prefix); base += size(prefix)) {
    const cand = { base, prefix };
    if (!taken.some((t) => subnetsOverlap(t, cand))) return cand;
  }
  return undefined;
}

/** Little-endian hex of /proc/net/route to a number. */
function routeHex(h: string): number {
  const n = parseInt(h, 16);
  return ((n & 0xff) * 2 ** 24) + (((n >>> 8) & 0xff) << 16) + (((n >>> 16) & 0xff) << 8) + ((n >>> 24) & 0xff);
}

/**
 * Subnets the host routes to directly or through a gateway (default route excluded), from
 * /proc/net/route: an automatically picked subnet must not shadow them.
 */
export function hostRouteSubnets(text: string): Ipv4Subnet[] {
  const out: Ipv4Subnet[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const mask = routeHex(f[7]!);
    if (mask === 0) continue;
    const prefix = 32 - Math.log2(2 ** 32 - mask);
    if (!Number.isInteger(prefix)) continue;
    out.push({ base: routeHex(f[1]!), prefix });
  }
  return out;
}
