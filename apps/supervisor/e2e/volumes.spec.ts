// Volumes end to end: the supervisor as a process (gRPC Containers + Volumes), real containers under crun,
// events on a real NATS. Named volumes carry data between containers, :ro refuses writes, copy-up fills a
// new volume from the image (never from the host through a symlinked VOLUME path), anonymous volumes go
// with rm -v and --rm, volumes in use are kept, tmpfs mounts get the asked size.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { containersV1, volumesV1 } from '@berth/api';

type Volume = volumesV1.Volume;
const { VolumesClient } = volumesV1;
type VolumesClient = volumesV1.VolumesClient;
import { EventBus, type Envelope } from '@berth/events';
import {
  buildImage, busyboxRootfsFixture, spawnService, startNatsServer, tempBerthDirs, waitHealthy,
  type NatsServerHandle, type RootfsFixture, type ServiceProcess,
} from '@berth/testing';
import { config, hostConfig, leftovers, until } from './harness';

jest.setTimeout(120_000);

type AnyClient = containersV1.ContainersClient | VolumesClient;

function call<Res>(c: AnyClient, method: string, req: unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    (c as unknown as Record<string, (r: unknown, cb: (e: grpc.ServiceError | null, v: Res) => void) => void>)[method]!.call(c, req, (e, v) => (e ? reject(e) : resolve(v)));
  });
}

let nats: NatsServerHandle;
let dirs: ReturnType<typeof tempBerthDirs>;
let rootfs: RootfsFixture;
let svc: ServiceProcess;
let ctrs: containersV1.ContainersClient;
let vols: VolumesClient;
let bus: EventBus;
let out: string;
let work: string;
const events: Envelope[] = [];
const made: string[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  dirs = tempBerthDirs('berth-supvol-');
  rootfs = await busyboxRootfsFixture();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-volwork-'));
  out = path.join(work, 'out');
  fs.mkdirSync(out);
  bus = await EventBus.connect({ url: nats.url, source: 'test', node: 'test' });
  bus.subscribe('>', (ev) => events.push(ev));
  svc = spawnService({ service: 'supervisor', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
  await waitHealthy(svc);
  ctrs = new containersV1.ContainersClient(svc.target, grpc.credentials.createInsecure());
  vols = new VolumesClient(svc.target, grpc.credentials.createInsecure());
});

afterAll(async () => {
  const left = await call<containersV1.ListContainersResponse>(ctrs, 'list', { all: true }).catch(() => undefined);
  for (const c of left?.containers ?? []) await call(ctrs, 'delete', { id: c.id, force: true, removeVolumes: true }).catch(() => undefined);
  ctrs?.close();
  vols?.close();
  await svc?.stop();
  await bus?.close();
  await nats?.dispose();
  const residue = dirs ? leftovers(`${dirs.runDir}/supervisor`, made) : [];
  rootfs?.cleanup();
  dirs?.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
  for (const c of ['memory', 'pids', 'cpu', 'systemd', 'unified']) {
    try {
      fs.rmdirSync(`/sys/fs/cgroup/${c}/berth-conmon`);
    } catch {
      // absent, or in use by another supervisor's conmon
    }
  }
  expect(residue).toEqual([]);
});

const mount = (over: Partial<containersV1.VolumeMount>) => containersV1.VolumeMount.fromPartial(over);
const volumeDir = (name: string) => path.join(dirs.root, 'supervisor', 'volumes', name);

/** An image's layers extracted into a lower dir, over busybox: its overlay rootfs spec. */
async function imageRootfs(entries: Parameters<typeof buildImage>[0]['layers'][0]): Promise<() => containersV1.CreateContainerRequest['rootfs']> {
  const img = await buildImage({ name: 'vol-test:latest', layers: [entries] });
  const lower = fs.mkdtempSync(path.join(work, 'lower-'));
  const tarFile = path.join(work, 'layer.tar');
  fs.writeFileSync(tarFile, img.layers[0]!.tar);
  // Numeric owners: the test tar names every owner "root", which tar would map back to 0.
  execFileSync('tar', ['-x', '--same-owner', '--numeric-owner', '-f', tarFile, '-C', lower]);
  fs.rmSync(tarFile);
  return () => {
    const base = rootfs.newRootfs()[0]!;
    const opts = base.options.map((o) => (o.startsWith('lowerdir=') ? `lowerdir=${lower}:${o.slice('lowerdir='.length)}` : o));
    return [{ ...base, options: opts }];
  };
}

async function create(args: string[], mounts: containersV1.VolumeMount[], o: { cfg?: Partial<containersV1.ContainerConfig>; hc?: Partial<containersV1.HostConfig>;
  rootfs?: () => containersV1.CreateContainerRequest['rootfs']; name?: string } = {}): Promise<containersV1.Container> {
  const c = await call<containersV1.Container>(ctrs, 'create', {
    name: o.name ?? '', id: '', snapshotKey: '', config: config(args, o.cfg), rootfs: (o.rootfs ?? (() => rootfs.newRootfs()))(),
    hostConfig: hostConfig({ ...o.hc, volumes: [mount({ source: out, destination: '/out' }), ...mounts] }),
  });
  made.push(c.id);
  return c;
}

/** Creates, starts and waits; returns the exit code. */
async function run(args: string[], mounts: containersV1.VolumeMount[], o: Parameters<typeof create>[2] = {}): Promise<{ code: number; ctr: containersV1.Container }> {
  const ctr = await create(args, mounts, o);
  await call(ctrs, 'start', { id: ctr.id });
  const w = await call<containersV1.WaitContainerResponse>(ctrs, 'wait', { id: ctr.id, condition: 'not-running' });
  return { code: w.exitCode, ctr };
}

it('carries data between containers through a named volume, refuses writes with :ro, keeps a volume in use', async () => {
  const a = await run(['sh', '-c', 'echo hi > /d/f'], [mount({ source: 'data', destination: '/d' })]);
  expect(a.code).toBe(0);
  // The record names the volume, made on first use (not anonymous).
  expect(a.ctr.hostConfig!.volumes[1]).toMatchObject({ type: 'volume', source: 'data', destination: '/d', anonymous: false, volumePath: path.join(volumeDir('data'), '_data') });
  const v = await call<Volume>(vols, 'inspect', { name: 'data' });
  expect(v).toMatchObject({ name: 'data', driver: 'local', anonymous: false, mountpoint: path.join(volumeDir('data'), '_data'), containers: [a.ctr.id] });
  expect(fs.readFileSync(path.join(v.mountpoint, 'f'), 'utf8')).toBe('hi\n');

  const b = await run(['sh', '-c', 'cat /d/f > /out/read'], [mount({ source: 'data', destination: '/d' })]);
  expect(b.code).toBe(0);
  expect(fs.readFileSync(path.join(out, 'read'), 'utf8')).toBe('hi\n');

  const ro = await run(['sh', '-c', 'exec 2> /out/ro-err; echo x > /d/g'], [mount({ source: 'data', destination: '/d', readOnly: true })]);
  expect(ro.code).not.toBe(0);
  expect(fs.readFileSync(path.join(out, 'ro-err'), 'utf8')).toMatch(/Read-only file system/);
  expect(fs.existsSync(path.join(v.mountpoint, 'g'))).toBe(false);

  // Used by (stopped) containers: refused, naming them, data still there.
  const refused = await call(vols, 'remove', { name: 'data', force: false }).catch((e: grpc.ServiceError) => e);
  expect(refused).toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
  expect((refused as grpc.ServiceError).details).toContain(a.ctr.id.slice(0, 12));
  expect(fs.readFileSync(path.join(v.mountpoint, 'f'), 'utf8')).toBe('hi\n');
  const used = await call<{ volumes: Volume[] }>(vols, 'list', { dangling: 'false', names: [], labels: [] });
  expect(used.volumes.map((x) => x.name)).toEqual(['data']);

  // Removing the containers (rm -v) keeps the named volume.
  for (const c of [a.ctr, b.ctr, ro.ctr]) await call(ctrs, 'delete', { id: c.id, force: false, removeVolumes: true });
  expect(fs.readFileSync(path.join(v.mountpoint, 'f'), 'utf8')).toBe('hi\n');
  const dangling = await call<{ volumes: Volume[] }>(vols, 'list', { dangling: 'true', names: [], labels: [] });
  expect(dangling.volumes.map((x) => x.name)).toEqual(['data']);
  await call(vols, 'remove', { name: 'data', force: false });
  expect(fs.existsSync(volumeDir('data'))).toBe(false);

  // In order on NATS: made, mounted and unmounted per run, destroyed.
  await until(() => events.some((e) => e.subjectId === 'data' && e.topic === 'volume.destroy'), 10_000, 'volume.destroy');
  const seq = events.filter((e) => e.subjectId === 'data');
  expect(seq.map((e) => e.topic)).toEqual(['volume.create', ...Array(3).fill(['volume.mount', 'volume.unmount']).flat(), 'volume.destroy']);
  expect(seq[1]!.attributes).toMatchObject({ driver: 'local', container: a.ctr.id, destination: '/d', 'read/write': 'true' });
  expect(seq[1]!.body).toEqual({ $case: 'volume', value: { name: 'data', driver: 'local', containerId: a.ctr.id, destination: '/d', readOnly: false } });
  expect(seq[5]!.attributes['read/write']).toBe('false');
  // The volume is made before the container that asked for it.
  const createdAt = events.findIndex((e) => e.subjectId === a.ctr.id && e.topic === 'container.create');
  expect(events.findIndex((e) => e.subjectId === 'data')).toBeLessThan(createdAt);
});

it('copies the image content into a new volume (owners, modes, links), not into a non-empty one', async () => {
  const image = await imageRootfs([
    { type: 'dir', path: 'srv/', mode: 0o755 },
    { type: 'dir', path: 'srv/app/', mode: 0o750, uid: 1000, gid: 1001 },
    { type: 'file', path: 'srv/app/conf', content: 'from-image\n', mode: 0o640, uid: 1000, gid: 1001 },
    { type: 'symlink', path: 'srv/app/link', target: 'conf' },
    { type: 'hardlink', path: 'srv/app/hard', target: 'srv/app/conf' },
  ]);
  // Image VOLUME path, no mount asked: an anonymous volume, filled from the image.
  const a = await run(['true'], [], { rootfs: image, cfg: { volumes: ['/srv/app'] } });
  expect(a.code).toBe(0);
  const anon = a.ctr.hostConfig!.volumes.find((m) => m.destination === '/srv/app')!;
  expect(anon).toMatchObject({ type: 'volume', anonymous: true, fromImage: true });
  expect(anon.source).toMatch(/^[0-9a-f]{64}$/);
  const data = path.join(volumeDir(anon.source), '_data');
  expect(fs.readFileSync(path.join(data, 'conf'), 'utf8')).toBe('from-image\n');
  const st = fs.statSync(path.join(data, 'conf'));
  expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([1000, 1001, 0o640]);
  const root = fs.statSync(data);
  expect([root.uid, root.gid, root.mode & 0o7777]).toEqual([1000, 1001, 0o750]);
  expect(fs.readlinkSync(path.join(data, 'link'))).toBe('conf');
  expect(fs.statSync(path.join(data, 'hard')).ino).toBe(st.ino);

  // A named volume, new: filled; then non-empty: left alone. volume-nocopy: nothing copied.
  const b = await run(['sh', '-c', 'echo mine > /srv/app/conf'], [mount({ source: 'appdata', destination: '/srv/app' })], { rootfs: image });
  expect(b.code).toBe(0);
  const named = path.join(volumeDir('appdata'), '_data');
  expect(fs.readFileSync(path.join(named, 'conf'), 'utf8')).toBe('mine\n');
  fs.rmSync(path.join(named, 'link'));
  const c = await run(['true'], [mount({ source: 'appdata', destination: '/srv/app' })], { rootfs: image });
  expect(c.code).toBe(0);
  expect(fs.readdirSync(named).sort()).toEqual(['conf', 'hard']);
  expect(fs.readFileSync(path.join(named, 'conf'), 'utf8')).toBe('mine\n');
  const d = await run(['true'], [mount({ source: 'nocopy', destination: '/srv/app', noCopy: true })], { rootfs: image });
  expect(d.code).toBe(0);
  expect(fs.readdirSync(path.join(volumeDir('nocopy'), '_data'))).toEqual([]);

  // rm -v takes the anonymous volume, never the named ones.
  await call(ctrs, 'delete', { id: a.ctr.id, force: false, removeVolumes: true });
  expect(fs.existsSync(volumeDir(anon.source))).toBe(false);
  for (const x of [b, c, d]) await call(ctrs, 'delete', { id: x.ctr.id, force: false, removeVolumes: true });
  expect(fs.existsSync(named)).toBe(true);
  for (const n of ['appdata', 'nocopy']) await call(vols, 'remove', { name: n, force: false });
});

it('resolves a symlinked VOLUME path inside the rootfs: no host file is copied', async () => {
  // A host directory the links would reach if resolved on the host.
  const secretDir = fs.mkdtempSync('/tmp/berth-host-secret-');
  fs.writeFileSync(path.join(secretDir, 'secret'), 'host only\n');
  const rel = '../'.repeat(12) + secretDir.slice(1);
  try {
    const image = await imageRootfs([
      { type: 'symlink', path: 'abs', target: secretDir },
      { type: 'symlink', path: 'rel', target: rel },
      { type: 'dir', path: 'deep/', mode: 0o755 },
      { type: 'symlink', path: 'deep/up', target: '../../../../..' },
    ]);
    const r = await run(['true'], [], { rootfs: image, cfg: { volumes: ['/abs', '/rel', '/deep/up/etc'] } });
    expect(r.code).toBe(0);
    const names = Object.fromEntries(r.ctr.hostConfig!.volumes.filter((m) => m.fromImage).map((m) => [m.destination, m.source]));
    // The two links lead to a path missing in the image: nothing copied.
    for (const dst of ['/abs', '/rel']) expect(fs.readdirSync(path.join(volumeDir(names[dst]!), '_data'))).toEqual([]);
    // "../../../../../etc" stops at the rootfs root: the image's /etc, not the host's.
    const etc = fs.readdirSync(path.join(volumeDir(names['/deep/up/etc']!), '_data')).sort();
    expect(etc).toEqual(fs.readdirSync(path.join(rootfs.lowerDir, 'etc')).sort());
    expect(etc).not.toContain('os-release');
    await call(ctrs, 'delete', { id: r.ctr.id, force: false, removeVolumes: true });
    for (const n of Object.values(names)) expect(fs.existsSync(volumeDir(n))).toBe(false);
  } finally {
    fs.rmSync(secretDir, { recursive: true, force: true });
  }
});

it('removes anonymous volumes with auto-remove, keeps named ones; prune; NOT_FOUND and INVALID_ARGUMENT', async () => {
  const r = await run(['sh', '-c', 'echo a > /anon/f; echo n > /named/f'], [mount({ source: '', destination: '/anon' }), mount({ source: 'kept', destination: '/named' })], { hc: { autoRemove: true } });
  expect(r.code).toBe(0);
  const anon = r.ctr.hostConfig!.volumes.find((m) => m.destination === '/anon')!.source;
  await until(() => events.some((e) => e.subjectId === anon && e.topic === 'volume.destroy'), 10_000, 'the anonymous volume to go with --rm');
  expect(fs.existsSync(volumeDir(anon))).toBe(false);
  expect(fs.readFileSync(path.join(volumeDir('kept'), '_data', 'f'), 'utf8')).toBe('n\n');

  // Prune: anonymous unused ones by default, named too with all; a used one stays.
  const lone = await call<Volume>(vols, 'create', { name: '', driver: '', labels: { tier: 'x' }, driverOpts: {} });
  expect(lone.anonymous).toBe(true);
  const again = await call<Volume>(vols, 'create', { name: 'kept', driver: 'local', labels: {}, driverOpts: {} });
  expect(again.createdAt).toEqual((await call<Volume>(vols, 'inspect', { name: 'kept' })).createdAt);
  const user = await create(['true'], [mount({ source: 'busy', destination: '/b' })]);
  fs.writeFileSync(path.join(volumeDir(lone.name), '_data', 'blob'), Buffer.alloc(5000));
  const p1 = await call<{ volumesDeleted: string[]; spaceReclaimed: number }>(vols, 'prune', { all: false, labels: [] });
  expect(p1.volumesDeleted).toEqual([lone.name]);
  expect(p1.spaceReclaimed).toBe(5000);
  const p2 = await call<{ volumesDeleted: string[] }>(vols, 'prune', { all: true, labels: [] });
  expect(p2.volumesDeleted).toEqual(['kept']);
  expect(fs.existsSync(volumeDir('busy'))).toBe(true);
  await call(ctrs, 'delete', { id: user.id, force: false, removeVolumes: true });
  await call(vols, 'remove', { name: 'busy', force: false });

  await expect(call(vols, 'inspect', { name: 'nope' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  await expect(call(vols, 'remove', { name: 'nope', force: false })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  await call(vols, 'remove', { name: 'nope', force: true });
  await expect(call(vols, 'create', { name: 'bad/name', driver: '', labels: {}, driverOpts: {} })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  await expect(call(vols, 'create', { name: 'x1', driver: 'nfs', labels: {}, driverOpts: {} })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  // A bad mount leaves nothing: no container, and the volume it would have made is not there.
  const before = (await call<containersV1.ListContainersResponse>(ctrs, 'list', { all: true })).containers.length;
  await expect(create(['true'], [mount({ source: 'fresh', destination: '/f' }), mount({ source: '..', destination: '/g' })]))
    .rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  await expect(create(['true'], [mount({ source: 'fresh', destination: '/f' }), mount({ type: 'tmpfs', destination: '/f' })]))
    .rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  expect((await call<containersV1.ListContainersResponse>(ctrs, 'list', { all: true })).containers.length).toBe(before);
  expect(fs.existsSync(volumeDir('fresh'))).toBe(false);
  expect(fs.readdirSync(path.join(dirs.root, 'supervisor', 'volumes'))).toEqual([]);
});

it('mounts tmpfs with the asked size and mode, noexec unless exec', async () => {
  const r = await run(['sh', '-c', 'grep " /t\\| /x" /proc/mounts > /out/mounts; stat -c %a /t > /out/mode'], [
    mount({ type: 'tmpfs', destination: '/t', tmpfsSize: 1024 * 1024, tmpfsMode: 0o700 }),
    mount({ type: 'tmpfs', destination: '/x', tmpfsOptions: ['exec'] }),
  ]);
  expect(r.code).toBe(0);
  const lines = fs.readFileSync(path.join(out, 'mounts'), 'utf8').trim().split('\n');
  const t = lines.find((l) => l.split(' ')[1] === '/t')!.split(' ');
  expect(t[2]).toBe('tmpfs');
  expect(t[3]!.split(',')).toEqual(expect.arrayContaining(['rw', 'nosuid', 'nodev', 'noexec', 'size=1024k', 'mode=700']));
  const x = lines.find((l) => l.split(' ')[1] === '/x')!.split(' ');
  expect(x[3]!.split(',')).not.toContain('noexec');
  expect(fs.readFileSync(path.join(out, 'mode'), 'utf8').trim()).toBe('700');
  await call(ctrs, 'delete', { id: r.ctr.id, force: false, removeVolumes: true });
  await expect(create(['true'], [mount({ type: 'tmpfs', destination: '/t', tmpfsOptions: ['size=lots'] })])).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  await expect(create(['true'], [mount({ type: 'tmpfs', source: 'vol', destination: '/t' })])).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
});

it('keeps volumes and who uses them across a supervisor restart', async () => {
  const c = await create(['true'], [mount({ source: 'durable', destination: '/d' })]);
  fs.writeFileSync(path.join(volumeDir('durable'), '_data', 'f'), 'kept\n');
  ctrs.close();
  vols.close();
  await svc.stop();
  svc = spawnService({ service: 'supervisor', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
  await waitHealthy(svc);
  ctrs = new containersV1.ContainersClient(svc.target, grpc.credentials.createInsecure());
  vols = new VolumesClient(svc.target, grpc.credentials.createInsecure());
  expect(await call<Volume>(vols, 'inspect', { name: 'durable' })).toMatchObject({ name: 'durable', containers: [c.id] });
  await expect(call(vols, 'remove', { name: 'durable', force: false })).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
  await call(ctrs, 'start', { id: c.id });
  expect((await call<containersV1.WaitContainerResponse>(ctrs, 'wait', { id: c.id, condition: 'not-running' })).exitCode).toBe(0);
  await call(ctrs, 'delete', { id: c.id, force: false, removeVolumes: true });
  expect(fs.readFileSync(path.join(volumeDir('durable'), '_data', 'f'), 'utf8')).toBe('kept\n');
  await call(vols, 'remove', { name: 'durable', force: false });
});
