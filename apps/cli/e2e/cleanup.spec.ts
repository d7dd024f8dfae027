// Nothing half made: a failure at any step of run/create leaves no container and no writable snapshot.
import { Berth } from '@berth/client';
import { cleanContainers, startWorld, until, type World } from './harness';

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
