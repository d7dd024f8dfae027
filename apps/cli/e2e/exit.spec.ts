// Every berth process ends once its work is done, also when several run at once: Node 20 could deadlock in
// process.exit() with a background TurboFan job waiting for a GC (bin/berth turns those jobs off).
import { startWorld, type World } from './harness';

let w: World;

beforeAll(async () => {
  w = await startWorld();
}, 60_000);

afterAll(() => w?.teardown());

it('exits after its output, four at a time, round after round', async () => {
  for (let round = 0; round < 4; round++) {
    const results = await Promise.all([0, 1, 2, 3].map(() => w.berth(['load', '-i', w.archive], { timeoutMs: 20_000 })));
    for (const r of results) expect(r).toEqual({ code: 0, stdout: 'Loaded image: busybox:latest\n', stderr: '' });
  }
}, 120_000);
