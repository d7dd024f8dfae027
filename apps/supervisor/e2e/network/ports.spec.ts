// Published ports through portmap: reachable from the host on 127.0.0.1, busy ports refused up front.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, waitForPort } from '@berth/testing';
import { makeFixture, iptablesMentions, linkExists, type NetFixture } from './fixture';

jest.setTimeout(60_000);

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Polls until the container's server answers through the mapping (bounded: 50 tries, 5 s). */
async function getWhenUp(port: number): Promise<{ status: number; body: string }> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      return await get(port);
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw last;
}

describe('published ports (portmap)', () => {
  let fx: NetFixture;
  let www: string;
  beforeEach(() => {
    fx = makeFixture();
    www = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-www-'));
    fs.writeFileSync(path.join(www, 'index.html'), 'hello from the container\n');
  });
  afterEach(async () => {
    await fx.cleanup();
    fs.rmSync(www, { recursive: true, force: true });
  });

  it('-p HOST:80 with busybox httpd in the netns answers HTTP on 127.0.0.1:HOST', async () => {
    const hostPort = await freePort();
    const id = fx.newId();
    const setup = await fx.provider.setup({
      containerId: id,
      name: 'web',
      hostname: 'web',
      network: 'bridge',
      ports: [{ hostPort, containerPort: 80, protocol: 'tcp' }],
    });
    expect(setup.ports).toEqual([{ hostPort, containerPort: 80, protocol: 'tcp' }]);
    fx.spawnIn(`berth-${id.slice(0, 12)}`, ['/bin/busybox', 'httpd', '-f', '-p', '80', '-h', www]);
    await waitForPort(80, setup.attachments[0]!.ipAddress, 5000);
    const res = await getWhenUp(hostPort);
    expect(res).toEqual({ status: 200, body: 'hello from the container\n' });
  });

  it('hostPort 0 picks a free port; 127.0.0.1:PORT:80 publishes on loopback only', async () => {
    const id = fx.newId();
    const setup = await fx.provider.setup({
      containerId: id,
      name: 'web',
      hostname: 'web',
      network: 'bridge',
      ports: [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' }],
    });
    const p = setup.ports[0]!;
    expect(p.hostIp).toBe('127.0.0.1');
    expect(p.hostPort).toBeGreaterThan(0);
    fx.spawnIn(`berth-${id.slice(0, 12)}`, ['/bin/busybox', 'httpd', '-f', '-p', '80', '-h', www]);
    await waitForPort(80, setup.attachments[0]!.ipAddress, 5000);
    expect((await getWhenUp(p.hostPort)).status).toBe(200);
    // The DNAT rule is bound to 127.0.0.1.
    expect(iptablesMentions(`--dport ${p.hostPort}`).some((r) => r.includes('-d 127.0.0.1/32'))).toBe(true);
  });

  it('a host port in use is refused before anything is configured', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '0.0.0.0', r));
    const busy = (holder.address() as net.AddressInfo).port;
    try {
      const id = fx.newId();
      await expect(
        fx.provider.setup({ containerId: id, name: 'x', hostname: 'x', network: 'bridge', ports: [{ hostPort: busy, containerPort: 80, protocol: 'tcp' }] }),
      ).rejects.toMatchObject({ name: 'PortInUseError', grpcCode: 9, message: `host port 0.0.0.0:${busy}/tcp is already in use on the host` });
      expect(fs.existsSync(`/run/netns/berth-${id.slice(0, 12)}`)).toBe(false);
      expect(fx.provider.attachments()).toEqual([]);
      expect(linkExists(fx.bridge)).toBe(false);
      expect(iptablesMentions(id)).toEqual([]);
      expect(fs.existsSync(path.join(fx.stateDir, 'network/ipam/bridge'))).toBe(false);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('a host port published by another container is refused and nothing of the second container is left', async () => {
    const hostPort = await freePort();
    const [a, b] = [fx.newId(), fx.newId()];
    await fx.provider.setup({ containerId: a, name: 'a', hostname: 'a', network: 'bridge', ports: [{ hostPort, containerPort: 80, protocol: 'tcp' }] });
    await expect(
      fx.provider.setup({ containerId: b, name: 'b', hostname: 'b', network: 'bridge', ports: [{ hostPort, containerPort: 81, protocol: 'tcp' }] }),
    ).rejects.toMatchObject({ name: 'PortInUseError', message: `host port ${hostPort}:81/tcp is already published by another container` });
    expect(fx.provider.attachments().map((r) => r.containerId)).toEqual([a]);
    expect(fs.existsSync(`/run/netns/berth-${b.slice(0, 12)}`)).toBe(false);
  });

  it('bad mappings are INVALID_ARGUMENT naming the mapping', async () => {
    const id = fx.newId();
    const bad = [
      [{ hostPort: 70000, containerPort: 80, protocol: 'tcp' }, 'host port 70000 must be 0-65535 (0 picks a free one)'],
      [{ hostPort: 8080, containerPort: 0, protocol: 'tcp' }, 'container port 0 must be 1-65535'],
      [{ hostPort: 8080, containerPort: 80, protocol: 'sctp' }, 'port protocol "sctp" must be tcp or udp'],
      [{ hostIp: 'localhost', hostPort: 8080, containerPort: 80, protocol: 'tcp' }, 'host IP "localhost" is not an IPv4 address (IPv6 publishing is not supported)'],
    ] as const;
    for (const [port, message] of bad) {
      await expect(
        fx.provider.setup({ containerId: id, name: 'x', hostname: 'x', network: 'bridge', ports: [port as never] }),
      ).rejects.toMatchObject({ name: 'InvalidPortMappingError', grpcCode: 3, message });
    }
    expect(fx.provider.attachments()).toEqual([]);
  });
});
