// Streaming verbs through the real CLI: events follows live events, stats streams samples, logs -f follows;
// each ends cleanly on ctrl-c (SIGINT) with exit 0.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, cleanContainers, startWorld, until, type World } from './harness';

let w: World;

beforeAll(async () => {
  w = await startWorld();
  expect((await w.berth(['load', '-i', w.archive])).code).toBe(0);
}, 60_000);

afterEach(() => cleanContainers(w));
afterAll(() => w?.teardown());

function follow(args: string[]) {
  const child = spawn(BIN, args, { env: w.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => stdout, err: () => stderr, exited };
}

describe('following streams', () => {
  it('events (live, --format json) shows a container as it is created, started, exits and is removed', async () => {
    const ev = follow(['events', '--filter', 'container=live', '--format', 'json']);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      expect((await w.berth(['run', '--rm', '--name', 'live', 'busybox', 'true'])).code).toBe(0);
      await until(() => ev.out().includes('"destroy"'), 15_000, 'the destroy event');
      const events = ev.out().trim().split('\n').map((l) => JSON.parse(l) as { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> } });
      const actions = events.map((e) => e.Action);
      expect(actions.indexOf('create')).toBeLessThan(actions.indexOf('start'));
      expect(actions.indexOf('start')).toBeLessThan(actions.indexOf('die'));
      expect(actions.indexOf('die')).toBeLessThan(actions.indexOf('destroy'));
      expect(events[0]!.Actor.Attributes.name).toBe('live');
      ev.child.kill('SIGINT');
      expect(await ev.exited).toBe(0);
      expect(ev.err()).toBe('');
    } finally {
      ev.child.kill('SIGKILL');
    }
  });

  it('stats --no-stream prints one table; stats streams until ctrl-c', async () => {
    expect((await w.berth(['run', '-d', '--name', 'st', '--memory', '32m', 'busybox', 'sleep', '1000'])).code).toBe(0);
    const once = (await w.berth(['stats', '--no-stream', 'st'])).stdout.split('\n');
    expect(once[0]).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    expect(once[1]).toMatch(/^[0-9a-f]{12}\s+st\s+[\d.]+%\s+[\d.]+[KMG]?i?B \/ 32MiB\s+[\d.]+%.*\s1$/);
    const s = follow(['stats', '--format', '{{.Name}} {{.PIDs}}']);
    try {
      await until(() => s.out().split('\n').filter((l) => l === 'st 1').length >= 2, 15_000, 'two samples');
      s.child.kill('SIGINT');
      expect(await s.exited).toBe(0);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('logs -f follows new lines until ctrl-c', async () => {
    expect((await w.berth(['run', '-d', '--name', 'lf', 'busybox', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo n$i; sleep 0.2; done'])).code).toBe(0);
    const l = follow(['logs', '-f', 'lf']);
    try {
      await until(() => l.out().includes('n5\n'), 15_000, 'five lines');
      l.child.kill('SIGINT');
      expect(await l.exited).toBe(0);
      expect(l.out()).toMatch(/^n1\nn2\nn3\nn4\nn5\n/);
    } finally {
      l.child.kill('SIGKILL');
    }
  });
});

describe('log drivers', () => {
  it('--log-driver none keeps no log (logs refuses, attach still shows the output); --log-opt max-size/max-file rotate that container\'s log', async () => {
    expect(await w.berth(['run', '--rm', '--log-driver', 'none', 'busybox', 'echo', 'seen through attach'])).toEqual({ code: 0, stdout: 'seen through attach\n', stderr: '' });
    expect((await w.berth(['run', '-d', '--name', 'quiet', '--log-driver', 'none', 'busybox', 'sh', '-c', 'echo hidden; sleep 1000'])).code).toBe(0);
    const logs = await w.berth(['logs', 'quiet']);
    // A refusal by a service is exit 1 outside run and create, as docker's.
    expect([logs.code, logs.stderr]).toEqual([1, expect.stringMatching(/^Error: configured logging driver does not support reading: container quiet logs to "none"\n$/)]);
    expect((await w.berth(['inspect', '-f', '{{json .HostConfig.LogConfig}} [{{.LogPath}}]', 'quiet'])).stdout).toBe('{"Type":"none","Config":{}} []\n');
    const id = (await w.berth(['inspect', '-f', '{{.Id}}', 'quiet'])).stdout.trim();
    expect(fs.existsSync(path.join(w.root, 'supervisor', 'containers', id, 'ctr.log'))).toBe(false);

    // 100-byte lines past a 4 KiB limit: rotated by the supervisor's poll, at most two old files kept.
    const script = 'i=0; while [ $i -lt 400 ]; do i=$((i+1)); printf "%099d\\n" $i; done; echo last; sleep 1000';
    expect((await w.berth(['run', '-d', '--name', 'chatty', '--log-driver', 'json-file', '--log-opt', 'max-size=4k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', script])).code).toBe(0);
    const cid = (await w.berth(['inspect', '-f', '{{.Id}}', 'chatty'])).stdout.trim();
    const log = path.join(w.root, 'supervisor', 'containers', cid, 'ctr.log');
    await until(() => fs.existsSync(`${log}.1`), 15_000, 'a rotated log');
    expect(fs.existsSync(`${log}.3`)).toBe(false);
    await until(async () => (await w.berth(['logs', '--tail', '1', 'chatty'])).stdout === 'last\n', 15_000, 'the last line');
    expect((await w.berth(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'chatty'])).stdout).toBe('{"Type":"json-file","Config":{"max-size":"4k","max-file":"2"}}\n');

    for (const [flags, message] of [
      [['--log-driver', 'syslog'], /unsupported log driver "syslog"/],
      [['--log-opt', 'max-file=2'], /max-file needs max-size/],
      [['--log-driver', 'none', '--log-opt', 'max-size=1m'], /the none log driver takes no options/],
      [['--log-opt', 'colour=red'], /unknown log option "colour"/],
      [['--log-opt', 'max-size'], /invalid --log-opt "max-size"/],
    ] as const) {
      const r = await w.berth(['run', '--rm', ...flags, 'busybox', 'true']);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(message);
    }
  });
});
