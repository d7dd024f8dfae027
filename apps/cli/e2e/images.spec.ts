// Image verbs through the real CLI: load, images, tag, rmi, history, image inspect, save + load round trip,
// commit (the writable layer becomes an image that runs), import of a root filesystem tarball, system df.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, cleanContainers, startWorld, type World } from './harness';

let w: World;

beforeAll(async () => {
  w = await startWorld();
}, 60_000);

afterEach(() => cleanContainers(w));
afterAll(() => w?.teardown());

describe('images', () => {
  it('load (file and stdin), images, tag, image inspect, history, rmi', async () => {
    const load = await w.berth(['load', '-i', w.archive]);
    expect(load).toEqual({ code: 0, stdout: 'Loaded image: busybox:latest\n', stderr: '' });
    // Loading again from stdin is idempotent.
    const again = await w.berth(['load'], { input: fs.readFileSync(w.archive) });
    expect(again.stdout).toBe('Loaded image: busybox:latest\n');
    expect((await w.berth(['load', '-i', '/nonexistent.tar'])).stderr).toBe('Error: open /nonexistent.tar: no such file or directory\n');
    expect((await w.berth(['tag', 'busybox', 'mybox:v1'])).code).toBe(0);
    const images = (await w.berth(['images'])).stdout.split('\n');
    expect(images[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    const id = (await w.berth(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(images[1]).toMatch(new RegExp(`^busybox\\s+latest\\s+${id.slice(7, 19)}\\s+.*ago\\s+2\\.\\d+MB$`));
    expect(images[2]).toMatch(new RegExp(`^mybox\\s+v1\\s+${id.slice(7, 19)}\\s`));
    expect((await w.berth(['images', '-q'])).stdout).toBe(`${id.slice(7, 19)}\n`);
    // --digests: the manifest digest RepoDigests shows, between TAG and IMAGE ID.
    const digest = (await w.berth(['image', 'inspect', '-f', '{{index .RepoDigests 0}}', 'busybox'])).stdout.trim().split('@')[1]!;
    const withDigests = (await w.berth(['image', 'ls', '--digests'])).stdout.split('\n');
    expect(withDigests[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(withDigests[1]).toMatch(new RegExp(`^busybox\\s+latest\\s+${digest}\\s+${id.slice(7, 19)}\\s`));
    expect((await w.berth(['image', 'inspect', '-f', '{{json .RepoTags}}', 'mybox:v1'])).stdout).toBe('["busybox:latest","mybox:v1"]\n');
    const hist = (await w.berth(['history', 'busybox'])).stdout.split('\n');
    expect(hist[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(hist[1]).toMatch(new RegExp(`^${id.slice(7, 19)}\\s`));
    expect(await w.berth(['rmi', 'mybox:v1'])).toEqual({ code: 0, stdout: 'Untagged: mybox:v1\n', stderr: '' });
    const missing = await w.berth(['rmi', 'mybox:v1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^Error: .*mybox:v1.*\n$/);
  });

  it('commit turns the writable layer into an image that runs; save -o and load bring it back', async () => {
    expect((await w.berth(['load', '-i', w.archive])).code).toBe(0);
    expect((await w.berth(['run', '--name', 'maker', 'busybox', 'sh', '-c', 'echo data > /hello; rm /bin/ls'])).code).toBe(0);
    const commit = await w.berth(['commit', '-m', 'add hello', 'maker', 'withhello:1']);
    expect(commit.code).toBe(0);
    const newId = commit.stdout.trim();
    expect(newId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await w.berth(['run', '--rm', 'withhello:1', 'cat', '/hello'])).toEqual({ code: 0, stdout: 'data\n', stderr: '' });
    // The deletion is in the new layer too (a whiteout).
    expect((await w.berth(['run', '--rm', 'withhello:1', 'ls'])).code).toBe(127);
    const hist = (await w.berth(['history', 'withhello:1'])).stdout.split('\n');
    expect(hist[1]).toMatch(/add hello$/);
    expect(hist).toHaveLength(4);
    const out = path.join(w.root, 'saved.tar');
    expect(await w.berth(['save', '-o', out, 'withhello:1'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(spawnSync('tar', ['-tf', out], { encoding: 'utf8' }).stdout).toContain('manifest.json');
    expect((await w.berth(['rm', 'maker'])).code).toBe(0);
    const rmi = await w.berth(['rmi', 'withhello:1']);
    expect(rmi.stdout).toMatch(/^Untagged: withhello:1\n(Deleted: sha256:[0-9a-f]{64}\n)+$/);
    expect(await w.berth(['load', '-i', out])).toEqual({ code: 0, stdout: 'Loaded image: withhello:1\n', stderr: '' });
    expect((await w.berth(['image', 'inspect', '-f', '{{.Id}}', 'withhello:1'])).stdout.trim()).toBe(newId);
    expect((await w.berth(['run', '--rm', 'withhello:1', 'cat', '/hello'])).stdout).toBe('data\n');
    expect((await w.berth(['rmi', 'withhello:1'])).code).toBe(0);
  });

  it('import makes an image from a root filesystem tarball with -c changes', async () => {
    const dir = fs.mkdtempSync(path.join(w.root, 'rootfs-'));
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.copyFileSync('/bin/busybox', path.join(dir, 'bin', 'busybox'));
    fs.symlinkSync('busybox', path.join(dir, 'bin', 'sh'));
    fs.symlinkSync('busybox', path.join(dir, 'bin', 'echo'));
    const tar = path.join(w.root, 'rootfs.tar');
    expect(spawnSync('tar', ['-C', dir, '-cf', tar, '.']).status).toBe(0);
    const imp = await w.berth(['import', '-c', 'CMD ["echo", "imported"]', '-m', 'from a tarball', tar, 'tiny:1']);
    expect(imp.code).toBe(0);
    expect(imp.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(await w.berth(['run', '--rm', 'tiny:1'])).toEqual({ code: 0, stdout: 'imported\n', stderr: '' });
    expect((await w.berth(['rmi', 'tiny:1'])).code).toBe(0);
  });

  it('load shows a progress line on a terminal', () => {
    const p = spawnSync('script', ['-eqfc', `${BIN} load -i ${w.archive}`, '/dev/null'], { env: w.env, encoding: 'utf8', timeout: 30_000 });
    expect(p.status).toBe(0);
    expect(p.stdout).toMatch(/\rLoading \[=+>\]\s+2\.\d+MB\/2\.\d+MB\r?\n/);
    expect(p.stdout).toContain('Loaded image: busybox:latest');
  });

  it('system df reports images and containers', async () => {
    expect((await w.berth(['load', '-i', w.archive])).code).toBe(0);
    expect((await w.berth(['run', '-d', '--name', 'dfc', 'busybox', 'sleep', '100'])).code).toBe(0);
    const df = (await w.berth(['system', 'df'])).stdout.split('\n');
    expect(df[0]).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    expect(df[1]).toMatch(/^Images\s+1\s+1\s+2\.\d+MB\s/);
    expect(df[2]).toMatch(/^Containers\s+1\s+1\s/);
  });
});
