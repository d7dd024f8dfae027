// conmon moved out of the supervisor's cgroup (so a cgroup-wide stop of the service spares the containers).
import * as fs from 'node:fs';
import { makeHarness, type Harness } from './harness';

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

it('runs conmon in its own cgroup while the container runs in /berth/<id>', async () => {
  const c = await h.mgr.create(h.req(['sleep', '1000'], {}, { init: true }));
  await h.mgr.start(c.id);
  const st = h.mgr.get(c.id).state!;
  const cgroups = fs.readFileSync(`/proc/${st.conmonPid}/cgroup`, 'utf8');
  expect(cgroups).toMatch(new RegExp(`:memory:/${name}$`, 'm'));
  expect(cgroups).toMatch(new RegExp(`^0::/${name}$`, 'm'));
  expect(fs.readFileSync(`/proc/${st.pid}/cgroup`, 'utf8')).toMatch(new RegExp(`:memory:/berth/${c.id}$`, 'm'));
  await h.mgr.stop(c.id, 5);
  expect(h.mgr.get(c.id).state!.exitCode).toBe(143);
});
