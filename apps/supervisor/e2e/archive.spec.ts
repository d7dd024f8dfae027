// The archive calls (docker cp / export) on real containers under crun, over real overlay mounts: copy out and
// in of running and exited containers, volumes and binds, ownership, links, an image with neither tar nor
// shell, export, and hostile images and tars that must never reach a host file. After every call on a
// stopped container nothing stays mounted.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { archiveV1, containersV1 } from '@berth/api';
import { packTar, readTarEntries, spawnService, startNatsServer, tempBerthDirs, waitHealthy, type LayerEntry, type NatsServerHandle, type ReadTarEntry, type ServiceProcess } from '@berth/testing';
import { ContainerArchive, type PathStat } from '../src/archive/container-archive';
import { ContainerNotFoundError } from '../src/errors';
import { Volumes } from '../src/volumes/volume-store';
import { config, hostConfig, leftovers, makeHarness, until, type Harness } from './harness';

jest.setTimeout(120_000);

let h: Harness;
let a: ContainerArchive;
let work: string;
let volState: string;

type TarEntry = ReadTarEntry;
const readTar = readTarEntries;

async function get(ref: string, p: string, follow = false): Promise<{ stat: PathStat; entries: Map<string, TarEntry> }> {
  let stat: PathStat | undefined;
  const chunks: Buffer[] = [];
  await a.getArchive(ref, p, follow, async (s) => void (stat = s), async (c) => void chunks.push(c));
  return { stat: stat!, entries: await readTar(Buffer.concat(chunks)) };
}

async function* once(buf: Buffer): AsyncGenerator<Buffer> {
  // In two pieces, as a stream would bring it.
  yield buf.subarray(0, Math.floor(buf.length / 2));
  yield buf.subarray(Math.floor(buf.length / 2));
}

function put(ref: string, p: string, entries: LayerEntry[], o: { copyUidGid?: boolean; noOverwriteDirNonDir?: boolean } = {}): Promise<number> {
  return packTar(entries).then((b) => a.putArchive(ref, p, o, once(b)));
}

/** A file entry with a name packTar would not write (hostile archives). */
function raw(name: string): LayerEntry {
  const header = { name, type: 'file', size: 1, mode: 0o644 } as unknown as Extract<LayerEntry, { type: 'raw' }>['header'];
  return { type: 'raw', header, content: Buffer.from('x') };
}

async function exportOf(ref: string): Promise<Map<string, TarEntry>> {
  const chunks: Buffer[] = [];
  await a.export(ref, async (c) => void chunks.push(c));
  return readTar(Buffer.concat(chunks));
}

/** Mounts under the run dir: the bundle's rootfs of running containers only, never an archive call's. */
function archiveMounts(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((t) => t.startsWith(path.join(h.runDir, 'archive')));
}

/** A rootfs of the given extra files over (or, with `alone`, instead of) busybox: an overlay spec. */
function rootfsWith(files: Record<string, string | { link: string } | { dir: true } | { copyOf: string; mode: number }>, alone = false) {
  const base = fs.mkdtempSync(path.join(work, 'img-'));
  const lower = path.join(base, 'lower');
  for (const [p, v] of Object.entries(files)) {
    const host = path.join(lower, p);
    fs.mkdirSync(path.dirname(host), { recursive: true });
    if (typeof v === 'string') fs.writeFileSync(host, v);
    else if ('link' in v) fs.symlinkSync(v.link, host);
    else if ('dir' in v) fs.mkdirSync(host, { recursive: true });
    else {
      fs.copyFileSync(v.copyOf, host);
      fs.chmodSync(host, v.mode);
    }
  }
  fs.mkdirSync(path.join(base, 'upper'));
  fs.mkdirSync(path.join(base, 'work'));
  const lowers = alone ? lower : `${lower}:${h.rootfs.lowerDir}`;
  return [{ type: 'overlay', source: 'overlay', target: '', options: [`lowerdir=${lowers}`, `upperdir=${base}/upper`, `workdir=${base}/work`] }];
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-archive-'));
  volState = path.join(work, 'state');
  h = await makeHarness({ volumes: new Volumes({ stateDir: volState }) });
  a = new ContainerArchive(h.mgr);
});

afterAll(async () => {
  await h.teardown();
  fs.rmSync(work, { recursive: true, force: true });
});

afterEach(() => {
  expect(archiveMounts()).toEqual([]);
});

describe('copy out', () => {
  it('copies a file, a directory and its contents out of a running container, then out of the exited one', async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'echo made > /tmp/made; mkdir -p /tmp/d/sub; echo y > /tmp/d/sub/y; touch /tmp/ready; sleep 1000'], {}, {}, 'cpout'));
    await h.mgr.start(c.id);
    await until(() => fs.existsSync(`/proc/${h.mgr.get(c.id).state!.pid}/root/tmp/ready`), 10_000, 'the container to write its files');

    const file = await get('cpout', '/tmp/made');
    expect(file.stat).toMatchObject({ name: 'made', kind: 'file', isDir: false, size: 5 });
    expect([...file.entries.keys()]).toEqual(['made']);
    expect(file.entries.get('made')!.body).toBe('made\n');

    const dir = await get('cpout', '/tmp/d');
    expect(dir.stat).toMatchObject({ name: 'd', kind: 'dir', isDir: true });
    expect([...dir.entries.keys()]).toEqual(['d/', 'd/sub/', 'd/sub/y']);
    const contents = await get('cpout', '/tmp/d/.');
    expect(contents.stat.name).toBe('.');
    expect([...contents.entries.keys()]).toEqual(['d/', 'd/sub/', 'd/sub/y']);
    // The files the supervisor binds in are seen as the container sees them.
    expect((await get('cpout', '/etc/hostname')).entries.get('hostname')!.body).toBe(`${c.id.slice(0, 12)}\n`);

    await expect(a.statPath('cpout', '/nope/x')).rejects.toThrow('Could not find the file /nope/x in container cpout');
    await expect(get('cpout', '/tmp/made/x')).rejects.toThrow(/not a directory/);
    await expect(get('cpout', '/tmp/made/')).rejects.toThrow('/tmp/made is not a directory');
    await expect(a.statPath('ghost', '/')).rejects.toBeInstanceOf(ContainerNotFoundError);

    // Paused: read through the frozen container's view all the same.
    await h.mgr.pause(c.id);
    expect((await get('cpout', '/tmp/made')).entries.get('made')!.body).toBe('made\n');
    await h.mgr.resume(c.id);

    await h.mgr.kill(c.id, 'KILL');
    await h.mgr.wait(c.id);
    expect(h.mgr.get(c.id).state!.status).toBe('exited');
    const after = await get(c.id.slice(0, 8), '/tmp/d/sub/y');
    expect(after.entries.get('y')!.body).toBe('y\n');
    expect((await get('cpout', '/etc/hostname')).entries.get('hostname')!.body).toBe(`${c.id.slice(0, 12)}\n`);
    const topics = h.sink.topics(c.id);
    expect(topics.filter((t) => t === 'container.archive-path').length).toBe(7);
    expect(h.sink.events.find((e) => e.topic === 'container.archive-path' && e.subjectId === c.id)!.attributes).toMatchObject({ name: 'cpout', path: '/tmp/made' });
  });

  it('archives a link as a link, and its target with follow_link', async () => {
    const rootfs = rootfsWith({ 'data/real.txt': 'real\n', 'data/ln': { link: 'real.txt' }, 'dl': { link: '/data' } });
    const d = await h.mgr.create({ ...h.req(['true'], {}, {}, 'links'), rootfs });
    const link = await get('links', '/data/ln');
    expect(link.stat).toMatchObject({ kind: 'symlink', linkTarget: 'real.txt' });
    expect(link.entries.get('ln')!.header).toMatchObject({ type: 'symlink', linkname: 'real.txt' });
    const followed = await get('links', '/data/ln', true);
    expect(followed.entries.get('ln')!.body).toBe('real\n');
    expect((await a.statPath('links', '/dl')).isDir).toBe(true);
    expect([...(await get('links', '/dl/.', true)).entries.keys()]).toEqual(['dl/', 'dl/ln', 'dl/real.txt']);
    await h.mgr.remove(d.id);
  });

  it('never reads host files through links in the image', async () => {
    const secretDir = fs.mkdtempSync(path.join(work, 'secret-'));
    fs.writeFileSync(path.join(secretDir, 'secret'), 'host secret\n');
    const rootfs = rootfsWith({
      leak: { link: path.join(secretDir, 'secret') },
      up: { link: `../../../../../../..${secretDir}` },
      etcl: { link: '/etc' },
      dots: { link: '../../..' },
    });
    const c = await h.mgr.create({ ...h.req(['sleep', '1000'], {}, {}, 'hostile'), rootfs });
    const check = async () => {
      await expect(get('hostile', '/leak', true)).rejects.toThrow(`Could not find the file /leak in container hostile`);
      await expect(get('hostile', '/up/secret')).rejects.toThrow(/Could not find the file \/up\/secret/);
      // A link archived as a link carries its target's name, never the host file's content.
      expect((await get('hostile', '/leak')).entries.get('leak')!.body).toBe('');
      expect((await get('hostile', '/etcl/passwd')).entries.get('passwd')!.body).toMatch(/^root:x:0:0:root:\/root:\/bin\/sh\n/);
      // "../../.." from the root stays at the root: the container's own /etc.
      const viaDots = await get('hostile', '/dots/etc/group');
      expect(viaDots.entries.get('group')!.body).toBe('root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n');
    };
    await check();
    await h.mgr.start(c.id);
    await check();
    await h.mgr.remove(c.id, true);
  });
});

describe('copy in', () => {
  it('extracts into running and exited containers, owned by the container user unless copyUidGid', async () => {
    const rootfs = rootfsWith({ 'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n', 'srv/': { dir: true } });
    const c = await h.mgr.create({ ...h.req(['sleep', '1000'], { user: 'app' }, {}, 'cpin'), rootfs });
    const entries: LayerEntry[] = [
      { type: 'dir', path: 'pkg/', mode: 0o750, uid: 4242, gid: 4343 },
      { type: 'file', path: 'pkg/a.txt', content: 'a\n', mode: 0o640, uid: 4242, gid: 4343 },
      { type: 'symlink', path: 'pkg/link', target: 'a.txt' },
      { type: 'hardlink', path: 'pkg/hard', target: 'pkg/a.txt' },
    ];
    // Created (never started): its rootfs mounted for the call.
    expect(await put('cpin', '/srv', entries)).toBe(4);
    let got = await get('cpin', '/srv/pkg');
    expect(got.entries.get('pkg/a.txt')).toMatchObject({ body: 'a\n', header: { uid: 1000, gid: 1001, mode: 0o640 } });
    expect(got.entries.get('pkg/')!.header).toMatchObject({ uid: 1000, gid: 1001, mode: 0o750 });
    expect(got.entries.get('pkg/link')!.header).toMatchObject({ type: 'symlink', linkname: 'a.txt' });

    await h.mgr.start(c.id);
    await put('cpin', '/srv', entries, { copyUidGid: true });
    got = await get('cpin', '/srv/pkg');
    expect(got.entries.get('pkg/a.txt')!.header).toMatchObject({ uid: 4242, gid: 4343 });
    // Written into the running container's own view.
    const pid = h.mgr.get(c.id).state!.pid;
    expect(fs.statSync(`/proc/${pid}/root/srv/pkg/hard`).ino).toBe(fs.statSync(`/proc/${pid}/root/srv/pkg/a.txt`).ino);
    // And back out as a hard link entry, not a second copy.
    expect(got.entries.get('pkg/hard')!.header).toMatchObject({ type: 'link', linkname: 'pkg/a.txt' });
    expect(fs.readdirSync(`/proc/${pid}/root/srv`)).toEqual(['pkg']);
    expect(h.sink.events.filter((e) => e.subjectId === c.id && e.topic === 'container.extract-to-dir').map((e) => e.attributes.path)).toEqual(['/srv', '/srv']);

    await h.mgr.kill(c.id, 'KILL');
    await h.mgr.wait(c.id);
    await put('cpin', '/srv/pkg', [{ type: 'file', path: 'later.txt', content: 'later\n' }]);
    expect((await get('cpin', '/srv/pkg/later.txt')).entries.get('later.txt')!.header).toMatchObject({ uid: 1000, gid: 1001 });
    await h.mgr.remove(c.id);
  });

  it('writes into a named volume and a bind mount, running or not; refuses read-only ones and a read-only rootfs', async () => {
    const bind = fs.mkdtempSync(path.join(work, 'bind-'));
    const roBind = fs.mkdtempSync(path.join(work, 'robind-'));
    const c = await h.mgr.create(h.req(['sleep', '1000'], {}, {
      readOnly: true,
      volumes: [
        containersV1.VolumeMount.fromPartial({ source: 'archvol', destination: '/vol' }),
        containersV1.VolumeMount.fromPartial({ source: bind, destination: '/mnt/bind' }),
        containersV1.VolumeMount.fromPartial({ source: roBind, destination: '/ro', readOnly: true }),
      ],
    }, 'mounts'));
    const volData = h.mgr.get(c.id).hostConfig!.volumes.find((m) => m.destination === '/vol')!.volumePath;
    await put('mounts', '/vol', [{ type: 'file', path: 'stopped.txt', content: 's\n' }]);
    await put('mounts', '/mnt/bind', [{ type: 'dir', path: 'sub/' }, { type: 'file', path: 'sub/stopped.txt', content: 's\n' }]);
    expect(fs.readFileSync(path.join(volData, 'stopped.txt'), 'utf8')).toBe('s\n');
    expect(fs.readFileSync(path.join(bind, 'sub/stopped.txt'), 'utf8')).toBe('s\n');
    await expect(put('mounts', '/ro', [{ type: 'file', path: 'x', content: 'x' }])).rejects.toThrow('mounted volume is marked read-only (/ro)');
    await expect(put('mounts', '/tmp', [{ type: 'file', path: 'x', content: 'x' }])).rejects.toThrow('container rootfs is marked read-only');

    await h.mgr.start(c.id);
    await put('mounts', '/vol', [{ type: 'file', path: 'running.txt', content: 'r\n' }]);
    await expect(put('mounts', '/', [{ type: 'file', path: 'mnt/bind/x', content: 'x' }])).rejects.toThrow('container rootfs is marked read-only');
    await put('mounts', '/mnt/bind', [{ type: 'file', path: 'running.txt', content: 'r\n' }]);
    expect(fs.readFileSync(path.join(volData, 'running.txt'), 'utf8')).toBe('r\n');
    expect(fs.readFileSync(path.join(bind, 'running.txt'), 'utf8')).toBe('r\n');
    expect((await get('mounts', '/vol/stopped.txt')).entries.get('stopped.txt')!.body).toBe('s\n');
    await expect(put('mounts', '/ro', [{ type: 'file', path: 'x', content: 'x' }])).rejects.toThrow('mounted volume is marked read-only (/ro)');
    expect(fs.readdirSync(roBind)).toEqual([]);
    expect(fs.readdirSync(bind).sort()).toEqual(['running.txt', 'sub']);
    await h.mgr.remove(c.id, true);
  });

  it("reaches a running container's tmpfs through its own view, and crosses onto a volume from the root", async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'echo t > /scratch/t; touch /scratch/ready; sleep 1000'], {}, {
      volumes: [
        containersV1.VolumeMount.fromPartial({ type: 'tmpfs', destination: '/scratch' }),
        containersV1.VolumeMount.fromPartial({ source: 'crossvol', destination: '/data' }),
      ],
    }, 'views'));
    await h.mgr.start(c.id);
    const pid = h.mgr.get(c.id).state!.pid;
    await until(() => fs.existsSync(`/proc/${pid}/root/scratch/ready`), 10_000, 'the tmpfs file');
    expect((await get('views', '/scratch/t')).entries.get('t')!.body).toBe('t\n');
    await put('views', '/scratch', [{ type: 'file', path: 'in', content: 'in\n' }]);
    expect(fs.readFileSync(`/proc/${pid}/root/scratch/in`, 'utf8')).toBe('in\n');
    // Staged in the rootfs, moved onto the volume (another filesystem): copied across, nothing left behind.
    await put('views', '/', [{ type: 'dir', path: 'data/' }, { type: 'dir', path: 'data/sub/' }, { type: 'file', path: 'data/sub/f', content: 'f\n' }, { type: 'file', path: 'rootfile', content: 'r\n' }]);
    const volData = h.mgr.get(c.id).hostConfig!.volumes.find((m) => m.destination === '/data')!.volumePath;
    expect(fs.readFileSync(path.join(volData, 'sub/f'), 'utf8')).toBe('f\n');
    expect(fs.readFileSync(`/proc/${pid}/root/rootfile`, 'utf8')).toBe('r\n');
    expect(fs.readdirSync(`/proc/${pid}/root/`).filter((n) => n.startsWith('.berth-cp-'))).toEqual([]);
    // Stopped: the tmpfs is gone with the run, the volume stays.
    await h.mgr.kill(c.id, 'KILL');
    await h.mgr.wait(c.id);
    await expect(a.statPath('views', '/scratch/t')).rejects.toThrow('Could not find the file /scratch/t in container views');
    expect((await get('views', '/data/sub/f')).entries.get('f')!.body).toBe('f\n');
    await h.mgr.remove(c.id, true, true);
  });

  it('refuses to put a directory over a file (and the reverse) with no_overwrite_dir_non_dir; replaces without it', async () => {
    const c = await h.mgr.create(h.req(['true'], {}, {}, 'kinds'));
    await put('kinds', '/tmp', [{ type: 'file', path: 'f', content: 'f' }, { type: 'dir', path: 'd/' }, { type: 'file', path: 'd/in', content: 'in' }]);
    await expect(put('kinds', '/tmp', [{ type: 'dir', path: 'f/' }], { noOverwriteDirNonDir: true })).rejects.toThrow('cannot overwrite non-directory "/tmp/f" with directory');
    await expect(put('kinds', '/tmp', [{ type: 'file', path: 'new', content: 'n' }, { type: 'file', path: 'd', content: 'x' }], { noOverwriteDirNonDir: true })).rejects.toThrow('cannot overwrite directory "/tmp/d" with non-directory');
    // Refused before anything moved: "new" is not there either.
    await expect(a.statPath('kinds', '/tmp/new')).rejects.toThrow('Could not find the file /tmp/new');
    await put('kinds', '/tmp', [{ type: 'file', path: 'd', content: 'now a file' }]);
    expect((await get('kinds', '/tmp/d')).entries.get('d')!.body).toBe('now a file');
    await expect(put('kinds', '/tmp/f', [{ type: 'file', path: 'x', content: 'x' }])).rejects.toThrow('/tmp/f is not a directory');
    await expect(put('kinds', '/nowhere', [{ type: 'file', path: 'x', content: 'x' }])).rejects.toThrow('Could not find the file /nowhere in container kinds');
    await h.mgr.remove(c.id);
  });

  it('refuses hostile tars, writes nothing outside the target and leaves nothing half-written', async () => {
    const outside = fs.mkdtempSync(path.join(work, 'outside-'));
    const rootfs = rootfsWith({ 'tmp/out': { link: outside }, 'tmp/t/': { dir: true } });
    const c = await h.mgr.create({ ...h.req(['sleep', '1000'], {}, {}, 'tars'), rootfs });
    const hostile: [string, LayerEntry[], RegExp][] = [
      ['dotdot', [{ type: 'file', path: 'ok', content: 'ok' }, raw('../escape')], /tar entry "\.\.\/escape" climbs out of the target/],
      ['absolute', [{ type: 'file', path: 'ok', content: 'ok' }, raw(`${outside}/abs`)], /has an absolute name/],
      ['through a link', [{ type: 'file', path: 'ok', content: 'ok' }, { type: 'symlink', path: 'lnk', target: outside }, { type: 'file', path: 'lnk/pwned', content: 'x' }], /tar entry "lnk\/pwned" would be written through the link "lnk"/],
      ['relative link', [{ type: 'symlink', path: 'up', target: '../../../../../..' + outside }, { type: 'file', path: 'up/pwned', content: 'x' }], /would be written through the link "up"/],
      ['hard link out', [{ type: 'hardlink', path: 'h', target: '../../etc/passwd' }], /climbs out of the target/],
    ];
    const check = async () => {
      for (const [what, entries, err] of hostile) {
        await expect(put('tars', '/tmp/t', entries)).rejects.toThrow(err);
        expect([what, fs.readdirSync(outside)]).toEqual([what, []]);
      }
      await expect(a.putArchive('tars', '/tmp/t', {}, once(Buffer.from('this is not a tar archive at all, not even close'.repeat(20))))).rejects.toThrow(/invalid tar archive/);
      // A tar cut in the middle of a file.
      const whole = await packTar([{ type: 'file', path: 'big', content: Buffer.alloc(10_000, 1) }]);
      await expect(a.putArchive('tars', '/tmp/t', {}, once(whole.subarray(0, 3000)))).rejects.toThrow(/invalid tar archive/);
      // The target's own link to the host is resolved inside the container: there is no such path there.
      await expect(put('tars', '/tmp/out', [{ type: 'file', path: 'x', content: 'x' }])).rejects.toThrow(/Could not find the file \/tmp\/out/);
      expect(fs.readdirSync(outside)).toEqual([]);
      // Nothing of any refused tar (not even the good entries before the bad one, nor the staging directory).
      expect([...(await get('tars', '/tmp/t')).entries.keys()]).toEqual(['t/']);
    };
    await check();
    await h.mgr.start(c.id);
    await check();
    await h.mgr.remove(c.id, true);
  });
});

describe('an image with neither tar nor shell', () => {
  it('copies in and out, created and running, and exports', async () => {
    const rootfs = rootfsWith({ 'bin/sleep': { copyOf: '/bin/busybox', mode: 0o755 }, 'data/hello.txt': 'hello\n', 'etc/': { dir: true }, 'proc/': { dir: true }, 'sys/': { dir: true }, 'dev/': { dir: true } }, true);
    const c = await h.mgr.create({ ...h.req(['/bin/sleep', '1000'], {}, {}, 'bare'), rootfs });
    await put('bare', '/data', [{ type: 'file', path: 'in.txt', content: 'in\n' }]);
    await h.mgr.start(c.id);
    expect(h.mgr.get(c.id).state!.status).toBe('running');
    await put('bare', '/data', [{ type: 'file', path: 'live.txt', content: 'live\n' }]);
    const got = await get('bare', '/data');
    expect([...got.entries.keys()]).toEqual(['data/', 'data/hello.txt', 'data/in.txt', 'data/live.txt']);
    expect(got.entries.get('data/live.txt')!.body).toBe('live\n');
    // Export of the running container: its rootfs, not /proc or /sys contents.
    const exp = await exportOf('bare');
    expect(exp.has('./bin/sleep')).toBe(true);
    expect(exp.get('./data/live.txt')!.body).toBe('live\n');
    expect([...exp.keys()].filter((k) => k.startsWith('./proc/') && k !== './proc/')).toEqual([]);
    await h.mgr.remove(c.id, true);
  });
});

describe('export', () => {
  it("streams a stopped container's filesystem: image files and what it wrote, without volume contents", async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'echo w > /root/written; echo v > /vol/inside'], {}, { volumes: [containersV1.VolumeMount.fromPartial({ destination: '/vol' })] }, 'exp'));
    await h.mgr.start(c.id);
    expect(await h.mgr.wait(c.id)).toBe(0);
    const exp = await exportOf('exp');
    expect(exp.get('./bin/busybox')!.header.mode).toBe(0o755);
    expect(exp.get('./bin/sh')!.header).toMatchObject({ type: 'symlink', linkname: 'busybox' });
    expect(exp.get('./root/written')!.body).toBe('w\n');
    expect(exp.has('./vol/')).toBe(true);
    expect(exp.has('./vol/inside')).toBe(false);
    expect(exp.get('./var/www/index.html')!.body).toBe('hello from berth\n');
    expect(h.sink.topics(c.id)).toContain('container.export');
    await h.mgr.remove(c.id, true, true);
  });

  it('refuses an unknown container', async () => {
    await expect(exportOf('nope')).rejects.toThrow(/nope/);
  });
});

describe('the gRPC service (a supervisor process)', () => {
  let nats: NatsServerHandle;
  let dirs: ReturnType<typeof tempBerthDirs>;
  let svc: ServiceProcess;
  let ctrs: containersV1.ContainersClient;
  let arch: archiveV1.ArchiveClient;
  let id = '';

  const unaryCall = <Res>(c: grpc.Client, method: string, req: unknown) =>
    new Promise<Res>((resolve, reject) => {
      (c as unknown as Record<string, (r: unknown, cb: (e: grpc.ServiceError | null, v: Res) => void) => void>)[method]!.call(c, req, (e, v) => (e ? reject(e) : resolve(v)));
    });

  const put = (messages: archiveV1.PutArchiveRequest[]) =>
    new Promise<archiveV1.PutArchiveResponse>((resolve, reject) => {
      const call = arch.putArchive((e, r) => (e ? reject(e) : resolve(r)));
      for (const m of messages) call.write(m);
      call.end();
    });
  const target = (path: string, o: Partial<archiveV1.PutArchiveTarget> = {}): archiveV1.PutArchiveRequest => ({ kind: { $case: 'target', value: archiveV1.PutArchiveTarget.fromPartial({ container: 'grpcbox', path, ...o }) } });
  const chunk = (b: Buffer): archiveV1.PutArchiveRequest => ({ kind: { $case: 'chunk', value: b } });

  beforeAll(async () => {
    nats = await startNatsServer();
    dirs = tempBerthDirs('berth-suparch-');
    svc = spawnService({ service: 'supervisor', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
    await waitHealthy(svc);
    ctrs = new containersV1.ContainersClient(svc.target, grpc.credentials.createInsecure());
    arch = new archiveV1.ArchiveClient(svc.target, grpc.credentials.createInsecure());
    const c = await unaryCall<containersV1.Container>(ctrs, 'create', {
      name: 'grpcbox', id: '', snapshotKey: '', config: config(['true']), rootfs: h.rootfs.newRootfs(), hostConfig: hostConfig({ readOnly: false }),
    });
    id = c.id;
  });

  afterAll(async () => {
    if (id) await unaryCall(ctrs, 'delete', { id, force: true, removeVolumes: true }).catch(() => undefined);
    ctrs?.close();
    arch?.close();
    await svc?.stop();
    await nats?.dispose();
    const residue = dirs ? leftovers(`${dirs.runDir}/supervisor`, id ? [id] : []) : [];
    dirs?.cleanup();
    expect(residue).toEqual([]);
  });

  it('answers with the stat first and then the tar, and puts a tar in', async () => {
    expect(await put([target('/tmp'), chunk(await packTar([{ type: 'file', path: 'hello', content: 'hi\n' }]))])).toEqual({ entries: 1 });
    const msgs: archiveV1.GetArchiveResponse[] = [];
    for await (const m of arch.getArchive({ container: 'grpcbox', path: '/tmp/hello', followLink: false }) as AsyncIterable<archiveV1.GetArchiveResponse>) msgs.push(m);
    expect(msgs[0]!.kind).toMatchObject({ $case: 'stat', value: { name: 'hello', kind: 'file', size: 3 } });
    const body = Buffer.concat(msgs.slice(1).map((m) => (m.kind?.$case === 'chunk' ? Buffer.from(m.kind.value) : Buffer.alloc(0))));
    expect((await readTar(body)).get('hello')!.body).toBe('hi\n');
    const exported: Buffer[] = [];
    for await (const m of arch.export({ container: id.slice(0, 12) }) as AsyncIterable<archiveV1.ExportChunk>) exported.push(Buffer.from(m.data));
    expect((await readTar(Buffer.concat(exported))).get('./tmp/hello')!.body).toBe('hi\n');
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`${dirs.runDir}/supervisor/archive/`);
  });

  it("maps each refusal to its status, naming what was wrong", async () => {
    await expect(unaryCall(arch, 'statPath', { container: 'ghost', path: '/' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'no such container: ghost' });
    await expect(unaryCall(arch, 'statPath', { container: 'grpcbox', path: '/x/y' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'Could not find the file /x/y in container grpcbox' });
    await expect(put([target('/tmp'), chunk(Buffer.from('garbage'.repeat(100)))])).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^invalid tar archive/) });
    await expect(put([target('/tmp'), chunk(await packTar([raw('../up')]))])).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('"../up"') });
    await expect(put([chunk(Buffer.alloc(512))])).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'PutArchive: the first message must be the target' });
    await expect(put([target('/tmp/hello'), chunk(Buffer.alloc(1024))])).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: '/tmp/hello is not a directory' });
    await expect(put([target('/tmp', { noOverwriteDirNonDir: true }), chunk(await packTar([{ type: 'dir', path: 'hello/' }]))])).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    const stream = arch.getArchive({ container: 'grpcbox', path: '/nope', followLink: false });
    await expect((async () => {
      for await (const _ of stream as AsyncIterable<unknown>) {
        // nothing comes
      }
    })()).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });
});
