// Nothing half made: a failure at any step of run/create leaves no container and no writable snapshot.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Berth } from '@berth/client';
import { buildImage, dockerArchive, packTar } from '@berth/testing';
import { cleanContainers, startWorld, until, type World } from './harness';
import { claimBridge, removeBridge } from './network-host';

let w: World;
let sdk: Berth;

beforeAll(async () => {
  w = await startWorld();
  sdk = new Berth({ env: w.env });
  expect((await w.berth(['load', '-i', w.archive])).code).toBe(0);
}, 60_000);

afterEach(() => cleanContainers(w));
afterAll(async () => {
  sdk?.close();
  await w?.teardown();
});

async function containerSnapshots(): Promise<string[]> {
  return (await sdk.snapshots.list({ parent: '' })).snapshots.filter((s) => s.labels['berth.container']).map((s) => s.key);
}

describe('cleanup on failure', () => {
  it('a Create the supervisor refuses (missing bind source) removes the snapshot prepared for it', async () => {
    const r = await w.berth(['run', '-v', '/nonexistent-src:/data', 'busybox', 'true']);
    expect(r).toEqual({ code: 125, stdout: '', stderr: 'Error: invalid volume: bind source path does not exist: /nonexistent-src\n' });
    expect(await containerSnapshots()).toEqual([]);
  });

  it('a name in use fails the second create and leaves only the first container', async () => {
    const first = (await w.berth(['create', '--name', 'dup', 'busybox', 'true'])).stdout.trim();
    const r = await w.berth(['create', '--name', 'dup', 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^Error: the container name "dup" is already in use/);
    expect(await containerSnapshots()).toEqual([first]);
  });

  it('run --rm of a command that cannot start removes the container and its snapshot (exit 127)', async () => {
    const r = await w.berth(['run', '--rm', 'busybox', 'nope']);
    expect(r.code).toBe(127);
    expect((await sdk.containers.list({ all: true })).containers).toEqual([]);
    expect(await containerSnapshots()).toEqual([]);
  });

  it('without --rm a failed start keeps the container (docker keeps it too) and rm removes it with its snapshot', async () => {
    const r = await w.berth(['run', '--name', 'broken', 'busybox', 'nope']);
    expect(r.code).toBe(127);
    const ctr = await sdk.containers.get({ id: 'broken' });
    expect(await containerSnapshots()).toEqual([ctr.snapshotKey]);
    expect((await w.berth(['rm', 'broken'])).code).toBe(0);
    expect(await containerSnapshots()).toEqual([]);
  });

  it('run -d --rm: the supervisor removes the exited container, rootfs its snapshot (on container.destroy)', async () => {
    const id = (await w.berth(['run', '-d', '--rm', 'busybox', 'true'])).stdout.trim();
    await until(async () => !(await sdk.containers.list({ all: true })).containers.some((c) => c.id === id), 10_000, 'auto-remove');
    await until(async () => (await containerSnapshots()).length === 0, 10_000, 'its snapshot removed');
  });

  it('system prune removes a container snapshot whose container is gone (a destroy event rootfs never saw)', async () => {
    // A running container keeps its snapshot through the prune.
    const id = (await w.berth(['run', '-d', 'busybox', 'sleep', '1000'])).stdout.trim();
    const orphan = 'f'.repeat(64);
    const snap = await sdk.snapshots.stat({ key: id });
    await sdk.snapshots.prepare({ key: orphan, parent: snap.parent, labels: { 'berth.container': orphan } });
    const prune = await w.berth(['system', 'prune', '-f']);
    expect(prune.stdout).toContain(`Deleted orphan snapshots:\n${orphan}\n`);
    expect(await containerSnapshots()).toEqual([id]);
  });

  it('the SDK run workflow: attach, exit code, and --rm cleanup', async () => {
    const out: Buffer[] = [];
    const res = await sdk.run(
      { image: 'busybox', overrides: { cmd: ['sh', '-c', 'echo sdk; exit 9'] }, hostConfig: { networkMode: 'none' }, remove: true, attach: { stdout: true, stderr: true } },
      { stdout: (b) => out.push(b), stderr: (b) => out.push(b) },
    );
    expect(await res.done).toEqual({ exitCode: 9 });
    expect(Buffer.concat(out).toString()).toBe('sdk\n');
    expect(await containerSnapshots()).toEqual([]);
  });
});

describe('prune verbs', () => {
  it('container prune removes stopped containers only, after a yes (piped) or with -f', async () => {
    const stopped = (await w.berth(['create', 'busybox', 'true'])).stdout.trim();
    const running = (await w.berth(['run', '-d', 'busybox', 'sleep', '1000'])).stdout.trim();
    const no = await w.berth(['container', 'prune'], { input: 'n\n' });
    expect(no).toEqual({ code: 0, stdout: 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ', stderr: '' });
    const yes = await w.berth(['container', 'prune'], { input: 'y\n' });
    expect(yes.stdout).toContain(`Deleted Containers:\n${stopped}\n\nTotal: 1 containers\n`);
    expect((await sdk.containers.list({ all: true })).containers.map((c) => c.id)).toEqual([running]);
    expect(await containerSnapshots()).toEqual([running]);
  });

  it('network prune removes user networks no container is on', async () => {
    // Subnets no other test world on this host uses (the claimed pair's first /24, split in two).
    const claim = claimBridge('bt-cln');
    try {
      const third = claim.subnet.split('.')[2];
      await w.berth(['network', 'create', '--subnet', `10.213.${third}.0/25`, 'used']);
      await w.berth(['network', 'create', '--subnet', `10.213.${third}.128/25`, 'unused']);
      expect((await w.berth(['run', '-d', '--name', 'holder', '--network', 'used', 'busybox', 'sleep', '1000'])).code).toBe(0);
      expect(await w.berth(['network', 'prune', '-f'])).toEqual({ code: 0, stdout: 'Deleted Networks:\nunused\n\n', stderr: '' });
      const left = (await sdk.networks.list({ nameContains: '' })).networks.filter((n) => !n.predefined).map((n) => n.name);
      expect(left).toEqual(['used']);
      await w.berth(['rm', '-f', 'holder']);
      for (const n of left) await w.berth(['network', 'rm', n]);
    } finally {
      await removeBridge(claim.bridge);
    }
  });

  it('image prune removes a dangling image; -a also the unused named ones, never one a container uses', async () => {
    const img = await buildImage({ name: 'ignored:1', layers: [[{ type: 'file', path: 'd', content: 'dangling' }]] });
    const archive = path.join(w.root, 'nameless.tar');
    fs.writeFileSync(archive, await packTar([
      { type: 'file', path: 'l/layer.tar', content: img.layers[0]!.tar },
      { type: 'file', path: 'c.json', content: img.config },
      { type: 'file', path: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', RepoTags: null, Layers: ['l/layer.tar'] }]) },
    ]));
    expect((await w.berth(['load', '-i', archive])).code).toBe(0);
    const named = await buildImage({ name: 'spare:1', layers: [[{ type: 'file', path: 's', content: 'spare' }]] });
    const spare = path.join(w.root, 'spare.tar');
    fs.writeFileSync(spare, await dockerArchive([named]));
    expect((await w.berth(['load', '-i', spare])).code).toBe(0);
    await w.berth(['run', '-d', 'busybox', 'sleep', '1000']);
    const names = async () => (await sdk.images.list({ filter: '' })).images.map((i) => i.image!.name).sort();

    const r = await w.berth(['image', 'prune', '-f']);
    expect(r.stdout).toContain(`deleted: ${img.configDigest}`);
    expect(await names()).toEqual(['docker.io/library/busybox:latest', 'docker.io/library/spare:1']);
    const all = await w.berth(['image', 'prune', '-a', '-f']);
    expect(all.stdout).toContain('untagged: docker.io/library/spare:1');
    expect(await names()).toEqual(['docker.io/library/busybox:latest']);
  });
});
