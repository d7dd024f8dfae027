// Volumes through the real CLI and services: docker's walk-through (volume create, run -v name:/d twice,
// ls, inspect, rm refused while used, rm -v), --mount and --tmpfs, an image VOLUME filled from the image,
// prune with its prompt, system df, and bad flag values refused with exit 125.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImage, busyboxLayerEntries, dockerArchive } from '@berth/testing';
import { cleanContainers, startWorld, until, type World } from './harness';

let w: World;

beforeAll(async () => {
  w = await startWorld();
  expect((await w.berth(['load', '-i', w.archive])).code).toBe(0);
  const img = await buildImage({
    name: 'seeded:latest',
    layers: [busyboxLayerEntries(), [{ type: 'dir', path: 'data/' }, { type: 'file', path: 'data/seed', content: 'from the image\n' }]],
    volumes: ['/data'],
  });
  const archive = path.join(w.root, 'seeded.tar');
  fs.writeFileSync(archive, await dockerArchive([img]));
  expect((await w.berth(['load', '-i', archive])).code).toBe(0);
}, 60_000);

afterEach(async () => {
  await cleanContainers(w);
  const left = (await w.berth(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
  if (left.length) expect((await w.berth(['volume', 'rm', ...left])).code).toBe(0);
});
afterAll(() => w?.teardown());

const volumesDir = () => path.join(w.root, 'supervisor', 'volumes');

it("docker's walk-through: create, write, read back, ls, inspect, rm refused while used, rm; events", async () => {
  const since = new Date(Date.now() - 1000).toISOString();
  expect(await w.berth(['volume', 'create', '--label', 'tier=db', 'data'])).toEqual({ code: 0, stdout: 'data\n', stderr: '' });
  expect((await w.berth(['run', '--rm', '-v', 'data:/d', 'busybox', 'sh', '-c', 'echo hi > /d/f'])).code).toBe(0);
  expect(await w.berth(['run', '--rm', '-v', 'data:/d', 'busybox', 'cat', '/d/f'])).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
  // --rm left the named volume alone.
  expect(await w.berth(['volume', 'ls'])).toEqual({ code: 0, stdout: 'DRIVER    VOLUME NAME\nlocal     data\n', stderr: '' });
  expect((await w.berth(['volume', 'ls', '-q', '-f', 'label=tier=db'])).stdout).toBe('data\n');
  expect((await w.berth(['volume', 'ls', '-q', '-f', 'label=tier=web'])).stdout).toBe('');
  expect((await w.berth(['volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}}'])).stdout).toBe('data local local tier=db\n');
  const insp = await w.berth(['volume', 'inspect', 'data']);
  expect(insp.code).toBe(0);
  const [doc] = JSON.parse(insp.stdout) as Record<string, unknown>[];
  expect(doc).toEqual({
    CreatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), Driver: 'local', Labels: { tier: 'db' },
    Mountpoint: path.join(volumesDir(), 'data', '_data'), Name: 'data', Options: null, Scope: 'local',
  });
  expect((await w.berth(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'data'])).stdout).toBe(`${path.join(volumesDir(), 'data', '_data')}\n`);

  const id = (await w.berth(['run', '-d', '--name', 'holder', '-v', 'data:/d:ro', 'busybox', 'sleep', '1000'])).stdout.trim();
  expect(JSON.parse((await w.berth(['inspect', '-f', '{{json .Mounts}}', 'holder'])).stdout)).toEqual([
    { Type: 'volume', Name: 'data', Source: path.join(volumesDir(), 'data', '_data'), Destination: '/d', Driver: 'local', Mode: 'z', RW: false, Propagation: '' },
  ]);
  expect((await w.berth(['inspect', '-f', '{{json .HostConfig.Binds}}', 'holder'])).stdout).toBe('["data:/d:ro"]\n');
  expect((await w.berth(['volume', 'ls', '-q', '-f', 'dangling=true'])).stdout).toBe('');
  const refused = await w.berth(['volume', 'rm', 'data']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(`volume data is in use by container(s) ${id.slice(0, 12)}`);
  expect(fs.readFileSync(path.join(volumesDir(), 'data', '_data', 'f'), 'utf8')).toBe('hi\n');
  expect((await w.berth(['rm', '-f', '-v', 'holder'])).code).toBe(0);
  expect(await w.berth(['volume', 'rm', 'data'])).toEqual({ code: 0, stdout: 'data\n', stderr: '' });
  const gone = await w.berth(['volume', 'inspect', 'data']);
  expect(gone.code).toBe(1);
  expect(gone.stderr).toContain('no such volume: data');
  expect((await w.berth(['volume', 'rm', '-f', 'data'])).code).toBe(0);

  // docker's volume events, in order: made, mounted and unmounted by each run, destroyed.
  const end = new Date(Date.now() + 1000).toISOString();
  const ev = await until(async () => {
    const r = await w.berth(['events', '--since', since, '--until', end, '--filter', 'type=volume', '--filter', 'volume=data', '--format', '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}}']);
    return r.stdout.includes('destroy') ? r.stdout : undefined;
  }, 15_000, 'the volume events');
  expect(ev).toBe(['create', 'mount', 'unmount', 'mount', 'unmount', 'mount', 'unmount', 'destroy'].map((a) => `volume ${a} data local\n`).join(''));
});

it('-v /dst and an image VOLUME make anonymous volumes (the image content copied in); rm -v removes them', async () => {
  expect((await w.berth(['create', '--name', 'anon', '-v', '/scratch', 'seeded', 'cat', '/data/seed'])).code).toBe(0);
  const mounts = JSON.parse((await w.berth(['inspect', '-f', '{{json .Mounts}}', 'anon'])).stdout) as { Name: string; Destination: string }[];
  expect(mounts.map((m) => m.Destination).sort()).toEqual(['/data', '/scratch']);
  for (const m of mounts) expect(m.Name).toMatch(/^[0-9a-f]{64}$/);
  expect(JSON.parse((await w.berth(['inspect', '-f', '{{json .Config.Volumes}}', 'anon'])).stdout)).toEqual({ '/data': {}, '/scratch': {} });
  expect(await w.berth(['start', '-a', 'anon'])).toEqual({ code: 0, stdout: 'from the image\n', stderr: '' });
  const data = mounts.find((m) => m.Destination === '/data')!.Name;
  expect(fs.readFileSync(path.join(volumesDir(), data, '_data', 'seed'), 'utf8')).toBe('from the image\n');
  expect((await w.berth(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean).sort()).toEqual(mounts.map((m) => m.Name).sort());
  expect((await w.berth(['rm', '-v', 'anon'])).code).toBe(0);
  expect((await w.berth(['volume', 'ls', '-q'])).stdout).toBe('');
  // run --rm takes its anonymous volumes with it too.
  expect((await w.berth(['run', '--rm', '-v', '/x', 'seeded', 'true'])).code).toBe(0);
  expect((await w.berth(['volume', 'ls', '-q'])).stdout).toBe('');
});

it('--volumes-from shares the volumes and binds of another container (":ro" makes them read-only); rm -v of either leaves the shared volume to the other', async () => {
  const dir = fs.mkdtempSync(path.join(w.root, 'bind-'));
  // Only created, never started: the image's /data is in its new volume already (copied at create, as docker's).
  expect((await w.berth(['create', '--name', 'store', '-v', `${dir}:/host`, '--tmpfs', '/scratch', 'seeded', 'true'])).code).toBe(0);
  const anon = (JSON.parse((await w.berth(['inspect', '-f', '{{json .Mounts}}', 'store'])).stdout) as { Name?: string; Destination: string }[]).find((m) => m.Destination === '/data')!.Name!;
  expect(fs.readFileSync(path.join(volumesDir(), anon, '_data', 'seed'), 'utf8')).toBe('from the image\n');
  // Writes through the shared volume and bind; the other container's tmpfs is not shared.
  const rw = await w.berth(['run', '--rm', '--volumes-from', 'store', 'busybox', 'sh', '-c', 'echo shared > /data/new; echo bound > /host/f; grep -c " /scratch " /proc/mounts']);
  expect(rw).toEqual({ code: 1, stdout: '0\n', stderr: '' });
  expect(fs.readFileSync(path.join(volumesDir(), anon, '_data', 'new'), 'utf8')).toBe('shared\n');
  expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('bound\n');
  // :ro for all of them; a path the container mounts itself wins.
  const ro = await w.berth(['run', '--name', 'reader', '--volumes-from', 'store:ro', '-v', '/host', 'busybox', 'sh', '-c', 'cat /data/seed /data/new; touch /data/x; ls /host | wc -l']);
  expect(ro).toEqual({ code: 0, stdout: 'from the image\nshared\n0\n', stderr: 'touch: /data/x: Read-only file system\n' });
  expect(JSON.parse((await w.berth(['inspect', '-f', '{{json .HostConfig.VolumesFrom}}', 'reader'])).stdout)).toEqual(['store:ro']);
  // The shared anonymous volume is store's: reader's rm -v leaves it, store's rm -v removes it.
  expect((await w.berth(['rm', '-v', 'reader'])).code).toBe(0);
  expect((await w.berth(['volume', 'ls', '-q'])).stdout.split('\n')).toContain(anon);
  expect((await w.berth(['rm', '-v', 'store'])).code).toBe(0);
  expect((await w.berth(['volume', 'ls', '-q'])).stdout).toBe('');
  // Unknown containers and modes: exit 125, nothing made.
  expect(await w.berth(['run', '--rm', '--volumes-from', 'nosuch', 'busybox', 'true'])).toMatchObject({ code: 125, stderr: expect.stringMatching(/nosuch/) });
  expect(await w.berth(['run', '--rm', '--volumes-from', 'store:rx', 'busybox', 'true'])).toMatchObject({ code: 125, stderr: expect.stringMatching(/invalid --volumes-from "store:rx"/) });
  expect((await w.berth(['ps', '-aq'])).stdout).toBe('');
});

it('--mount (volume, bind readonly, tmpfs) and --tmpfs', async () => {
  const dir = fs.mkdtempSync(path.join(w.root, 'bind-'));
  const r = await w.berth(['run', '--rm', '--mount', 'type=volume,src=m1,dst=/m', '--mount', `type=bind,source=${dir},target=/b,readonly`,
    '--mount', 'type=tmpfs,destination=/mt,tmpfs-size=1m,tmpfs-mode=700', '--tmpfs', '/t:size=64k,exec', 'busybox', 'sh', '-c',
    'echo x > /m/f; grep -E " /(t|mt) " /proc/mounts; stat -c %a /mt; touch /b/no']);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe('touch: /b/no: Read-only file system\n');
  const lines = r.stdout.trim().split('\n');
  const opts = (dst: string) => lines.find((l) => l.split(' ')[1] === dst)!.split(' ')[3]!.split(',');
  expect(opts('/mt')).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'noexec', 'size=1024k', 'mode=700']));
  expect(opts('/t')).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'size=64k']));
  expect(opts('/t')).not.toContain('noexec');
  expect(lines.at(-1)).toBe('700');
  expect(fs.readFileSync(path.join(volumesDir(), 'm1', '_data', 'f'), 'utf8')).toBe('x\n');
  expect(fs.readdirSync(dir)).toEqual([]);
});

it('prune asks first (docker 23+: anonymous only, all with -a); system df counts volumes', async () => {
  expect((await w.berth(['volume', 'create', 'named'])).code).toBe(0);
  expect((await w.berth(['run', '--name', 'left', '-v', '/anon', 'busybox', 'sh', '-c', 'head -c 3000 /dev/zero > /anon/z'])).code).toBe(0);
  expect((await w.berth(['rm', 'left'])).code).toBe(0);
  const anon = (await w.berth(['volume', 'ls', '-q'])).stdout.split('\n').filter((n) => /^[0-9a-f]{64}$/.test(n));
  expect(anon).toHaveLength(1);
  const df = (await w.berth(['system', 'df'])).stdout;
  expect(df).toMatch(/^Local Volumes\s+2\s+0\s+3kB\s+3kB \(100%\)$/m);

  const no = await w.berth(['volume', 'prune'], { input: 'n\n' });
  expect(no.stdout).toContain('WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ');
  expect((await w.berth(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean)).toHaveLength(2);
  expect(await w.berth(['volume', 'prune', '-f'])).toEqual({ code: 0, stdout: `Deleted Volumes:\n${anon[0]}\n\nTotal reclaimed space: 3kB\n`, stderr: '' });
  const all = await w.berth(['volume', 'prune', '-a'], { input: 'y\n' });
  expect(all.stdout).toBe('WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n');
  expect((await w.berth(['volume', 'ls', '-q'])).stdout).toBe('');
});

it('refuses bad flag values with exit 125, naming the flag and value, and leaves nothing', async () => {
  const cases: [string[], RegExp][] = [
    [['run', '--mount', 'type=nfs,dst=/x', 'busybox', 'true'], /invalid argument "type=nfs,dst=\/x" for "--mount" flag: unknown type "nfs"/],
    [['run', '--mount', 'src=data', 'busybox', 'true'], /invalid argument "src=data" for "--mount" flag: target is required/],
    [['run', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=lots', 'busybox', 'true'], /"--mount" flag: invalid tmpfs-size "lots"/],
    [['create', '-v', 'bad/name:/x', 'busybox', 'true'], /invalid volume "bad\/name:\/x" for -v/],
    [['run', '--tmpfs', 'rel', 'busybox', 'true'], /invalid argument "rel" for "--tmpfs" flag/],
    [['run', '--tmpfs', '/t:bogus', 'busybox', 'true'], /invalid argument "\/t:bogus" for "--tmpfs" flag: unknown option "bogus"/],
    [['volume', 'ls', '-f', 'dangling=maybe'], /invalid filter "dangling=maybe" for -f, --filter/],
    [['volume', 'create', '-d', 'nfs', 'x1'], /invalid value "nfs" for -d, --driver/],
  ];
  for (const [args, re] of cases) {
    const r = await w.berth(args);
    expect({ args, code: r.code }).toEqual({ args, code: 125 });
    expect(r.stderr).toMatch(re);
  }
  const bad = await w.berth(['volume', 'create', 'bad/name']);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toContain('invalid volume name "bad/name"');
  expect((await w.berth(['ps', '-aq'])).stdout).toBe('');
  expect(fs.readdirSync(volumesDir())).toEqual([]);
});
