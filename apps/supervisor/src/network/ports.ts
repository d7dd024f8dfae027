// Published ports: validation, hostPort 0 resolved to a free port, and a probe that the host port can be
// bound before any CNI call (portmap only writes DNAT rules, it never binds, so it cannot notice a port
// held by a host process; and rules of two containers on one port would silently shadow each other).
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { InvalidPortMappingError, PortInUseError } from './errors';
import type { PortMapping } from './network-provider';

function label(p: PortMapping): string {
  return `${p.hostIp ? p.hostIp + ':' : ''}${p.hostPort}:${p.containerPort}/${p.protocol}`;
}

/** Checks ranges, protocols and IPs; drops "0.0.0.0" to mean all addresses; refuses duplicates. */
export function normalisePorts(ports: PortMapping[]): PortMapping[] {
  const out: PortMapping[] = [];
  for (const p of ports) {
    const protocol = (String(p.protocol || 'tcp').toLowerCase()) as PortMapping['protocol'];
    if (protocol !== 'tcp' && protocol !== 'udp') throw new InvalidPortMappingError(`port protocol "${p.protocol}" must be tcp or udp`);
    if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) {
      throw new InvalidPortMappingError(`container port ${p.containerPort} must be 1-65535`);
    }
    if (!Number.isInteger(p.hostPort) || p.hostPort < 0 || p.hostPort > 65535) {
      throw new InvalidPortMappingError(`host port ${p.hostPort} must be 0-65535 (0 picks a free one)`);
    }
    const hostIp = p.hostIp && p.hostIp !== '0.0.0.0' ? p.hostIp : '';
    if (hostIp && !net.isIPv4(hostIp)) throw new InvalidPortMappingError(`host IP "${p.hostIp}" is not an IPv4 address (IPv6 publishing is not supported)`);
    const n: PortMapping = { hostPort: p.hostPort, containerPort: p.containerPort, protocol };
    if (hostIp) n.hostIp = hostIp;
    if (n.hostPort !== 0) {
      const dup = out.find((o) => o.hostPort === n.hostPort && o.protocol === n.protocol && (!o.hostIp || !n.hostIp || o.hostIp === n.hostIp));
      if (dup) throw new InvalidPortMappingError(`host port ${label(n)} is published twice (also ${label(dup)})`);
    }
    out.push(n);
  }
  return out;
}

/** True when the two mappings want the same host socket. */
export function portsClash(a: PortMapping, b: PortMapping): boolean {
  return a.hostPort === b.hostPort && a.protocol === b.protocol && (!a.hostIp || !b.hostIp || a.hostIp === b.hostIp);
}

/** Binds the address for a moment; resolves with the bound port, rejects with the socket error. */
function probe(protocol: 'tcp' | 'udp', host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    if (protocol === 'tcp') {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen({ port, host, exclusive: true }, () => {
        const bound = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(bound));
      });
    } else {
      const sock = dgram.createSocket('udp4');
      sock.once('error', (e) => {
        sock.close();
        reject(e);
      });
      sock.bind({ port, address: host, exclusive: true }, () => {
        const bound = sock.address().port;
        sock.close(() => resolve(bound));
      });
    }
  });
}

/**
 * Resolves hostPort 0 to a free port and proves every other host port can be bound now, and is not
 * published by another berth container (`taken`). Throws PortInUseError naming the first busy port.
 */
export async function reservePorts(ports: PortMapping[], taken: PortMapping[]): Promise<PortMapping[]> {
  const out: PortMapping[] = [];
  for (const p of ports) {
    const host = p.hostIp || '0.0.0.0';
    if (p.hostPort === 0) {
      let picked: number | undefined;
      for (let i = 0; i < 20 && picked === undefined; i++) {
        const port = await probe(p.protocol, host, 0);
        const cand = { ...p, hostPort: port };
        if (![...taken, ...out].some((t) => portsClash(t, cand))) picked = port;
      }
      if (picked === undefined) throw new PortInUseError(`no free host port found for ${label(p)}`);
      out.push({ ...p, hostPort: picked });
      continue;
    }
    const holder = [...taken, ...out].find((t) => portsClash(t, p));
    if (holder) throw new PortInUseError(`host port ${label(p)} is already published by another container`);
    try {
      await probe(p.protocol, host, p.hostPort);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new PortInUseError(`host port ${host}:${p.hostPort}/${p.protocol} is already in use on the host`);
      if (code === 'EADDRNOTAVAIL') throw new InvalidPortMappingError(`host IP ${p.hostIp} is not an address of this host`);
      if (code === 'EACCES') throw new PortInUseError(`host port ${p.hostPort}/${p.protocol} cannot be bound: ${(err as Error).message}`);
      throw err;
    }
    out.push(p);
  }
  return out;
}

/** The portmap plugin's runtimeConfig.portMappings. */
export function toPortmapRuntime(ports: PortMapping[]): Record<string, unknown>[] {
  return ports.map((p) => {
    const m: Record<string, unknown> = { hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol };
    if (p.hostIp) m.hostIP = p.hostIp;
    return m;
  });
}
