// Networking through the real CLI: the default bridge (the test's own bridge and subnet), published ports
// answering HTTP from the host, inspect's NetworkSettings, user networks with names, --network none, a busy
// host port, and nothing left on the host after rm -f or an auto-remove (netns, veth, iptables, IPAM lease,
// snapshot).
import * as net from 'node:net';
import { Berth } from '@berth/client';
import { cleanContainers, startWorld, until, type World } from './harness';
import { NOTHING_LEFT, bridgePorts, claimBridge, freePort, httpGet, iptablesRules, leftoversOf, linkExists, removeBridge } from './network-host';

jest.setTimeout(90_000);

// This run's own bridge (bt-cliN) on 10.213.N.0/24, its user network on 10.213.N+1.0/24.
const claim = claimBridge('bt-cli');
const BRIDGE = claim.bridge;
const PREFIX = `10.213.${claim.third}`;
const USER_SUBNET = claim.userSubnet;
const USER_PREFIX = `10.213.${claim.third + 1}`;

let w: World;
let sdk: Berth;
const userBridges: string[] = [];

beforeAll(async () => {
  w = await startWorld({ serviceEnv: { BERTH_BRIDGE_NAME: BRIDGE, BERTH_BRIDGE_SUBNET: claim.subnet, BERTH_NETWORK_POOL: USER_SUBNET } });
  // As a person types it: no --network anywhere, so the supervisor's default (bridge) applies.
  delete w.env.BERTH_DEFAULT_NETWORK;
  sdk = new Berth({ env: w.env });
  expect((await w.berth(['load', '-i', w.archive])).code).toBe(0);
}, 60_000);

afterEach(() => cleanContainers(w));

afterAll(async () => {
  // A user network a failed test left behind goes before the services stop.
  if (sdk) for (const n of (await sdk.networks.list({ nameContains: '' }).catch(() => ({ networks: [] }))).networks) if (!n.predefined) await w.berth(['network', 'rm', n.name]);
  sdk?.close();
  await w?.teardown();
  for (const b of [BRIDGE, ...userBridges]) await removeBridge(b);
});

async function ok(args: string[]): Promise<string> {
  const r = await w.berth(args);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function ipOf(ref: string): Promise<string> {
  return (await ok(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', ref])).trim();
}

const HTTPD = ['busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www'];

describe('default bridge', () => {
  it('run -d -p HOSTPORT:80 (no --network): HTTP from the host on 127.0.0.1 and on the container IP; inspect and ps show it; rm -f leaves nothing', async () => {
    const port = await freePort();
    const id = (await ok(['run', '-d', '--name', 'web', '-p', `${port}:80`, ...HTTPD])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    const settings = JSON.parse(await ok(['inspect', '--format', '{{json .NetworkSettings}}', 'web'])) as Record<string, unknown> & {
      Networks: Record<string, Record<string, unknown>>;
    };
    const ip = settings.IPAddress as string;
    expect(ip).toMatch(new RegExp(`^${PREFIX.replace(/\./g, '\\.')}\\.\\d+$`));
    expect(settings).toMatchObject({
      Bridge: BRIDGE,
      Gateway: `${PREFIX}.1`,
      IPPrefixLen: 24,
      MacAddress: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/),
      // The namespace the runtime made with PID 1, named by it while it runs.
      SandboxKey: expect.stringMatching(/^\/proc\/\d+\/ns\/net$/),
      Ports: { '80/tcp': [{ HostIp: expect.any(String), HostPort: String(port) }] },
    });
    expect(settings.Networks.bridge).toMatchObject({ IPAddress: ip, Gateway: `${PREFIX}.1`, IPPrefixLen: 24, MacAddress: settings.MacAddress });
    expect((await ok(['inspect', '--format', '{{.HostConfig.NetworkMode}}', 'web'])).trim()).toBe('bridge');

    // httpd may need a moment after start to listen.
    const viaLoopback = await until(async () => {
      const r = await httpGet('127.0.0.1', port);
      return r.body !== undefined ? r : undefined;
    }, 10_000, 'httpd on 127.0.0.1');
    expect(viaLoopback).toEqual({ status: 200, body: 'hello from berth\n' });
    expect(await httpGet(ip, 80)).toEqual({ status: 200, body: 'hello from berth\n' });

    expect(await ok(['ps', '--format', '{{.Names}}\t{{.Ports}}'])).toBe(`web\t0.0.0.0:${port}->80/tcp\n`);
    expect(await ok(['port', 'web'])).toBe(`80/tcp -> 0.0.0.0:${port}\n`);
    expect(await ok(['port', 'web', '80'])).toBe(`0.0.0.0:${port}\n`);
    expect(await w.berth(['port', 'web', '81/udp'])).toEqual({ code: 1, stdout: '', stderr: "Error: no public port '81/udp' published for web\n" });
    const table = await ok(['ps']);
    expect(table.split('\n')[0]).toMatch(/PORTS/);
    expect(table).toContain(`0.0.0.0:${port}->80/tcp`);

    // While it runs the host has a veth on the bridge, its rules and its lease; its namespace is the
    // runtime's (nothing under /run/netns).
    const during = leftoversOf(w.root, id, ip);
    expect(during.netns).toEqual([]);
    expect(during.rules.some((r) => r.includes(`--dport ${port}`))).toBe(true);
    expect(during.leases.length).toBe(1);
    expect(bridgePorts(BRIDGE).length).toBe(1);

    expect(await ok(['rm', '-f', 'web'])).toBe('web\n');
    expect(leftoversOf(w.root, id, ip)).toEqual(NOTHING_LEFT);
    expect(bridgePorts(BRIDGE)).toEqual([]);
    expect((await httpGet('127.0.0.1', port, 1000)).error).toBeDefined();
  });

  it('run --rm in the foreground (no --network): eth0 on the bridge subnet, the exit code, then nothing left', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const r = await w.berth(['run', '--rm', 'busybox', 'sh', '-c', 'hostname; ip -o -4 addr show eth0; exit 3']);
    expect(r.code).toBe(3);
    const [id12, addr] = r.stdout.split('\n');
    expect(id12).toMatch(/^[0-9a-f]{12}$/);
    const ip = new RegExp(`inet (${PREFIX.replace(/\./g, '\\.')}\\.\\d+)/24`).exec(addr ?? '')?.[1];
    expect(ip).toBeDefined();
    expect((await sdk.containers.list({ all: true })).containers).toEqual([]);
    // The network teardown does not hold up the exit code; it completes right after.
    await until(() => JSON.stringify(leftoversOf(w.root, id12!, ip!)) === JSON.stringify(NOTHING_LEFT) && bridgePorts(BRIDGE).length === 0, 10_000, 'network teardown');
    // Both ends are events on NATS.
    const actions = await until(async () => {
      const ev = await ok(['events', '--since', since, '--until', new Date().toISOString(), '--filter', 'type=network', '--format', 'json']);
      const mine = ev.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string; Attributes: Record<string, string> } });
      const acts = mine.filter((e) => e.Actor.Attributes.container?.startsWith(id12!)).map((e) => `${e.Action} ${e.Actor.Attributes.name} ${e.Actor.ID}`);
      return acts.length === 2 ? acts : undefined;
    }, 10_000, 'network connect/disconnect events');
    // As docker: the network is the Actor, the container an attribute.
    const bridgeId = (await sdk.networks.list({ nameContains: '' })).networks.find((n) => n.name === 'bridge')!.id;
    expect(actions).toEqual([`connect bridge ${bridgeId}`, `disconnect bridge ${bridgeId}`]);
  });

  it('--add-host NAME:host-gateway names the bridge\'s gateway, which answers a ping', async () => {
    const r = await w.berth(['run', '--rm', '--add-host', 'gw:host-gateway', 'busybox', 'sh', '-c', 'grep -w gw /etc/hosts && ping -c1 -W2 gw >/dev/null && echo reached']);
    expect(r).toEqual({ code: 0, stdout: `${PREFIX}.1\tgw\nreached\n`, stderr: '' });
  });

  it('two containers on the default bridge ping each other by IP', async () => {
    await ok(['run', '-d', '--name', 'p1', 'busybox', 'sleep', '1000']);
    await ok(['run', '-d', '--name', 'p2', 'busybox', 'sleep', '1000']);
    const [ip1, ip2] = [await ipOf('p1'), await ipOf('p2')];
    expect(ip1).not.toBe(ip2);
    const a = await w.berth(['exec', 'p1', 'ping', '-c', '1', '-W', '2', ip2]);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('1 packets received');
    const b = await w.berth(['exec', 'p2', 'ping', '-c', '1', '-W', '2', ip1]);
    expect(b.code).toBe(0);
    // Each sees its own address on eth0.
    expect((await ok(['exec', 'p1', 'ip', '-o', '-4', 'addr', 'show', 'eth0']))).toContain(`${ip1}/24`);
  });

  it('-P publishes the exposed ports on free host ports; -p 127.0.0.1:HOSTPORT:80 is DNAT for that address only', async () => {
    await ok(['run', '-d', '--name', 'pub', '-P', '--expose', '80', ...HTTPD]);
    const ports = JSON.parse(await ok(['inspect', '--format', '{{json .NetworkSettings.Ports}}', 'pub'])) as Record<string, { HostPort: string }[]>;
    const hostPort = Number(ports['80/tcp']![0]!.HostPort);
    expect(hostPort).toBeGreaterThan(0);
    expect(await ok(['ps', '--format', '{{.Ports}}'])).toBe(`0.0.0.0:${hostPort}->80/tcp\n`);
    const r = await until(async () => {
      const g = await httpGet('127.0.0.1', hostPort);
      return g.body !== undefined ? g : undefined;
    }, 10_000, 'httpd on the -P port');
    expect(r.body).toBe('hello from berth\n');

    const port = await freePort();
    await ok(['run', '-d', '--name', 'local', '-p', `127.0.0.1:${port}:80`, ...HTTPD]);
    expect(await ok(['ps', '--filter', 'name=local', '--format', '{{.Ports}}'])).toBe(`127.0.0.1:${port}->80/tcp\n`);
    const l = await until(async () => {
      const g = await httpGet('127.0.0.1', port);
      return g.body !== undefined ? g : undefined;
    }, 10_000, 'httpd on 127.0.0.1 only');
    expect(l.body).toBe('hello from berth\n');
    const dnat = iptablesRules().filter((x) => x.includes(`--dport ${port}`) && x.includes('DNAT'));
    expect(dnat.length).toBeGreaterThan(0);
    for (const rule of dnat) expect(rule).toContain('-d 127.0.0.1/32');
  });
});

describe('user networks', () => {
  it('network create/ls/inspect; containers reach each other by name; rm refused while used, then works', async () => {
    const netId = (await ok(['network', 'create', '--subnet', USER_SUBNET, 'testnet'])).trim();
    expect(netId).toMatch(/^[0-9a-f]{64}$/);
    const dup = await w.berth(['network', 'create', '--subnet', `${USER_PREFIX}.128/25`, 'othernet']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toBe(`Error: subnet ${USER_PREFIX}.128/25 overlaps subnet ${USER_SUBNET} of network "testnet"\n`);

    const ls = await ok(['network', 'ls']);
    expect(ls).toMatch(new RegExp(`${netId.slice(0, 12)}\\s+testnet\\s+bridge\\s+${USER_SUBNET}`));
    expect(ls).toMatch(new RegExp(`\\sbridge\\s+bridge\\s+${claim.subnet}`));
    expect(ls).toMatch(/\snone\s+null/);

    await ok(['run', '-d', '--name', 'n1', '--network', 'testnet', 'busybox', 'sleep', '1000']);
    await ok(['run', '-d', '--name', 'n2', '--network', 'testnet', ...HTTPD]);
    const [ip1, ip2] = [await ipOf('n1'), await ipOf('n2')];
    expect(ip1.startsWith(`${USER_PREFIX}.`)).toBe(true);
    const [doc] = JSON.parse(await ok(['network', 'inspect', 'testnet'])) as { Id: string; IPAM: unknown; Options: Record<string, string>; Containers: Record<string, { Name: string; IPv4Address: string }> }[];
    expect(doc!.Id).toBe(netId);
    expect(doc!.IPAM).toEqual({ Driver: 'default', Config: [{ Subnet: USER_SUBNET, Gateway: `${USER_PREFIX}.1` }] });
    const bridge = doc!.Options['com.docker.network.bridge.name']!;
    userBridges.push(bridge);
    expect(linkExists(bridge)).toBe(true);
    expect(Object.values(doc!.Containers).map((c) => [c.Name, c.IPv4Address]).sort()).toEqual([['n1', `${ip1}/24`], ['n2', `${ip2}/24`]]);

    // n1 started first: its hosts file learnt n2 when n2 joined.
    const ping = await w.berth(['exec', 'n1', 'ping', '-c', '1', '-W', '2', 'n2']);
    expect(ping.code).toBe(0);
    expect(ping.stdout).toContain(`PING n2 (${ip2})`);
    // (busybox-static's wget crashes with -T; a refused connection ends it quickly anyway.)
    const get = await until(async () => {
      const r = await w.berth(['exec', 'n1', 'wget', '-qO-', 'http://n2/']);
      return r.code === 0 ? r : undefined;
    }, 10_000, 'wget http://n2/');
    expect(get.stdout).toBe('hello from berth\n');
    expect((await w.berth(['exec', 'n2', 'ping', '-c', '1', '-W', '2', 'n1'])).code).toBe(0);

    const refused = await w.berth(['network', 'rm', 'testnet']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^Error: network "testnet" has 2 attached container\(s\): .*n1.*; stop or disconnect them first\n$/);
    expect(await ok(['rm', '-f', 'n1', 'n2'])).toBe('n1\nn2\n');
    expect(await ok(['network', 'rm', 'testnet'])).toBe('testnet\n');
    expect(linkExists(bridge)).toBe(false);
    expect((await ok(['network', 'ls', '-q'])).split('\n').filter(Boolean)).not.toContain(netId.slice(0, 12));
    const gone = await w.berth(['network', 'inspect', 'testnet']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toBe('Error: network "testnet" not found\n');
  });

  it('network connect/disconnect: eth1 at once while running, again after a restart and at a later start; gone on disconnect; nothing left after rm', async () => {
    await ok(['network', 'create', '--subnet', USER_SUBNET, 'side']);
    const [doc] = JSON.parse(await ok(['network', 'inspect', 'side'])) as { Options: Record<string, string> }[];
    userBridges.push(doc!.Options['com.docker.network.bridge.name']!);
    await ok(['run', '-d', '--name', 'multi', 'busybox', 'sleep', '1000']);
    await ok(['run', '-d', '--name', 'peer', '--network', 'side', 'busybox', 'sleep', '1000']);
    expect(await ok(['network', 'connect', 'side', 'multi'])).toBe('');
    const sideIp = /inet (\S+)\/24/.exec(await ok(['exec', 'multi', 'ip', '-o', '-4', 'addr', 'show', 'eth1']))?.[1] ?? '';
    expect(sideIp.startsWith(`${USER_PREFIX}.`)).toBe(true);
    // By name on "side", both ways: the peer's hosts file learnt the newcomer.
    expect((await w.berth(['exec', 'multi', 'ping', '-c', '1', '-W', '2', 'peer'])).code).toBe(0);
    expect((await w.berth(['exec', 'peer', 'ping', '-c', '1', '-W', '2', 'multi'])).code).toBe(0);
    const nets = JSON.parse(await ok(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'multi'])) as Record<string, { IPAddress: string }>;
    expect(Object.keys(nets).sort()).toEqual(['bridge', 'side']);
    expect(nets.side!.IPAddress).toBe(sideIp);
    const again = await w.berth(['network', 'connect', 'side', 'multi']);
    expect(again).toEqual({ code: 1, stdout: '', stderr: 'Error: container multi is already on network side\n' });

    await ok(['restart', '-t', '0', 'multi']);
    expect(await ok(['exec', 'multi', 'ls', '/sys/class/net'])).toBe('eth0\neth1\nlo\n');
    expect(await ok(['network', 'disconnect', 'side', 'multi'])).toBe('');
    expect(await ok(['exec', 'multi', 'ls', '/sys/class/net'])).toBe('eth0\nlo\n');
    expect((await w.berth(['network', 'disconnect', 'side', 'multi'])).stderr).toBe('Error: container multi is not connected to network side\n');
    expect(await w.berth(['network', 'disconnect', '-f', 'side', 'multi'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await w.berth(['network', 'disconnect', 'bridge', 'multi'])).stderr).toMatch(/was created on network bridge/);

    await ok(['create', '--name', 'later', 'busybox', 'sleep', '1000']);
    await ok(['network', 'connect', 'side', 'later']);
    await ok(['start', 'later']);
    expect(await ok(['exec', 'later', 'ls', '/sys/class/net'])).toBe('eth0\neth1\nlo\n');
    const laterId = (await ok(['inspect', '--format', '{{.Id}}', 'later'])).trim();
    const laterIp = /inet (\S+)\/24/.exec(await ok(['exec', 'later', 'ip', '-o', '-4', 'addr', 'show', 'eth1']))?.[1] ?? '';
    expect(await ok(['rm', '-f', 'multi', 'peer', 'later'])).toBe('multi\npeer\nlater\n');
    await until(() => JSON.stringify(leftoversOf(w.root, laterId, laterIp)) === JSON.stringify(NOTHING_LEFT), 10_000, 'teardown of later');
    expect(await ok(['network', 'rm', 'side'])).toBe('side\n');

    await ok(['run', '-d', '--name', 'alone', '--network', 'none', 'busybox', 'sleep', '1000']);
    expect((await w.berth(['network', 'connect', 'bridge', 'alone'])).stderr).toBe('Error: container alone is on the none network: it cannot join others\n');
  });

  it('--network-alias and network connect --alias: peers on the user network resolve the extra names', async () => {
    await ok(['network', 'create', '--subnet', USER_SUBNET, 'aliased']);
    const [doc] = JSON.parse(await ok(['network', 'inspect', 'aliased'])) as { Options: Record<string, string> }[];
    userBridges.push(doc!.Options['com.docker.network.bridge.name']!);
    await ok(['run', '-d', '--name', 'dbsrv', '--network', 'aliased', '--network-alias', 'db', '--network-alias', 'primary.db', 'busybox', 'sleep', '1000']);
    await ok(['run', '-d', '--name', 'cache', 'busybox', 'sleep', '1000']);
    await ok(['network', 'connect', '--alias', 'kv', 'aliased', 'cache']);
    await ok(['run', '-d', '--name', 'client', '--network', 'aliased', 'busybox', 'sleep', '1000']);
    for (const name of ['db', 'primary.db', 'kv', 'cache']) expect((await w.berth(['exec', 'client', 'ping', '-c', '1', '-W', '2', name])).code).toBe(0);
    expect(JSON.parse(await ok(['inspect', '--format', '{{json .NetworkSettings.Networks.aliased.Aliases}}', 'dbsrv']))).toEqual(['db', 'primary.db']);
    expect(JSON.parse(await ok(['inspect', '--format', '{{json .NetworkSettings.Networks.aliased.Aliases}}', 'cache']))).toEqual(['kv']);
    // The default bridge has no name resolution: docker refuses aliases there.
    const bad = await w.berth(['run', '--rm', '--network-alias', 'x', 'busybox', 'true']);
    expect(bad).toEqual({ code: 125, stdout: '', stderr: 'Error: network-scoped aliases are only supported for user-defined networks, not bridge\n' });
    expect((await w.berth(['network', 'connect', '--alias', 'y', 'bridge', 'client'])).code).toBe(1);
    await ok(['rm', '-f', 'dbsrv', 'cache', 'client']);
    expect(await ok(['network', 'rm', 'aliased'])).toBe('aliased\n');
  });

  it('--ip, --mac-address and network connect --ip: the container has those addresses; a taken or foreign one is refused', async () => {
    await ok(['network', 'create', '--subnet', USER_SUBNET, 'pinned']);
    const [doc] = JSON.parse(await ok(['network', 'inspect', 'pinned'])) as { Options: Record<string, string> }[];
    userBridges.push(doc!.Options['com.docker.network.bridge.name']!);
    const ip = `${USER_PREFIX}.50`;
    await ok(['run', '-d', '--name', 'fixed', '--network', 'pinned', '--ip', ip, '--mac-address', '02:42:0a:d5:00:32', 'busybox', 'sleep', '1000']);
    expect(await ok(['exec', 'fixed', 'sh', '-c', 'ip -o -4 addr show eth0 | grep -o "inet [0-9.]*"; cat /sys/class/net/eth0/address'])).toBe(`inet ${ip}\n02:42:0a:d5:00:32\n`);
    expect(JSON.parse(await ok(['inspect', '--format', '{{json .NetworkSettings.Networks.pinned}}', 'fixed']))).toMatchObject({ IPAMConfig: { IPv4Address: ip }, IPAddress: ip, MacAddress: '02:42:0a:d5:00:32' });
    // The address stays the container's across a restart.
    await ok(['restart', '-t', '0', 'fixed']);
    expect(await ok(['inspect', '--format', '{{.NetworkSettings.Networks.pinned.IPAddress}}', 'fixed'])).toBe(`${ip}\n`);

    const taken = await w.berth(['run', '--rm', '--network', 'pinned', '--ip', ip, 'busybox', 'true']);
    expect(taken).toEqual({ code: 125, stdout: '', stderr: `Error: address ${ip} on network pinned is already in use by container fixed\n` });
    const outside = await w.berth(['create', '--network', 'pinned', '--ip', '192.168.250.9', 'busybox', 'true']);
    expect(outside.code).toBe(125);
    expect(outside.stderr).toMatch(/^Error: address 192\.168\.250\.9 is not a host address of network pinned/);
    expect((await w.berth(['run', '--rm', '--ip', `${PREFIX}.9`, 'busybox', 'true'])).stderr).toBe('Error: a user-specified IP address is supported on user-defined networks only, not bridge\n');
    expect((await w.berth(['run', '--rm', '--mac-address', '01:00:5e:00:00:01', 'busybox', 'true'])).stderr).toMatch(/^Error: MAC address 01:00:5e:00:00:01 is a multicast address/);
    expect((await sdk.containers.list({ all: true })).containers.map((c) => c.name)).toEqual(['fixed']);

    // connect --ip on a running container from the default bridge.
    await ok(['run', '-d', '--name', 'joiner', 'busybox', 'sleep', '1000']);
    await ok(['network', 'connect', '--ip', `${USER_PREFIX}.60`, 'pinned', 'joiner']);
    expect(await ok(['exec', 'joiner', 'sh', '-c', 'ip -o -4 addr show eth1 | grep -o "inet [0-9.]*"'])).toBe(`inet ${USER_PREFIX}.60\n`);
    expect((await w.berth(['exec', 'fixed', 'ping', '-c', '1', '-W', '2', `${USER_PREFIX}.60`])).code).toBe(0);
    expect((await w.berth(['network', 'connect', '--ip', ip, 'pinned', 'fixed'])).code).toBe(1);
    await ok(['rm', '-f', 'fixed', 'joiner']);
    expect(await ok(['network', 'rm', 'pinned'])).toBe('pinned\n');
  });

  it('an unknown network is refused with exit 125 and leaves nothing', async () => {
    const r = await w.berth(['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^Error: .*network "nosuchnet" not found.*\n$/);
    expect((await sdk.containers.list({ all: true })).containers).toEqual([]);
  });
});

describe('--network none / host', () => {
  it('none has only lo', async () => {
    const r = await w.berth(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']);
    expect(r).toEqual({ code: 0, stdout: 'lo\n', stderr: '' });
  });

  it('host shares the host\'s interfaces; -p there gets docker\'s warning', async () => {
    const r = await w.berth(['run', '--rm', '--network', 'host', '-p', '80:80', 'busybox', 'ls', '/sys/class/net']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('WARNING: Published ports are discarded when using host network mode\n');
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['lo', BRIDGE]));
  });
});

describe('a host port already in use', () => {
  it('held by a host process: exit 125, one clear line, nothing running or configured', async () => {
    const holder = net.createServer();
    const port = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as net.AddressInfo).port)));
    try {
      const r = await w.berth(['run', '-d', '--name', 'busy', '-p', `${port}:80`, ...HTTPD]);
      expect(r.code).toBe(125);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`Error: host port 0.0.0.0:${port}/tcp is already in use on the host\n`);
      // As docker: the container was created and stays, not started.
      const ctr = await sdk.containers.get({ id: 'busy' });
      expect(ctr.state?.status).toBe('created');
      expect(leftoversOf(w.root, ctr.id, '')).toEqual(NOTHING_LEFT);
      expect(bridgePorts(BRIDGE)).toEqual([]);

      // With --rm not even the container is left (nor its snapshot: cleanContainers checks).
      const rm = await w.berth(['run', '-d', '--rm', '-p', `${port}:80`, ...HTTPD]);
      expect(rm.code).toBe(125);
      expect(rm.stderr).toBe(`Error: host port 0.0.0.0:${port}/tcp is already in use on the host\n`);
      expect((await sdk.containers.list({ all: true })).containers.map((c) => c.name)).toEqual(['busy']);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('published by another container: exit 125, the first one keeps serving', async () => {
    const port = await freePort();
    await ok(['run', '-d', '--name', 'first', '-p', `${port}:80`, ...HTTPD]);
    const r = await w.berth(['run', '-d', '--rm', '--name', 'second', '-p', `${port}:80`, ...HTTPD]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`Error: host port ${port}:80/tcp is already published by another container\n`);
    expect((await sdk.containers.list({ all: true })).containers.map((c) => c.name)).toEqual(['first']);
    expect(bridgePorts(BRIDGE).length).toBe(1);
    const g = await until(async () => {
      const x = await httpGet('127.0.0.1', port);
      return x.body !== undefined ? x : undefined;
    }, 10_000, 'first httpd');
    expect(g.body).toBe('hello from berth\n');
  });
});

describe('auto-remove', () => {
  it('run -d --rm: once it exits the supervisor removes the container and rootfs its snapshot; nothing is left on the host', async () => {
    const id = (await ok(['run', '-d', '--rm', 'busybox', 'true'])).trim();
    await until(async () => !(await sdk.containers.list({ all: true })).containers.some((c) => c.id === id), 10_000, 'auto-remove of the container');
    await until(async () => !(await sdk.snapshots.list({ parent: '' })).snapshots.some((s) => s.labels['berth.container'] === id), 10_000, 'its snapshot removed');
    expect(leftoversOf(w.root, id, '')).toEqual(NOTHING_LEFT);
    expect(bridgePorts(BRIDGE)).toEqual([]);
    expect((await ok(['system', 'prune', '-f']))).toContain('0 orphan snapshots');
  });
});
