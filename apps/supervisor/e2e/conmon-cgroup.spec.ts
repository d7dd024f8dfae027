// conmon moved out of the supervisor's cgroup (so a cgroup-wide stop of the service spares the containers).
import * as fs from 'node:fs';
import { inConmonCgroup } from '../src/runtime/conmon';
import { makeHarness, until, type Harness } from './harness';

jest.setTimeout(60_000);

const name = `berth-conmon-test-${process.pid}`;
let h: Harness;
beforeEach(async () => {
  h = await makeHarness({ conmonCgroup: name });
});
afterEach(async () => {
  await h.teardown();
  for (const c of ['memory', 'pids', 'cpu', 'systemd', 'unified']) {
    if (fs.existsSync(`/sys/fs/cgroup/${c}/${name}`)) fs.rmdirSync(`/sys/fs/cgroup/${c}/${name}`);
  }
});

it('moves conmon to its own cgroup soon after the start while the container runs in /berth/<id>', async () => {
  const c = await h.mgr.create(h.req(['sleep', '1000'], {}, { init: true }));
  await h.mgr.start(c.id);
  const st = h.mgr.get(c.id).state!;
  // Off the start's critical path: CONMON_MOVE_DELAY_MS after the start, then one migration per hierarchy.
  await until(() => inConmonCgroup(st.conmonPid, name), 5000, 'conmon in its cgroup');
  const cgroups = fs.readFileSync(`/proc/${st.conmonPid}/cgroup`, 'utf8');
  expect(cgroups).toMatch(new RegExp(`:memory:/${name}$`, 'm'));
  expect(cgroups).toMatch(new RegExp(`^0::/${name}$`, 'm'));
  expect(fs.readFileSync(`/proc/${st.pid}/cgroup`, 'utf8')).toMatch(new RegExp(`:memory:/berth/${c.id}$`, 'm'));
  await h.mgr.stop(c.id, 5);
  expect(h.mgr.get(c.id).state!.exitCode).toBe(143);
});

it('leaves the conmon of a container that ended within the delay where it was (no migration at all)', async () => {
  const c = await h.mgr.create(h.req(['true'], {}, {}));
  await h.mgr.start(c.id);
  const conmonPid = h.mgr.get(c.id).state!.conmonPid;
  expect(await h.mgr.wait(c.id)).toBe(0);
  await new Promise((r) => setTimeout(r, 300));
  // conmon is gone with its container: nobody was moved, and the cgroup holds no process of ours.
  expect(fs.existsSync(`/proc/${conmonPid}/cgroup`) ? inConmonCgroup(conmonPid, name) : false).toBe(false);
  const procs = fs.existsSync(`/sys/fs/cgroup/memory/${name}/cgroup.procs`) ? fs.readFileSync(`/sys/fs/cgroup/memory/${name}/cgroup.procs`, 'utf8').trim() : '';
  expect(procs).toBe('');
});
