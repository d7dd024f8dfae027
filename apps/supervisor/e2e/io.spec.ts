// Attach, detach, exec, resize and logs on real containers.
import * as fs from 'node:fs';
import { makeHarness, until, type Harness } from './harness';
import { ContainerIo } from '../src/container-io';

jest.setTimeout(60_000);

let h: Harness;
let io: ContainerIo;
beforeEach(async () => {
  h = await makeHarness();
  io = new ContainerIo(h.mgr);
});
afterEach(async () => {
  await h.teardown();
});

function collector() {
  const out = { stdout: '', stderr: '' };
  return { out, h: { stdout: (b: Buffer) => (out.stdout += b.toString()), stderr: (b: Buffer) => (out.stderr += b.toString()) } };
}

async function logText(id: string, o: Parameters<ContainerIo['logs']>[1] = {}): Promise<string[]> {
  const lines: string[] = [];
  for await (const l of io.logs(id, o)) lines.push(`${l.stream}:${l.line.toString()}`);
  return lines;
}

describe('attach', () => {
  it('sends stdin, serves several clients, and detach keys leave the container running', async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'while read l; do echo got:$l; echo err:$l >&2; done'], { openStdin: true }));
    await h.mgr.start(c.id);
    const a = collector();
    const b = collector();
    const ca = await io.attach(c.id, { stdin: true, stdout: true, stderr: true }, a.h);
    const cb = await io.attach(c.id, { stdin: false, stdout: true, stderr: false }, b.h);
    ca.write(Buffer.from('hello\n'));
    await until(() => a.out.stdout.includes('got:hello') && a.out.stderr.includes('err:hello') && b.out.stdout.includes('got:hello'), 5000, 'output on both clients');
    expect(b.out.stderr).toBe('');
    ca.write(Buffer.from('\x10\x11'));
    expect(await ca.done).toEqual({ detached: true });
    cb.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(h.mgr.get(c.id).state!.status).toBe('running');
    // A later client still reaches the same stdin.
    const d = collector();
    const cd = await io.attach(c.id, { stdin: true, stdout: true, stderr: false }, d.h);
    cd.write(Buffer.from('again\n'));
    await until(() => d.out.stdout.includes('got:again'), 5000, 'output after re-attach');
    cd.close();
    expect(h.sink.topics(c.id).filter((t) => t === 'container.attach')).toHaveLength(3);
    const logs = await logText(c.id);
    expect(logs).toEqual(['stdout:got:hello\n', 'stderr:err:hello\n', 'stdout:got:again\n', 'stderr:err:again\n']);
  });

  it('with stdin_once, closing stdin ends PID 1 and the stream reports the end', async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'cat; echo done'], { openStdin: true, stdinOnce: true }));
    await h.mgr.start(c.id);
    const a = collector();
    const ca = await io.attach(c.id, { stdin: true, stdout: true, stderr: true }, a.h);
    ca.write(Buffer.from('abc\n'));
    ca.closeStdin();
    expect(await ca.done).toEqual({ detached: false });
    expect(await h.mgr.wait(c.id)).toBe(0);
    expect(a.out.stdout).toBe('abc\ndone\n');
  });
});

it('attach with start misses nothing of the first output and sizes the terminal first', async () => {
  const c = await h.mgr.create(h.req(['sh', '-c', 'echo first; stty size'], { tty: true, openStdin: true }));
  const a = collector();
  const conn = await io.attach(c.id, { stdin: false, stdout: true, stderr: true, start: true, size: { rows: 21, cols: 66 } }, a.h);
  expect(await conn.done).toEqual({ detached: false });
  expect(await conn.exited).toBe(0);
  expect(a.out.stdout).toBe('first\r\n21 66\r\n');
  expect(h.sink.topics(c.id)).toEqual(['container.create', 'container.attach', 'container.start', 'container.die']);
});

it('attach with start on an auto-remove container still reports the exit code', async () => {
  const c = await h.mgr.create(h.req(['sh', '-c', 'echo bye; exit 9'], {}, { autoRemove: true }));
  const a = collector();
  const conn = await io.attach(c.id, { stdin: false, stdout: true, stderr: true, start: true }, a.h);
  expect(await conn.exited).toBe(9);
  await h.mgr.wait(c.id, 'removed').catch(() => undefined);
  expect(a.out.stdout).toBe('bye\n');
  await new Promise((r) => setTimeout(r, 100));
  expect(h.mgr.list(true).map((x) => x.id)).not.toContain(c.id);
});

describe('exec', () => {
  it('sees PID 1 as the container command and returns exit codes', async () => {
    const c = await h.mgr.create(h.req(['sleep', '1000']));
    await h.mgr.start(c.id);
    const a = collector();
    const x = await io.exec(c.id, { args: ['cat', '/proc/1/cmdline'] }, a.h);
    expect(x.pid).toBeGreaterThan(0);
    expect(await x.exited).toBe(0);
    expect(a.out.stdout).toBe('sleep\x001000\x00');
    const b = collector();
    const y = await io.exec(c.id, { args: ['sh', '-c', 'echo $FOO $(pwd) $(id -u) >&2; exit 3'], env: ['FOO=bar'], workingDir: '/tmp', user: 'nobody' }, b.h);
    expect(await y.exited).toBe(3);
    expect(b.out.stderr).toBe('bar /tmp 65534\n');
    const topics = h.sink.topics(c.id);
    expect(topics.filter((t) => t.startsWith('exec.'))).toEqual(['exec.create', 'exec.start', 'exec.die', 'exec.create', 'exec.start', 'exec.die']);
    expect(h.sink.events.filter((e) => e.topic === 'exec.die').map((e) => e.attributes.exitCode)).toEqual(['0', '3']);
    expect(h.mgr.get(c.id).state!.status).toBe('running');
  });

  it('feeds stdin and reports a missing command as 127', async () => {
    const c = await h.mgr.create(h.req(['sleep', '1000']));
    await h.mgr.start(c.id);
    const a = collector();
    const x = await io.exec(c.id, { args: ['sh', '-c', 'tr a-z A-Z'], stdin: true }, a.h);
    x.write(Buffer.from('shout\n'));
    x.closeStdin();
    expect(await x.exited).toBe(0);
    expect(a.out.stdout).toBe('SHOUT\n');
    const b = collector();
    const y = await io.exec(c.id, { args: ['/no/such/cmd'] }, b.h);
    expect(await y.exited).toBe(127);
    expect(b.out.stderr).toMatch(/no\/such\/cmd/);
  });

  it('runs a detached exec in the background and reports its end as an event', async () => {
    const c = await h.mgr.create(h.req(['sleep', '1000']));
    await h.mgr.start(c.id);
    const x = await io.exec(c.id, { args: ['sh', '-c', 'sleep 0.2; echo bg > /tmp/bg.txt'], detach: true }, collector().h);
    expect(x.pid).toBeGreaterThan(0);
    expect(await x.exited).toBe(0);
    await until(() => h.sink.events.some((e) => e.topic === 'exec.die' && e.attributes.execID === x.execId), 5000, 'exec.die');
    const a = collector();
    expect(await (await io.exec(c.id, { args: ['cat', '/tmp/bg.txt'] }, a.h)).exited).toBe(0);
    expect(a.out.stdout).toBe('bg\n');
  });

  it('runs a TTY exec with its size, and resizes PID 1 terminal', async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'sleep 0.5; stty size; sleep 1000'], { tty: true, openStdin: true }));
    await h.mgr.start(c.id);
    io.resize(c.id, 40, 120);
    const a = collector();
    const x = await io.exec(c.id, { args: ['sh', '-c', 'sleep 0.3; stty size'], tty: true, size: { rows: 33, cols: 77 } }, a.h);
    expect(await x.exited).toBe(0);
    expect(a.out.stdout).toBe('33 77\r\n');
    // Resize of the exec session by its id.
    const b = collector();
    const y = await io.exec(c.id, { args: ['sh', '-c', 'sleep 0.5; stty size'], tty: true }, b.h);
    io.resize(c.id, 50, 100, y.execId);
    expect(await y.exited).toBe(0);
    expect(b.out.stdout).toBe('50 100\r\n');
    const lines = await (async () => {
      for (let i = 0; i < 50; i++) {
        const l = await logText(c.id);
        if (l.length) return l;
        await new Promise((r) => setTimeout(r, 50));
      }
      return [];
    })();
    expect(lines).toEqual(['stdout:40 120\r\n']);
  });
});

it('an exec whose client went away is killed and its session files removed', async () => {
  const c = await h.mgr.create(h.req(['sleep', '1000']));
  await h.mgr.start(c.id);
  const a = collector();
  const x = await io.exec(c.id, { args: ['sleep', '1000'] }, a.h);
  x.abandon();
  expect(await x.exited).toBe(137);
  expect(fs.readdirSync(h.mgr.layout.paths(c.id).execsDir)).toEqual([]);
});

describe('logs', () => {
  it('follows a running container until it exits, with tail', async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; sleep 0.1; done; printf last']));
    await h.mgr.start(c.id);
    const all = await logText(c.id, { follow: true });
    expect(all).toEqual(['stdout:line1\n', 'stdout:line2\n', 'stdout:line3\n', 'stdout:line4\n', 'stdout:line5\n', 'stdout:last']);
    expect(await logText(c.id, { tail: 2 })).toEqual(['stdout:line5\n', 'stdout:last']);
    expect(await logText(c.id, { stdout: false })).toEqual([]);
  });
});
