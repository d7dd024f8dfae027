// A bridge network plugged into a namespace the runtime made (the supervisor's path since crun creates the
// container's namespace): setup() only reserves, connect() runs the ADD into /proc/<pid>/ns/net, teardown
// releases everything without entering a namespace that may be gone (or whose pid names another process).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { makeFixture, iptablesMentions, linkExists, sh, type NetFixture } from './fixture';

jest.setTimeout(60_000);

let fx: NetFixture;
const children: ChildProcess[] = [];
beforeEach(() => {
  fx = makeFixture();
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    }
  }
  await fx.cleanup();
});

/** A process in a network namespace of its own, as PID 1 waiting between the runtime's create and start. */
function sandbox(): ChildProcess {
  const c = spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

async function netnsOf(c: ChildProcess): Promise<string> {
  const mine = fs.readlinkSync('/proc/self/ns/net');
  for (let i = 0; i < 100; i++) {
    // unshare execs sleep once the namespace is made.
    if (fs.readlinkSync(`/proc/${c.pid}/ns/net`) !== mine) return `/proc/${c.pid}/ns/net`;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('unshare made no namespace');
}

const leases = (fx: NetFixture) => (fs.existsSync(`${fx.stateDir}/network/ipam/bridge`) ? fs.readdirSync(`${fx.stateDir}/network/ipam/bridge`).filter((f) => f.startsWith('10.')) : []);

it('setup reserves without touching a namespace; connect plugs the runtime\'s in; teardown leaves nothing', async () => {
  const id = fx.newId();
  const port = { hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' as const };
  const reserved = await fx.provider.setup({ containerId: id, name: 'r', hostname: 'r', network: 'bridge', ports: [port], runtimeNetns: true });
  expect(reserved).toMatchObject({ newNetns: true, pendingConnect: true, attachments: [] });
  expect(reserved.netnsPath).toBeUndefined();
  expect(reserved.ports[0]!.hostPort).toBeGreaterThan(0);
  expect(fs.existsSync(`/run/netns/berth-${id.slice(0, 12)}`)).toBe(false);
  expect(leases(fx)).toEqual([]);
  // Not ready yet: no setupFor, and the port is held against a second container.
  expect(fx.provider.setupFor(id)).toBeUndefined();
  await expect(fx.provider.setup({ containerId: fx.newId(), name: 'o', hostname: 'o', network: 'bridge', ports: [{ ...port, hostPort: reserved.ports[0]!.hostPort }], runtimeNetns: true }))
    .rejects.toMatchObject({ name: 'PortInUseError' });

  const box = sandbox();
  const ns = await netnsOf(box);
  const full = await fx.provider.connect(id, ns);
  expect(full.pendingConnect).toBeUndefined();
  const ip = full.attachments[0]!.ipAddress;
  expect(ip.startsWith(`${fx.prefix}.`)).toBe(true);
  expect(sh('nsenter', [`--net=${ns}`, 'ip', '-4', '-o', 'addr', 'show', 'eth0'])).toContain(`${ip}/24`);
  expect(fx.provider.setupFor(id)).toEqual(full);
  expect(leases(fx)).toEqual([ip]);
  expect(iptablesMentions(id).length).toBeGreaterThanOrEqual(1);
  await expect(fx.provider.connect(id, ns)).rejects.toMatchObject({ name: 'NotConnectableError', grpcCode: 9 });

  // PID 1 dies: the namespace and the veth with it; teardown releases the lease and portmap's rules.
  const gone = new Promise((r) => box.once('exit', r));
  box.kill('SIGKILL');
  await gone;
  await fx.provider.teardown(id);
  expect(leases(fx)).toEqual([]);
  expect(iptablesMentions(id)).toEqual([]);
  expect(fx.provider.attachments()).toEqual([]);
  for (let i = 0; i < 100 && sh('ip', ['-o', 'link', 'show', 'master', fx.bridge]).trim(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(sh('ip', ['-o', 'link', 'show', 'master', fx.bridge]).trim()).toBe('');
});

it('a plugin failing in connect is a typed error and the reservation is undone', async () => {
  sh('ip', ['link', 'add', fx.bridge, 'type', 'veth', 'peer', 'name', `${fx.bridge}p`]);
  try {
    const id = fx.newId();
    await fx.provider.setup({ containerId: id, name: 'f', hostname: 'f', network: 'bridge', ports: [], runtimeNetns: true });
    const box = sandbox();
    await expect(fx.provider.connect(id, await netnsOf(box))).rejects.toMatchObject({ name: 'CniPluginError', plugin: 'bridge', command: 'ADD' });
    expect(fx.provider.attachments()).toEqual([]);
    expect(leases(fx)).toEqual([]);
    expect(iptablesMentions(id)).toEqual([]);
  } finally {
    sh('ip', ['link', 'del', fx.bridge]);
  }
  expect(linkExists(fx.bridge)).toBe(false);
});
