// The supervisor process with its CNI networking wired in: the default bridge gives a container an IP that the
// host reaches, Networks answers over the same socket, and delete leaves no netns.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { containersV1, networksV1 } from '@berth/api';
import { busyboxRootfsFixture, spawnService, startNatsServer, tempBerthDirs, waitHealthy, type NatsServerHandle, type RootfsFixture, type ServiceProcess } from '@berth/testing';
import { removeNetworkLeftovers } from '../../src/network';
import { config, hostConfig } from '../harness';

jest.setTimeout(90_000);

const BRIDGE = 'bt-wiring0';
const SUBNET = '10.213.91.0/24';

function unary<Res>(client: grpc.Client, method: string, req: unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: unknown, cb: (e: grpc.ServiceError | null, v: Res) => void) => void>)[method]!.call(client, req, (e, v) => (e ? reject(e) : resolve(v)));
  });
}

let nats: NatsServerHandle;
let dirs: ReturnType<typeof tempBerthDirs>;
let rootfs: RootfsFixture;
let svc: ServiceProcess;
let containers: containersV1.ContainersClient;
let networks: networksV1.NetworksClient;
const created: string[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  dirs = tempBerthDirs('berth-netwire-');
  rootfs = await busyboxRootfsFixture();
  svc = spawnService({
    service: 'supervisor',
    root: dirs.root,
    runDir: dirs.runDir,
    natsUrl: nats.url,
    env: { BERTH_BRIDGE_NAME: BRIDGE, BERTH_BRIDGE_SUBNET: SUBNET, BERTH_NETWORK_POOL: '10.213.192.0/18' },
  });
  await waitHealthy(svc);
  containers = new containersV1.ContainersClient(svc.target, grpc.credentials.createInsecure());
  networks = new networksV1.NetworksClient(svc.target, grpc.credentials.createInsecure());
});

afterAll(async () => {
  // Whatever a failed assertion left running goes through the supervisor's own teardown (netns, CNI DEL, mounts).
  for (const id of created) await unary(containers, 'delete', { id, force: true }).catch(() => undefined);
  containers?.close();
  networks?.close();
  await svc?.stop();
  await removeNetworkLeftovers(BRIDGE);
  await nats?.dispose();
  rootfs?.cleanup();
  dirs?.cleanup();
});

it('runs a container on the default bridge and serves Networks on the same socket', async () => {
  const list = await unary<networksV1.ListNetworksResponse>(networks, 'list', networksV1.ListNetworksRequest.fromPartial({}));
  expect(list.networks.map((n) => n.name).sort()).toEqual(['bridge', 'host', 'none']);
  expect(list.networks.find((n) => n.name === 'bridge')).toMatchObject({ bridge: BRIDGE, subnet: SUBNET, predefined: true });

  const c = await unary<containersV1.Container>(containers, 'create', {
    name: 'wired', id: '', snapshotKey: '', config: config(['sleep', '1000']), hostConfig: hostConfig({ networkMode: 'bridge', init: true }), rootfs: rootfs.newRootfs(),
  });
  created.push(c.id);
  await unary(containers, 'start', { id: c.id });
  const got = await unary<containersV1.Container>(containers, 'get', { id: c.id });
  const net = got.networks[0]!;
  expect(net).toMatchObject({ network: 'bridge', bridge: BRIDGE, ipPrefixLen: 24, gateway: '10.213.91.1' });
  expect(net.ipAddress).toMatch(/^10\.213\.91\.\d+$/);
  // The namespace the runtime made with PID 1, the bridge's veth plugged into it between create and start.
  expect(got.sandboxKey).toBe(`/proc/${got.state!.pid}/ns/net`);
  expect(fs.readlinkSync(got.sandboxKey)).not.toBe(fs.readlinkSync('/proc/self/ns/net'));
  // The host reaches the container's own address on the bridge the test made.
  execFileSync('/bin/busybox', ['ping', '-c', '1', '-W', '2', net.ipAddress]);
  const hosts = fs.readFileSync(got.hostsPath, 'utf8');
  expect(hosts).toContain(`${net.ipAddress}\t${got.config!.hostname}`);

  const inspected = await unary<networksV1.Network>(networks, 'inspect', { id: 'bridge' });
  expect(inspected.containers.map((e) => e.containerId)).toEqual([c.id]);

  await unary(containers, 'delete', { id: c.id, force: true });
  expect(fs.existsSync(got.sandboxKey)).toBe(false);
  const after = await unary<networksV1.Network>(networks, 'inspect', { id: 'bridge' });
  expect(after.containers).toEqual([]);
});
