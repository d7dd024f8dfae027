import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { normalisePorts, reservePorts, toPortmapRuntime } from './ports';

describe('published ports', () => {
  it('normalises protocol case and 0.0.0.0, refuses duplicates', () => {
    expect(normalisePorts([{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'TCP' as 'tcp' }])).toEqual([
      { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    ]);
    expect(() =>
      normalisePorts([
        { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 81, protocol: 'tcp' },
      ]),
    ).toThrow('host port 127.0.0.1:8080:81/tcp is published twice (also 8080:80/tcp)');
    // Same port, other protocol: fine.
    expect(normalisePorts([
      { hostPort: 53, containerPort: 53, protocol: 'tcp' },
      { hostPort: 53, containerPort: 53, protocol: 'udp' },
    ])).toHaveLength(2);
  });

  it('resolves hostPort 0 and refuses a port bound on the host (tcp and udp)', async () => {
    const [picked] = await reservePorts([{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' }], []);
    expect(picked!.hostPort).toBeGreaterThan(0);

    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const tcpPort = (srv.address() as net.AddressInfo).port;
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const udpPort = sock.address().port;
    try {
      await expect(reservePorts([{ hostIp: '127.0.0.1', hostPort: tcpPort, containerPort: 80, protocol: 'tcp' }], [])).rejects.toThrow(
        `host port 127.0.0.1:${tcpPort}/tcp is already in use on the host`,
      );
      // A wildcard publish clashes with a listener on one address too.
      await expect(reservePorts([{ hostPort: tcpPort, containerPort: 80, protocol: 'tcp' }], [])).rejects.toThrow('already in use on the host');
      await expect(reservePorts([{ hostIp: '127.0.0.1', hostPort: udpPort, containerPort: 53, protocol: 'udp' }], [])).rejects.toThrow(
        `host port 127.0.0.1:${udpPort}/udp is already in use on the host`,
      );
    } finally {
      await new Promise((r) => srv.close(r));
      await new Promise<void>((r) => sock.close(() => r()));
    }
  });

  it('refuses a port another container publishes and builds portmap runtime args', async () => {
    const taken = [{ hostPort: 40123, containerPort: 80, protocol: 'tcp' as const }];
    await expect(reservePorts([{ hostIp: '127.0.0.1', hostPort: 40123, containerPort: 90, protocol: 'tcp' }], taken)).rejects.toThrow(
      'host port 127.0.0.1:40123:90/tcp is already published by another container',
    );
    expect(toPortmapRuntime([{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 53, containerPort: 53, protocol: 'udp' }])).toEqual([
      { hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1' },
      { hostPort: 53, containerPort: 53, protocol: 'udp' },
    ]);
  });
});
