// berth cp and berth export through the real CLI and services, with docker's argument forms, destination
// rules and exit codes: running and stopped containers, an image with neither shell nor tar, -a, -L, tars on
// stdin/stdout, export to a file and to a pipe (never a terminal). Nothing stays mounted after a call.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImage, dockerArchive, packTar, readTarEntries } from '@berth/testing';
import { BIN, cleanContainers, startWorld, type World } from './harness';

jest.setTimeout(120_000);

let w: World;
let host: string;

/** Runs berth with binary stdin/stdout. */
function raw(args: string[], input?: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: w.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

async function tarNames(buf: Buffer): Promise<Map<string, { type: string; body: string; uid: number }>> {
  const entries = await readTarEntries(buf);
  return new Map([...entries].map(([name, e]) => [name, { type: e.header.type ?? 'file', body: e.body, uid: e.header.uid ?? 0 }]));
}

function archiveMounts(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((t) => t.includes('/supervisor/archive/'));
}

const ok = async (args: string[]) => {
  const r = await w.berth(args);
  expect({ args, ...r }).toEqual({ args, code: 0, stdout: expect.any(String), stderr: '' });
  return r.stdout;
};

beforeAll(async () => {
  w = await startWorld();
  expect((await w.berth(['load', '-i', w.archive])).code).toBe(0);
  // Neither shell nor tar: a static binary as /bin/sleep and plain files.
  const bare = await buildImage({
    name: 'bare:latest',
    layers: [[
      { type: 'dir', path: 'bin/' },
      { type: 'file', path: 'bin/sleep', content: fs.readFileSync('/bin/busybox'), mode: 0o755 },
      { type: 'dir', path: 'data/' },
      { type: 'file', path: 'data/hello.txt', content: 'hello\n' },
      { type: 'dir', path: 'etc/' },
      { type: 'file', path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/false\napp:x:1000:1000::/data:/bin/false\n' },
    ]],
    cmd: ['/bin/sleep', '1000'],
  });
  const archive = path.join(w.root, 'bare.tar');
  fs.writeFileSync(archive, await dockerArchive([bare]));
  expect((await w.berth(['load', '-i', archive])).code).toBe(0);
}, 60_000);

beforeEach(() => {
  host = fs.mkdtempSync(path.join(w.root, 'host-'));
});

afterEach(async () => {
  await cleanContainers(w);
  expect(archiveMounts()).toEqual([]);
});

afterAll(() => w?.teardown());

it('copies out of a running container and an exited one: a file, a directory, its contents, new names', async () => {
  await ok(['run', '-d', '--name', 'src', 'busybox', 'sh', '-c', 'mkdir -p /d/sub; echo one > /d/one; echo two > /d/sub/two; sleep 1000']);
  await ok(['exec', 'src', 'test', '-f', '/d/sub/two']);
  const check = async (tag: string) => {
    const dst = path.join(host, tag);
    fs.mkdirSync(dst);
    await ok(['cp', 'src:/d/one', dst]); // into an existing directory
    await ok(['cp', 'src:/d/one', `${dst}/renamed`]); // to a new name
    await ok(['cp', 'src:/d', dst]); // a directory into one: dst/d
    await ok(['cp', 'src:/d', `${dst}/newdir`]); // to a new name: the directory becomes newdir
    fs.mkdirSync(`${dst}/contents`);
    await ok(['cp', 'src:/d/.', `${dst}/contents`]); // the contents only
    expect(fs.readFileSync(`${dst}/one`, 'utf8')).toBe('one\n');
    expect(fs.readFileSync(`${dst}/renamed`, 'utf8')).toBe('one\n');
    expect(fs.readFileSync(`${dst}/d/sub/two`, 'utf8')).toBe('two\n');
    expect(fs.readFileSync(`${dst}/newdir/sub/two`, 'utf8')).toBe('two\n');
    expect(fs.readdirSync(`${dst}/contents`).sort()).toEqual(['one', 'sub']);
  };
  await check('running');
  await ok(['stop', '-t', '0', 'src']);
  await check('exited');
  expect(archiveMounts()).toEqual([]);

  // docker's errors, exit 1.
  expect(await w.berth(['cp', 'src:/nope', host])).toEqual({ code: 1, stdout: '', stderr: 'Error: Could not find the file /nope in container src\n' });
  fs.writeFileSync(`${host}/afile`, 'x');
  expect(await w.berth(['cp', 'src:/d', `${host}/afile`])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^Error: cannot copy directory/) });
  expect(await w.berth(['cp', 'src:/d/one', `${host}/missing/`])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^Error: no such directory/) });
  expect(await w.berth(['cp', 'ghost:/x', host])).toMatchObject({ code: 1, stderr: expect.stringMatching(/ghost/) });
  expect(await w.berth(['cp', host, `${host}/b`])).toEqual({ code: 1, stdout: '', stderr: 'Error: must specify at least one container source\n' });
  expect(await w.berth(['cp', 'src:/a', 'src:/b'])).toEqual({ code: 1, stdout: '', stderr: 'Error: copying between containers is not supported\n' });
});

it('copies into running and stopped containers with docker destination rules; -a keeps owners, otherwise the container user owns', async () => {
  await ok(['run', '-d', '--name', 'dst', '--user', '1000:1000', 'bare']);
  fs.writeFileSync(`${host}/f.txt`, 'file\n', { mode: 0o640 });
  fs.mkdirSync(`${host}/tree/sub`, { recursive: true });
  fs.writeFileSync(`${host}/tree/sub/leaf`, 'leaf\n');
  fs.chownSync(`${host}/tree/sub/leaf`, 4242, 4242);
  fs.linkSync(`${host}/tree/sub/leaf`, `${host}/tree/sub/twin`);
  await ok(['cp', `${host}/f.txt`, 'dst:/data']); // into a directory
  await ok(['cp', `${host}/f.txt`, 'dst:/data/other.txt']); // a new name
  await ok(['cp', `${host}/tree`, 'dst:/data']); // a directory into one
  await ok(['cp', `${host}/tree/.`, 'dst:/data/copy']); // contents into a new directory
  await ok(['cp', '-a', `${host}/tree`, 'dst:/data/kept']);
  const out = await raw(['cp', 'dst:/data', '-']);
  expect(out.code).toBe(0);
  const names = await tarNames(out.stdout);
  expect([...names.keys()].sort()).toEqual([
    'data/', 'data/copy/', 'data/copy/sub/', 'data/copy/sub/leaf', 'data/copy/sub/twin', 'data/f.txt', 'data/hello.txt',
    'data/kept/', 'data/kept/sub/', 'data/kept/sub/leaf', 'data/kept/sub/twin', 'data/other.txt', 'data/tree/', 'data/tree/sub/', 'data/tree/sub/leaf', 'data/tree/sub/twin',
  ]);
  expect(names.get('data/f.txt')).toMatchObject({ body: 'file\n', uid: 1000 });
  expect(names.get('data/tree/sub/leaf')!.uid).toBe(1000);
  expect(names.get('data/kept/sub/leaf')!.uid).toBe(4242);

  // Errors as docker's: a directory onto a file, a file into a missing directory, a missing parent.
  expect(await w.berth(['cp', `${host}/tree`, 'dst:/data/f.txt'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^Error: cannot copy directory/) });
  expect(await w.berth(['cp', `${host}/f.txt`, 'dst:/nowhere/'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^Error: no such directory/) });
  expect(await w.berth(['cp', `${host}/f.txt`, 'dst:/no/such/x'])).toEqual({ code: 1, stdout: '', stderr: 'Error: Could not find the file /no/such in container dst\n' });
  expect(await w.berth(['cp', `${host}/nothing`, 'dst:/data'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/nothing/) });

  // Stopped: the same, its rootfs mounted for the call only.
  await ok(['stop', '-t', '0', 'dst']);
  await ok(['cp', `${host}/f.txt`, 'dst:/data/stopped.txt']);
  expect(archiveMounts()).toEqual([]);
  await ok(['cp', 'dst:/data/stopped.txt', `${host}/back.txt`]);
  expect(fs.readFileSync(`${host}/back.txt`, 'utf8')).toBe('file\n');
  expect(fs.statSync(`${host}/back.txt`).mode & 0o777).toBe(0o640);
  // A hard link pair stays one file both ways.
  await ok(['cp', 'dst:/data/tree', `${host}/treeback`]);
  expect(fs.statSync(`${host}/treeback/sub/twin`).ino).toBe(fs.statSync(`${host}/treeback/sub/leaf`).ino);
  expect(fs.readFileSync(`${host}/treeback/sub/twin`, 'utf8')).toBe('leaf\n');
});

it('-L follows a link at SRC; "-" reads a tar from stdin and writes one to stdout', async () => {
  await ok(['create', '--name', 'ln', 'busybox', 'true']);
  fs.writeFileSync(`${host}/real`, 'real\n');
  fs.symlinkSync('real', `${host}/link`);
  await ok(['cp', `${host}/link`, 'ln:/tmp/']);
  await ok(['cp', '-L', `${host}/link`, 'ln:/tmp/followed']);
  const tmp = await tarNames((await raw(['cp', 'ln:/tmp', '-'])).stdout);
  expect(tmp.get('tmp/link')).toMatchObject({ type: 'symlink' });
  expect(tmp.get('tmp/followed')).toMatchObject({ type: 'file', body: 'real\n' });
  // Out of the container: the link itself, or with -L what it points to.
  await ok(['cp', 'ln:/tmp/link', `${host}/out-link`]);
  expect(fs.readlinkSync(`${host}/out-link`)).toBe('real');
  await ok(['cp', '-L', 'ln:/bin/sh', `${host}/sh`]);
  expect(fs.statSync(`${host}/sh`).size).toBe(fs.statSync('/bin/busybox').size);

  const input = await packTar([{ type: 'dir', path: 'fromtar/' }, { type: 'file', path: 'fromtar/x', content: 'x\n', uid: 77, gid: 77 }]);
  expect(await raw(['cp', '-a', '-', 'ln:/tmp'], input)).toMatchObject({ code: 0, stderr: '' });
  const back = await tarNames((await raw(['cp', 'ln:/tmp/fromtar', '-'])).stdout);
  expect(back.get('fromtar/x')).toMatchObject({ body: 'x\n', uid: 77 });
  expect(await raw(['cp', '-', 'ln:/tmp/fromtar/x'], input)).toMatchObject({ code: 1, stderr: 'Error: destination "ln:/tmp/fromtar/x" must be a directory\n' });
  const escape = await packTar([{ type: 'symlink', path: 'evil', target: host }, { type: 'file', path: 'evil/pwned', content: 'x' }]);
  expect(await raw(['cp', '-', 'ln:/tmp'], escape)).toMatchObject({ code: 1, stderr: expect.stringContaining('tar entry "evil/pwned" would be written through the link "evil"') });
  expect(fs.existsSync(`${host}/pwned`)).toBe(false);
});

it('export writes a stopped container (image files and what it wrote) to a file or a pipe, never to a terminal', async () => {
  await ok(['run', '--name', 'ex', 'busybox', 'sh', '-c', 'echo written > /root/mine']);
  await ok(['export', '-o', `${host}/ex.tar`, 'ex']);
  const files = await tarNames(fs.readFileSync(`${host}/ex.tar`));
  expect(files.get('./root/mine')!.body).toBe('written\n');
  expect(files.get('./bin/busybox')!.type).toBe('file');
  expect(files.get('./var/www/index.html')!.body).toBe('hello from berth\n');
  expect(fs.readdirSync(host)).toEqual(['ex.tar']);
  const piped = await raw(['container', 'export', 'ex']);
  expect(piped.code).toBe(0);
  expect((await tarNames(piped.stdout)).get('./root/mine')!.body).toBe('written\n');
  expect(archiveMounts()).toEqual([]);
  expect(await w.berth(['export', 'ghost'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/ghost/) });
  // `script` gives the CLI a terminal as stdout.
  const tty = await new Promise<string>((resolve) => {
    const child = spawn('script', ['-qec', `${BIN} export ex`, '/dev/null'], { env: w.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', () => resolve(out));
  });
  expect(tty).toContain('Error: cowardly refusing to save to a terminal. Use the -o flag or redirect');
  // docker's events for the three calls.
  const ev = await w.berth(['events', '--since', '10m', '--until', '0s', '--filter', 'container=ex', '--format', '{{.Action}}']);
  expect(ev.stdout.split('\n')).toEqual(expect.arrayContaining(['export']));
});
