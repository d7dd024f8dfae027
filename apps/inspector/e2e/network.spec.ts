// NetworkSettings, Ports and network stats against a container on a real CNI bridge with a published port.
// The supervisor's service main wires only the none/host provider for now, so this test serves the
// supervisor's own ContainerManager + CNI networking (apps/supervisor/src, its e2e network fixture: a private
// bridge and /24) over gRPC at <run>/supervisor.sock, where the inspector process looks for it. The
// image-store, rootfs and inspector are the real processes.
import * as http from 'node:http';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { networksV1, inspectorV1 } from '@berth/api';
import { EventBus } from '@berth/events';
import { createLogger, startGrpcServer, type RunningGrpcServer } from '@berth/service-kit';
import { busyboxImage, dockerArchive, freePort, importArchive, removeContainer, runContainer, startBerthStack, unaryCall, type BerthStack } from '@berth/testing';
import { ContainerIo } from '../../supervisor/src/container-io';
import { ContainerManager } from '../../supervisor/src/container-manager';
import { containersService } from '../../supervisor/src/grpc/containers-grpc';
import { makeFixture, type NetFixture } from '../../supervisor/e2e/network/fixture';
import { collect, inspect, leftovers, list } from './harness';

jest.setTimeout(120_000);

let stack: BerthStack;
let fx: NetFixture;
let mgr: ContainerManager;
let server: RunningGrpcServer;
let bus: EventBus;
let client: inspectorV1.InspectorClient;
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
  stack = await startBerthStack({ services: ['image-store', 'rootfs'] });
  await importArchive(stack.images, await dockerArchive([await busyboxImage('busybox:latest')]));
  fx = makeFixture();
  bus = await EventBus.connect({ url: stack.nats.url, source: 'supervisor', node: 'test' });
  const log = createLogger('supervisor', 'warn');
  mgr = await ContainerManager.open({ stateDir: fx.stateDir, runDir: path.join(fx.runDir, 'supervisor'), network: fx.provider, events: bus, log, pollIntervalMs: 500 });
  server = await startGrpcServer({ services: [containersService(mgr, new ContainerIo(mgr), log), fx.networksServiceRegistration], log, socketPath: path.join(stack.runDir, 'supervisor.sock') });
  const p = await stack.spawn('inspector');
  client = new inspectorV1.InspectorClient(p.target, grpc.credentials.createInsecure());
});

afterAll(async () => {
  for (const id of ids) await removeContainer(stack, id).catch(() => undefined);
  client?.close();
  await server?.shutdown(2000);
  await mgr?.close();
  await bus?.close();
  await fx?.cleanup();
  await stack?.stop();
  expect(leftovers(ids)).toEqual([]);
});

test('Inspect shows the container\'s address, bridge and published port; ps and stats follow', async () => {
  const hostPort = await freePort();
  const c = await runContainer(stack, {
    image: 'busybox', name: 'webnet',
    cmd: ['sh', '-c', 'mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 80 -h /www'],
    config: { exposedPorts: ['80/tcp'] },
    hostConfig: { networkMode: 'bridge', ports: [{ hostIp: '127.0.0.1', hostPort, containerPort: 80, protocol: 'tcp' }] },
  });
  ids.push(c.id);
  const d = await inspect(client, 'webnet');
  const ns = `berth-${c.id.slice(0, 12)}`;
  const addr = /inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(execFileSync('ip', ['-n', ns, '-4', 'addr', 'show', 'eth0'], { encoding: 'utf8' }))!;
  const mac = /link\/ether ([0-9a-f:]+)/.exec(execFileSync('ip', ['-n', ns, 'link', 'show', 'eth0'], { encoding: 'utf8' }))![1];
  const nets = await unaryCall<networksV1.ListNetworksResponse>(new networksV1.NetworksClient('unix://' + path.join(stack.runDir, 'supervisor.sock'), grpc.credentials.createInsecure()), 'list', { nameContains: '' });
  const bridgeNet = nets.networks.find((n) => n.name === 'bridge')!;

  expect(d.NetworkSettings).toMatchObject({
    Bridge: fx.bridge,
    SandboxKey: `/run/netns/${ns}`,
    IPAddress: addr[1],
    IPPrefixLen: Number(addr[2]),
    Gateway: `${fx.prefix}.1`,
    MacAddress: mac,
    Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] },
    Networks: { bridge: { IPAddress: addr[1], IPPrefixLen: Number(addr[2]), Gateway: `${fx.prefix}.1`, MacAddress: mac, NetworkID: bridgeNet.id } },
  });
  expect(d.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] });
  expect(d.NetworkSettings.IPAddress.startsWith(fx.prefix + '.')).toBe(true);
  expect((await list(client, { filters: ['name=webnet'] }))[0]!.ports).toEqual([`127.0.0.1:${hostPort}->80/tcp`]);

  // Traffic through the published port shows in the container's network counters.
  const one = async () => (await collect(client.stats({ ids: [c.id], stream: false })))[0]!.stats[0]!;
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
