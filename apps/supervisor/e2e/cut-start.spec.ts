// A start cut short by a crash of the supervisor between launching conmon ahead (blocked on its start pipe)
// and the start byte. conmon then reads EOF, goes on and creates the container by itself, after the new
// supervisor's re-adoption looked. The retried start must end that conmon and delete its runtime container
// first (cut-start.ts): else the runtime refuses a second create of the id, or the old conmon's exit report
// ends the new container (the fault suite saw "exited 137" about once in five kill -9 runs).
import * as fs from 'node:fs';
import { writeBundleFiles } from '../src/container-bundle';
import type { RunnerHost } from '../src/container-types';
import { launchEarly } from '../src/conmon-launch';
import { isConmonAlive, readPidFile } from '../src/runtime/conmon';
import { mountRootfs } from '../src/runtime/mounts';
import { makeHarness, until, type Harness } from './harness';

jest.setTimeout(60_000);

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.teardown();
});

/**
 * What the crashed supervisor had done: rootfs mounted (and recorded), bundle written, conmon launched ahead;
 * then its end of the start pipe closed. Returns the container and the cut conmon once it created it.
 */
async function cutStart(): Promise<{ id: string; cutConmon: number }> {
  const c = await h.mgr.create(h.req(['sh', '-c', 'exit 3']));
  const e = h.mgr.entries.get(c.id)!;
  const runtime = h.mgr.runtimeOf(e);
  const p = h.mgr.layout.paths(c.id);
  fs.mkdirSync(p.bundle, { recursive: true, mode: 0o700 });
  await mountRootfs(e.s.ctr.rootfs, p.rootfs);
  e.s.facts.mounted = true;
  writeBundleFiles(h.mgr, e.s.ctr, p, { newNetns: true, attachments: [], ports: [], hostsEntries: [], dns: { nameservers: [], search: [], options: [] } }, 'none', {});
  const early = launchEarly({ layout: h.mgr.layout } as RunnerHost, e, runtime, p);
  early.conmon.startPipe!.destroy();
  // conmon reads EOF, creates the container by itself and reports PID 1 on the sync pipe; read that before
  // dropping the other pipes, so whether conmon outlives a closed sync pipe plays no part here.
  const created = await early.conmon.sync.next();
  early.conmon.release();
  expect(created?.data).toBeGreaterThan(0);
  await until(() => fs.existsSync(`${runtime.root}/${c.id}`) && readPidFile(p.conmonPidFile) > 0, 10_000, 'the cut conmon to create the container');
  return { id: c.id, cutConmon: readPidFile(p.conmonPidFile) };
}

async function retriedStartRuns(id: string, cutConmon: number): Promise<void> {
  await h.mgr.start(id);
  expect(await h.mgr.wait(id)).toBe(3);
  const st = h.mgr.get(id).state!;
  expect(st).toMatchObject({ status: 'exited', exitCode: 3, oomKilled: false });
  expect(st.conmonPid).not.toBe(cutConmon);
  expect(isConmonAlive(cutConmon)).toBe(false);
  // The old conmon reported nothing afterwards: the record still says 3 a moment later.
  await new Promise((r) => setTimeout(r, 300));
  expect(h.mgr.get(id).state!.exitCode).toBe(3);
}

it('a retried start ends the conmon a cut start left and runs the container with its own exit code', async () => {
  const { id, cutConmon } = await cutStart();
  expect(isConmonAlive(cutConmon)).toBe(true);
  await retriedStartRuns(id, cutConmon);
});

it('a retried start also clears the runtime container when the cut conmon is gone as well', async () => {
  const { id, cutConmon } = await cutStart();
  // Our own child: conmon dying with the supervisor (as on a closed sync pipe) leaves the created container.
  process.kill(cutConmon, 'SIGKILL');
  await until(() => !isConmonAlive(cutConmon), 5000, 'the cut conmon to die');
  await retriedStartRuns(id, cutConmon);
});
