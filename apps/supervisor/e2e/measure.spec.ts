// Figures for the report (printed), with the targets asserted: conmon under 3 MB RSS per container,
// concurrent starts all running. Timing itself is reported, not asserted (a shared 2-core machine is noisy).
import * as fs from 'node:fs';
import { makeHarness, type Harness } from './harness';

jest.setTimeout(120_000);

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h.teardown();
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

it('create+start+wait of true, in-process (network none)', async () => {
  const total: number[] = [];
  const removeMs: number[] = [];
  for (let i = 0; i < 15; i++) {
    const req = h.req(['true']);
    const t0 = process.hrtime.bigint();
    const c = await h.mgr.create(req);
    await h.mgr.start(c.id);
    const code = await h.mgr.wait(c.id);
    const t1 = process.hrtime.bigint();
    await h.mgr.remove(c.id);
    const t2 = process.hrtime.bigint();
    expect(code).toBe(0);
    total.push(Number(t1 - t0) / 1e6);
    removeMs.push(Number(t2 - t1) / 1e6);
  }
  console.log(`create+start+wait(true): median ${median(total).toFixed(1)} ms (min ${Math.min(...total).toFixed(1)}), remove: median ${median(removeMs).toFixed(1)} ms`);
});

it('conmon RSS per running container stays under 3 MB; 50 concurrent starts all run', async () => {
  const ids = await Promise.all(Array.from({ length: 50 }, async () => (await h.mgr.create(h.req(['sleep', '1000'], {}, { init: true }))).id));
  const t0 = Date.now();
  await Promise.all(ids.map((id) => h.mgr.start(id)));
  const startAll = Date.now() - t0;
  const running = ids.map((id) => h.mgr.get(id).state!).filter((s) => s.status === 'running');
  expect(running).toHaveLength(50);
  const rss = running.map((s) => rssKb(s.conmonPid));
  for (const r of rss) expect(r).toBeLessThan(3 * 1024);
  console.log(`50 concurrent starts: ${startAll} ms; conmon VmRSS median ${median(rss)} kB (max ${Math.max(...rss)} kB)`);
  await Promise.all(ids.map((id) => h.mgr.remove(id, true)));
});
