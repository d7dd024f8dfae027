// kill -9 each service in turn while a run/stop/rm loop goes on through the SDK: the launcher restarts it,
// running containers keep running, no record is lost or duplicated, and every failed call is UNAVAILABLE.
import { AlreadyExistsError, Berth, FailedPreconditionError, NotFoundError } from '@berth/client';
import { alive, importBusybox, removeAllContainers, retryUnavailable, SERVICES, startBerth, until, type BerthUnderTest } from './harness';

jest.setTimeout(240_000);

const LONG = { overrides: { cmd: ['sleep', '1000'] }, hostConfig: { networkMode: 'none' } };

async function records(berth: Berth) {
  const [imgs, snaps, ctrs] = await Promise.all([berth.images.list({ filter: '' }), berth.snapshots.list({ parent: '' }), berth.containers.list({ all: true })]);
  return {
    images: imgs.images.map((i) => `${i.image?.name}@${i.image?.target?.digest}`).sort(),
    snapshots: snaps.snapshots.map((s) => `${s.key}:${s.kind}`).sort(),
    containers: ctrs.containers.map((c) => `${c.id}:${c.name}`).sort(),
  };
}

/** One create → start → stop → rm cycle; UNAVAILABLE is retried, and a retry that finds the work done is fine. */
async function cycle(berth: Berth, name: string, retried: string[]): Promise<void> {
  let id: string;
  try {
    id = (await retryUnavailable(() => berth.createContainer({ image: 'busybox', name, ...LONG, overrides: { cmd: ['sleep', '30'] } }), retried, `create ${name}`)).id;
  } catch (err) {
    // The first attempt's Create went through before the service died: the container is there.
    if (!(err instanceof AlreadyExistsError)) throw err;
    id = (await retryUnavailable(() => berth.containers.get({ id: name }), retried, `get ${name}`)).id;
  }
  await retryUnavailable(async () => {
    const c = await berth.containers.get({ id });
    if (c.state?.status !== 'running') await berth.start(id);
  }, retried, `start ${name}`);
  // A retry may find the first attempt's work done: stopped already, or removed already.
  let stops = 0;
  await retryUnavailable(async () => {
    try {
      stops++;
      await berth.containers.stop({ id, timeout: 1 });
    } catch (err) {
      if (!(stops > 1 && err instanceof FailedPreconditionError && /is not running/.test(err.message))) throw err;
    }
  }, retried, `stop ${name}`);
  let rms = 0;
  await retryUnavailable(async () => {
    try {
      rms++;
      await berth.removeContainer(id, true);
    } catch (err) {
      if (!(rms > 1 && err instanceof NotFoundError)) throw err;
    }
  }, retried, `rm ${name}`);
}

describe('kill -9 of each service during a run/stop/rm loop', () => {
  let b: BerthUnderTest;

  beforeAll(async () => {
    b = await startBerth();
    await importBusybox(b.berth);
  });

  afterAll(async () => {
    if (b) {
      await removeAllContainers(b.berth).catch(() => undefined);
      await b.stop();
    }
  });

  it('restarts each service, keeps containers running, loses or duplicates no record, and fails only with UNAVAILABLE', async () => {
    const { berth } = b;
    const keepers = [];
    for (const name of ['keeper-1', 'keeper-2']) {
      const r = await berth.run({ image: 'busybox', name, ...LONG, detach: true });
      keepers.push((await berth.containers.get({ id: r.container.id })).state!.pid);
    }
    const before = await records(berth);

    let stop = false;
    let done = 0;
    let loopError: unknown;
    const retried: string[] = [];
    const loop = (async () => {
      for (let i = 0; !stop; i++) {
        await cycle(berth, `loop-${i}`, retried);
        done++;
      }
    })().catch((err: unknown) => {
      loopError = err;
    });
    // Waits for the loop to get past a count, failing at once with the loop's own error if it broke.
    const cycles = (n: number, what: string) =>
      until(() => {
        if (loopError) throw loopError;
        return done >= n;
      }, 90_000, what);

    const restartedIn: Record<string, number> = {};
    for (const svc of SERVICES) {
      const pids = await b.pids();
      const mark = done;
      await cycles(mark + 1, `a loop cycle before killing ${svc}`);
      const t0 = Date.now();
      process.kill(pids[svc], 'SIGKILL');
      const now = await until(async () => {
        const p = await b.pids();
        return p[svc] !== pids[svc] ? p : undefined;
      }, 30_000, `${svc} to be restarted by the launcher`);
      restartedIn[svc] = Date.now() - t0;
      expect(alive(now[svc])).toBe(true);
      // The loop must get through whole cycles against the restarted service.
      const after = done;
      await cycles(after + 2, `two loop cycles after ${svc} restarted`);
    }
    stop = true;
    await loop;
    if (loopError) throw loopError;

    // Every retried failure was UNAVAILABLE naming the service (the loop rethrows anything else).
    for (const r of retried) expect(r).toMatch(/cannot reach the [a-z-]+ service/);
    for (const pid of keepers) expect(alive(pid)).toBe(true);
    for (const name of ['keeper-1', 'keeper-2']) expect((await berth.containers.get({ id: name })).state?.status).toBe('running');

    // Calls cut by a dying service may leave a container's writable snapshot behind: the SDK's prune finds them.
    const orphans = await berth.pruneOrphanSnapshots();
    const after = await records(berth);
    expect(after).toEqual(before);
    const names = (await berth.containers.list({ all: true })).containers.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    console.log(`kill -9: ${done} cycles, restart times ${JSON.stringify(restartedIn)} ms, ${retried.length} retried calls, ${orphans.length} orphan snapshots pruned`);
  });

  it('a start cut short by kill -9 of the supervisor can be retried once it is back', async () => {
    const { berth } = b;
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await berth.createContainer({ image: 'busybox', name: `cut-start-${i}`, ...LONG });
      const pids = await b.pids();
      const cut = berth.containers.start({ id: c.id }).then(
        () => 'completed',
        (err: Error) => `failed: ${err.constructor.name}`,
      );
      // Kill it part way: the netns, the runtime or the record may or may not be there yet.
      await new Promise((r) => setTimeout(r, [5, 15, 30, 60][i]));
      process.kill(pids.supervisor, 'SIGKILL');
      outcomes.push(await cut);
      await until(async () => ((await b.pids()).supervisor !== pids.supervisor ? true : undefined), 30_000, 'supervisor restarted');
      const retried: string[] = [];
      await retryUnavailable(async () => {
        const now = await berth.containers.get({ id: c.id });
        if (now.state?.status !== 'running') await berth.start(c.id);
      }, retried, 'start again');
      const st = (await berth.containers.get({ id: c.id })).state;
      if (st?.status !== 'running') console.log(b.output().split('\n').filter((l) => l.includes(c.id.slice(0, 12)) && /supervisor/.test(l)).slice(-12).join('\n'));
      expect(`${st?.status} ${st?.exitCode} ${st?.error}`).toMatch(/^running /);
      await berth.removeContainer(c.id, true);
    }
    console.log(`cut starts: ${outcomes.join(', ')}`);
    for (const o of outcomes) expect(o).toMatch(/completed|UnavailableError/);
  });
});
