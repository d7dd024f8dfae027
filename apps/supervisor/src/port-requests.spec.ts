import { containersV1 } from '@berth/api';
import { portRequests } from './port-requests';

const cfg = (exposedPorts: string[]) => containersV1.ContainerConfig.fromPartial({ exposedPorts });

describe('portRequests', () => {
  it('keeps explicit bindings and adds exposed ports only with publish-all', () => {
    const hc = containersV1.HostConfig.fromPartial({ ports: [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
    expect(portRequests(cfg(['80/tcp', '53/udp']), hc)).toEqual([{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
    expect(portRequests(cfg(['80/tcp', '53/udp', '9000']), { ...hc, publishAll: true })).toEqual([
      { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '', hostPort: 0, containerPort: 53, protocol: 'udp' },
      { hostIp: '', hostPort: 0, containerPort: 9000, protocol: 'tcp' },
    ]);
  });
  it('refuses malformed ports', () => {
    const hc = containersV1.HostConfig.fromPartial({ publishAll: true });
    expect(() => portRequests(cfg(['http']), hc)).toThrow(/invalid exposed port/);
    expect(() => portRequests(cfg(['80/sctp']), hc)).toThrow(/invalid port protocol/);
  });
});
