// Size-based log rotation (rename + conmon reopen) that a follower reads through without losing a line.
import * as fs from 'node:fs';
import { makeHarness, type Harness } from './harness';
import { ContainerIo } from '../src/container-io';

jest.setTimeout(60_000);

let h: Harness;
beforeEach(async () => {
  h = await makeHarness({ pollIntervalMs: 50, logRotation: { maxSize: 2000, maxFiles: 200 } });
});
afterEach(async () => {
  await h.teardown();
});

it('rotates past the size limit while a follower gets every line in order', async () => {
  const io = new ContainerIo(h.mgr);
  const n = 400;
  const c = await h.mgr.create(h.req(['sh', '-c', `i=0; while [ $i -lt ${n} ]; do echo line-$i-padding-padding; i=$((i+1)); usleep 2000; done`]));
  await h.mgr.start(c.id);
  const followed: string[] = [];
  for await (const l of io.logs(c.id, { follow: true })) followed.push(l.line.toString());
  const want = Array.from({ length: n }, (_, i) => `line-${i}-padding-padding\n`);
  expect(followed).toEqual(want);
  const rotated = fs.readdirSync(h.mgr.layout.paths(c.id).dir).filter((f) => /^ctr\.log\.\d+$/.test(f));
  expect(rotated.length).toBeGreaterThan(3);
  // A later reader sees the whole history across the rotated files too.
  const again: string[] = [];
  for await (const l of io.logs(c.id, {})) again.push(l.line.toString());
  expect(again).toEqual(want);
});
