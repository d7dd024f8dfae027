// NetworkSettings, Ports and network stats against a container on a real CNI bridge with a published port,
// through the real image-store, rootfs, supervisor (CNI networking) and inspector processes. The default
// bridge is a private one (name and /24 of this test), never a user's berth0.
import * as http from 'node:http';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { networksV1 } from '@berth/api';
import { freePort, removeContainer, runContainer, unaryCall } from '@berth/testing';
import { removeNetworkLeftovers } from '../../supervisor/src/network/host-cleanup';
import { collect, inspect, leftovers, list, startInspectorStack, type InspectorStack } from './harness';

jest.setTimeout(120_000);

const BRIDGE = 'bt-insp0';
const PREFIX = '10.213.94';

let s: InspectorStack;
const ids: string[] = [];

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

beforeAll(async () => {
  s = await startInspectorStack({ BERTH_BRIDGE_NAME: BRIDGE, BERTH_BRIDGE_SUBNET: `${PREFIX}.0/24`, BERTH_NETWORK_POOL: '10.213.64.0/20' });
});

afterAll(async () => {
  for (const id of ids) await removeContainer(s.stack, id).catch(() => undefined);
  s?.client?.close();
  await s?.stack.stop();
  await removeNetworkLeftovers(BRIDGE);
  expect(leftovers(ids)).toEqual([]);
});

test('Inspect shows the container\'s address, bridge and published port; ps and stats follow', async () => {
  const hostPort = await freePort();
  const c = await runContainer(s.stack, {
    image: 'busybox', name: 'webnet',
    cmd: ['sh', '-c', 'mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 80 -h /www'],
    config: { exposedPorts: ['80/tcp'] },
    hostConfig: { networkMode: 'bridge', ports: [{ hostIp: '127.0.0.1', hostPort, containerPort: 80, protocol: 'tcp' }] },
  });
  ids.push(c.id);
  const d = await inspect(s.client, 'webnet');
  // The namespace the runtime made with PID 1 (the bridge's veth was plugged into it before the start).
  const pid = d.State.Pid as number;
  const inNs = (args: string[]) => execFileSync('nsenter', ['-t', String(pid), '-n', 'ip', ...args], { encoding: 'utf8' });
  const addr = /inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(inNs(['-4', 'addr', 'show', 'eth0']))!;
  const mac = /link\/ether ([0-9a-f:]+)/.exec(inNs(['link', 'show', 'eth0']))![1];
  const networks = new networksV1.NetworksClient('unix://' + path.join(s.stack.runDir, 'supervisor.sock'), grpc.credentials.createInsecure());
  const nets = await unaryCall<networksV1.ListNetworksResponse>(networks, 'list', { nameContains: '' });
  networks.close();
  const bridgeNet = nets.networks.find((n) => n.name === 'bridge')!;

  expect(addr[1]!.startsWith(PREFIX + '.')).toBe(true);
  expect(d.NetworkSettings).toMatchObject({
    Bridge: BRIDGE,
    SandboxKey: `/proc/${pid}/ns/net`,
    IPAddress: addr[1],
    IPPrefixLen: Number(addr[2]),
    Gateway: `${PREFIX}.1`,
    MacAddress: mac,
    Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] },
    Networks: { bridge: { IPAddress: addr[1], IPPrefixLen: Number(addr[2]), Gateway: `${PREFIX}.1`, MacAddress: mac, NetworkID: bridgeNet.id } },
  });
  expect(d.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] });
  expect((await list(s.client, { filters: ['name=webnet'] }))[0]!.ports).toEqual([`127.0.0.1:${hostPort}->80/tcp`]);

  // Traffic through the published port shows in the container's network counters.
  const one = async () => (await collect(s.client.stats({ ids: [c.id], stream: false })))[0]!.stats[0]!;
  const before = await one();
  let body = '';
  for (let i = 0; i < 50 && !body; i++) {
    body = await get(hostPort).catch(() => '');
    if (!body) await new Promise((r) => setTimeout(r, 100));
  }
  expect(body).toBe('served\n');
  for (let i = 0; i < 3; i++) await get(hostPort);
  const after = await one();
  expect(after.netRx).toBeGreaterThan(before.netRx);
  expect(after.netTx).toBeGreaterThan(before.netTx + 4 * 'served\n'.length);
});
