// The ports a container asks its network for: the explicit bindings, plus (with publish-all, docker -P) every
// exposed port not bound already, on a host port the provider picks.
import type { containersV1 } from '@berth/api';
import { InvalidConfigError } from './errors';
import type { PortMapping } from './network/network-provider';

function protocolOf(p: string): 'tcp' | 'udp' {
  const proto = (p || 'tcp').toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp') throw new InvalidConfigError(`invalid port protocol "${p}": use tcp or udp`);
  return proto;
}

export function portRequests(config: containersV1.ContainerConfig, hc: containersV1.HostConfig): PortMapping[] {
  const out: PortMapping[] = hc.ports.map((b) => ({
    hostIp: b.hostIp, hostPort: b.hostPort, containerPort: b.containerPort, protocol: protocolOf(b.protocol),
  }));
  if (!hc.publishAll) return out;
  for (const e of config.exposedPorts) {
    const m = /^(\d{1,5})(?:\/(\w+))?$/.exec(e);
    if (!m) throw new InvalidConfigError(`invalid exposed port "${e}": use PORT[/tcp|udp]`);
    const containerPort = Number(m[1]);
    const protocol = protocolOf(m[2] ?? 'tcp');
    if (out.some((p) => p.containerPort === containerPort && p.protocol === protocol)) continue;
    out.push({ hostIp: '', hostPort: 0, containerPort, protocol });
  }
  return out;
}
