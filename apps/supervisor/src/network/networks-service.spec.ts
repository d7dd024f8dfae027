// The Networks gRPC service over a real unix socket: statuses and messages a client sees.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { startGrpcServer, type RunningGrpcServer } from '@berth/service-kit';
import { networksV1 } from '@berth/api';

type CreateNetworkRequest = networksV1.CreateNetworkRequest;
type ListNetworksRequest = networksV1.ListNetworksRequest;
type ListNetworksResponse = networksV1.ListNetworksResponse;
type Network = networksV1.Network;
type NetworkRef = networksV1.NetworkRef;
const { NetworksClient } = networksV1;
type NetworksClient = networksV1.NetworksClient;
import { createNetworking } from './networking';

type Call<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown;

function call<Req, Res>(fn: Call<Req, Res>, client: NetworksClient, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn.call(client, req, (err, res) => (err ? reject(err) : resolve(res))));
}

describe('Networks service', () => {
  let dir: string;
  let server: RunningGrpcServer;
  let client: NetworksClient;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-netsvc-'));
    const net = createNetworking({ stateDir: dir, env: {}, defaultBridge: { bridge: 'btsvc0', subnet: '10.213.0.0/24' }, subnetPool: '10.214.0.0/16' });
    const log = pino({ level: 'silent' });
    const socketPath = path.join(dir, 's.sock');
    server = await startGrpcServer({ services: [net.networksServiceRegistration], log, socketPath });
    client = new NetworksClient('unix://' + socketPath, grpc.credentials.createInsecure());
  });
  afterEach(async () => {
    client.close();
    await server.shutdown(1000);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const create = (req: { name: string; subnet?: string; gateway?: string }) =>
    call<CreateNetworkRequest, Network>(client.create, client, { subnet: '', gateway: '', labels: {}, ...req });
  const inspect = (id: string) => call<NetworkRef, Network>(client.inspect, client, { id });
  const remove = (id: string) => call<NetworkRef, unknown>(client.remove, client, { id });

  it('creates, lists, inspects and removes a network', async () => {
    const made = await create({ name: 'app', subnet: '10.213.7.0/24' });
    expect(made).toMatchObject({ name: 'app', driver: 'bridge', subnet: '10.213.7.0/24', gateway: '10.213.7.1', predefined: false, containers: [] });
    expect(made.id).toMatch(/^[0-9a-f]{64}$/);
    expect(made.created).toBeInstanceOf(Date);
    const auto = await create({ name: 'auto' });
    expect(auto.subnet).toBe('10.214.0.0/24');
    const list = await call<ListNetworksRequest, ListNetworksResponse>(client.list, client, { nameContains: '' });
    expect(list.networks.map((n) => [n.name, n.driver, n.bridge, n.subnet, n.predefined])).toEqual([
      ['bridge', 'bridge', 'btsvc0', '10.213.0.0/24', true],
      ['host', 'host', '', '', true],
      ['none', 'null', '', '', true],
      ['app', 'bridge', made.bridge, '10.213.7.0/24', false],
      ['auto', 'bridge', auto.bridge, '10.214.0.0/24', false],
    ]);
    expect(await inspect(made.id.slice(0, 8))).toMatchObject({ name: 'app', containers: [] });
    await remove('app');
    await expect(inspect('app')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'network "app" not found' });
  });

  it('refuses bad input with a status that fits and a message naming the problem', async () => {
    await create({ name: 'app', subnet: '10.213.7.0/24' });
    const cases: [Promise<unknown>, grpc.status, string][] = [
      [create({ name: 'app', subnet: '10.213.8.0/24' }), grpc.status.ALREADY_EXISTS, 'network "app" already exists'],
      [create({ name: 'bridge' }), grpc.status.ALREADY_EXISTS, 'network "bridge" already exists'],
      [create({ name: 'other', subnet: '10.213.7.128/25' }), grpc.status.INVALID_ARGUMENT, 'subnet 10.213.7.128/25 overlaps subnet 10.213.7.0/24 of network "app"'],
      [create({ name: 'other', subnet: '10.213.0.0/16' }), grpc.status.INVALID_ARGUMENT, 'subnet 10.213.0.0/16 overlaps subnet 10.213.0.0/24 of network "bridge"'],
      [create({ name: 'other', subnet: '10.213.9.1/24' }), grpc.status.INVALID_ARGUMENT, 'subnet "10.213.9.1/24" has host bits set; did you mean 10.213.9.0/24?'],
      [create({ name: 'other', subnet: '10.213.9.0/24', gateway: '10.213.10.1' }), grpc.status.INVALID_ARGUMENT, 'gateway 10.213.10.1 is outside subnet 10.213.9.0/24'],
      [create({ name: 'bad name!' }), grpc.status.INVALID_ARGUMENT, 'network name "bad name!" must start with a letter or digit and have at most 63 letters, digits, "_", "." or "-"'],
      [create({ name: 'v6', subnet: 'fd00::/64' }), grpc.status.INVALID_ARGUMENT, 'subnet "fd00::/64" is not IPv4 CIDR like 10.89.1.0/24 (IPv6 is not supported)'],
      [inspect('nope'), grpc.status.NOT_FOUND, 'network "nope" not found'],
      [remove('nope'), grpc.status.NOT_FOUND, 'network "nope" not found'],
      [remove('bridge'), grpc.status.FAILED_PRECONDITION, 'network "bridge" is predefined and cannot be removed'],
    ];
    for (const [p, code, details] of cases) await expect(p).rejects.toMatchObject({ code, details });
    // Nothing half written: only "app" is on disk.
    expect(fs.readdirSync(path.join(dir, 'network/networks'))).toHaveLength(1);
  });
});
