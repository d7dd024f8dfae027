// Restart policies with Docker's backoff, auto-remove, rename/update events, runc as the runtime, and
// re-adoption in-process (a paused container stays paused and controllable).
import * as fs from 'node:fs';
import { makeHarness, until, type Harness } from './harness';
import { ContainerNotFoundError } from '../src/errors';

jest.setTimeout(60_000);

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.teardown();
});

it('on-failure:2 restarts a failing container twice with a growing delay, then leaves it exited', async () => {
  const c = await h.mgr.create(h.req(['sh', '-c', 'exit 3'], {}, { restartPolicy: { name: 'on-failure', maximumRetryCount: 2 } }));
  await h.mgr.start(c.id);
  await until(() => h.sink.topics(c.id).filter((t) => t === 'container.die').length === 3, 10_000, 'three exits');
  await until(() => h.mgr.get(c.id).state!.status === 'exited', 5000, 'the final exit');
  await new Promise((r) => setTimeout(r, 600));
  const st = h.mgr.get(c.id).state!;
  expect(st.restartCount).toBe(2);
  expect(st.exitCode).toBe(3);
  expect(h.sink.topics(c.id)).toEqual(['container.create', 'container.start', 'container.die', 'container.start', 'container.die', 'container.start', 'container.die']);
  const at = (topic: string) => h.sink.events.filter((e) => e.subjectId === c.id && e.topic === topic).map((e) => e.at);
  const [die, start] = [at('container.die'), at('container.start')];
  expect(start[1]! - die[0]!).toBeGreaterThanOrEqual(95);
  expect(start[2]! - die[1]!).toBeGreaterThanOrEqual(195);
});

it('a start by the user begins the policy afresh: the count and on-failure\'s budget go back to zero', async () => {
  const c = await h.mgr.create(h.req(['sh', '-c', 'exit 3'], {}, { restartPolicy: { name: 'on-failure', maximumRetryCount: 1 } }));
  await h.mgr.start(c.id);
  await until(() => h.sink.topics(c.id).filter((t) => t === 'container.die').length === 2 && h.mgr.get(c.id).state!.status === 'exited', 10_000, 'the run and its one retry');
  expect(h.mgr.get(c.id).state!.restartCount).toBe(1);
  await h.mgr.start(c.id);
  // The manual start itself is not a restart; the policy then retries once more.
  await until(() => h.sink.topics(c.id).filter((t) => t === 'container.die').length === 4 && h.mgr.get(c.id).state!.status === 'exited', 10_000, 'the second run and its retry');
  await new Promise((r) => setTimeout(r, 600));
  expect(h.mgr.get(c.id).state!.restartCount).toBe(1);
  expect(h.sink.topics(c.id).filter((t) => t === 'container.start')).toHaveLength(4);
});

it('always restarts after an outside kill but not after a user stop', async () => {
  const c = await h.mgr.create(h.req(['sleep', '1000'], {}, { init: true, restartPolicy: { name: 'always', maximumRetryCount: 0 } }));
  await h.mgr.start(c.id);
  const pid1 = h.mgr.get(c.id).state!.pid;
  process.kill(pid1, 'SIGKILL');
  await until(() => h.mgr.get(c.id).state!.status === 'running' && h.mgr.get(c.id).state!.pid !== pid1, 10_000, 'the restart');
  expect(h.mgr.get(c.id).state!.restartCount).toBe(1);
  await h.mgr.stop(c.id, 5);
  await new Promise((r) => setTimeout(r, 500));
  expect(h.mgr.get(c.id).state!.status).toBe('exited');
  expect(h.mgr.get(c.id).state!.restartCount).toBe(1);
});

it('auto-remove deletes the container after it exits', async () => {
  const c = await h.mgr.create(h.req(['true'], {}, { autoRemove: true }));
  const removed = h.mgr.wait(c.id, 'removed');
  await h.mgr.start(c.id);
  expect(await removed).toBe(0);
  expect(() => h.mgr.get(c.id)).toThrow(ContainerNotFoundError);
  expect(fs.existsSync(h.mgr.layout.paths(c.id).dir)).toBe(false);
  expect(h.sink.topics(c.id)).toEqual(['container.create', 'container.start', 'container.die', 'container.destroy']);
});

it('renames and updates with events, and runs under runc when asked', async () => {
  const c = await h.mgr.create(h.req(['sh', '-c', 'echo via-runc'], {}, { runtime: 'runc' }, 'first'));
  await h.mgr.rename('first', 'second');
  expect(h.mgr.get('second').id).toBe(c.id);
  await h.mgr.update('second', undefined, { name: 'on-failure', maximumRetryCount: 1 });
  expect(h.mgr.get(c.id).hostConfig!.restartPolicy).toEqual({ name: 'on-failure', maximumRetryCount: 1 });
  await h.mgr.start('second');
  expect(await h.mgr.wait('second')).toBe(0);
  expect(fs.readFileSync(c.logPath, 'utf8')).toMatch(/stdout F via-runc/);
  expect(h.sink.topics(c.id).slice(0, 3)).toEqual(['container.create', 'container.rename', 'container.update']);
  expect(h.sink.events.find((e) => e.topic === 'container.rename')!.attributes.oldName).toBe('first');
});

it('a new manager re-adopts a paused container, sees its exit and cleans up', async () => {
  const c = await h.mgr.create(h.req(['sleep', '1000'], {}, { init: true }));
  await h.mgr.start(c.id);
  await h.mgr.pause(c.id);
  await h.mgr.close();
  h.mgr = await h.open();
  expect(h.mgr.get(c.id).state!.status).toBe('paused');
  await h.mgr.resume(c.id);
  await h.mgr.stop(c.id, 5);
  expect(h.mgr.get(c.id).state!.exitCode).toBe(143);
});

it('applies the restart policy to an exit that happened while no manager was watching', async () => {
  const c = await h.mgr.create(h.req(['sh', '-c', 'sleep 0.5; exit 1'], {}, { restartPolicy: { name: 'on-failure', maximumRetryCount: 1 } }));
  await h.mgr.start(c.id);
  await h.mgr.close();
  await until(() => fs.existsSync(h.mgr.layout.paths(c.id).exitFile), 5000, 'the exit while down');
  h.mgr = await h.open();
  await until(() => h.mgr.get(c.id).state!.restartCount === 1 && h.mgr.get(c.id).state!.status === 'exited', 10_000, 'the restart and its exit');
  expect(h.mgr.get(c.id).state!.exitCode).toBe(1);
  expect(h.sink.topics(c.id)).toEqual(['container.create', 'container.start', 'container.die', 'container.start', 'container.die']);
});

it('a container whose conmon died while no manager watched is recorded dead (255) and restarted by its policy', async () => {
  const c = await h.mgr.create(h.req(['sleep', '1000'], {}, { init: true, restartPolicy: { name: 'always', maximumRetryCount: 0 } }));
  await h.mgr.start(c.id);
  const st = h.mgr.get(c.id).state!;
  await h.mgr.close();
  process.kill(st.conmonPid, 'SIGKILL');
  await until(() => !fs.existsSync(`/proc/${st.conmonPid}/comm`) || fs.readFileSync(`/proc/${st.conmonPid}/stat`, 'utf8').includes(') Z'), 5000, 'conmon gone');
  h.mgr = await h.open();
  await until(() => h.mgr.get(c.id).state!.status === 'running' && h.mgr.get(c.id).state!.pid !== st.pid, 10_000, 'the restart');
  expect(h.mgr.get(c.id).state!.restartCount).toBe(1);
  // The old PID 1 was ended (its parent is now the host's init, which may not have reaped it yet).
  const old = fs.existsSync(`/proc/${st.pid}/stat`) ? fs.readFileSync(`/proc/${st.pid}/stat`, 'utf8') : '';
  expect(old === '' || / Z /.test(old.replace(/^.*\)/, ' '))).toBe(true);
  expect(h.sink.topics(c.id)).toEqual(['container.create', 'container.start', 'container.die', 'container.start']);
  expect(h.sink.events.find((e) => e.topic === 'container.die')!.attributes.exitCode).toBe('255');
});
