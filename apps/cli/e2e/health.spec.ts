// Health checks through the real CLI and services: --health-* flags, an image HEALTHCHECK, --no-healthcheck,
// what ps, inspect and events show, the health filter, and bad values refused with exit 125.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImage, busyboxLayerEntries, dockerArchive } from '@berth/testing';
import { cleanContainers, startWorld, until, type World } from './harness';

jest.setTimeout(60_000);

let w: World;

beforeAll(async () => {
  w = await startWorld();
  expect((await w.berth(['load', '-i', w.archive])).code).toBe(0);
  // HEALTHCHECK --interval=200ms --retries=2 CMD cat /tmp/ok, with /tmp/ok in the image.
  const img = await buildImage({
    name: 'checked:latest',
    cmd: ['sleep', '1000'],
    layers: [busyboxLayerEntries(), [{ type: 'file', path: 'tmp/ok', content: 'image ok\n' }]],
    healthcheck: { Test: ['CMD', 'cat', '/tmp/ok'], Interval: 200_000_000, Retries: 2 },
  });
  const archive = path.join(w.root, 'checked.tar');
  fs.writeFileSync(archive, await dockerArchive([img]));
  expect((await w.berth(['load', '-i', archive])).code).toBe(0);
}, 60_000);

afterEach(() => cleanContainers(w));
afterAll(() => w?.teardown());

const status = async (name: string) => (await w.berth(['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}'])).stdout.trim();
const inspect = async (name: string, format: string) => (await w.berth(['inspect', '--format', format, name])).stdout.trim();

it('--health-cmd: (health: starting) in ps, then (healthy) once the check passes; inspect, filter and events say so', async () => {
  const since = new Date(Date.now() - 1000).toISOString();
  const r = await w.berth(['run', '-d', '--name', 'web', '--health-cmd', 'test -f /tmp/ok', '--health-interval', '200ms', '--health-retries', '100', 'busybox', 'sleep', '1000']);
  expect(r.code).toBe(0);
  expect(await status('web')).toMatch(/^Up (Less than a second|\d+ seconds?) \(health: starting\)$/);
  expect(await inspect('web', '{{.State.Health.Status}}')).toBe('starting');
  expect(await inspect('web', '{{json .Config.Healthcheck}}')).toBe('{"Test":["CMD-SHELL","test -f /tmp/ok"],"Interval":200000000,"Retries":100}');
  expect((await w.berth(['ps', '-q', '--filter', 'health=starting'])).stdout.trim()).toBe(r.stdout.trim().slice(0, 12));
  expect((await w.berth(['exec', 'web', 'touch', '/tmp/ok'])).code).toBe(0);
  await until(async () => (await status('web')).endsWith('(healthy)'), 10_000, 'ps to show (healthy)');
  expect(await inspect('web', '{{.State.Health.Status}}')).toBe('healthy');
  const health = JSON.parse(await inspect('web', '{{json .State.Health}}')) as { Status: string; FailingStreak: number; Log: { Start: string; End: string; ExitCode: number; Output: string }[] };
  expect(health.FailingStreak).toBe(0);
  expect(health.Log.length).toBeGreaterThanOrEqual(2);
  expect(health.Log.length).toBeLessThanOrEqual(5);
  expect(health.Log.at(-1)).toEqual({ Start: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/), End: expect.stringMatching(/Z$/), ExitCode: 0, Output: '' });
  expect((await w.berth(['ps', '-q', '--filter', 'health=healthy'])).stdout.trim()).toBe(r.stdout.trim().slice(0, 12));
  expect((await w.berth(['ps', '-q', '--filter', 'health=starting'])).stdout).toBe('');
  const ev = await w.berth(['events', '--since', since, '--until', new Date(Date.now() + 500).toISOString(), '--filter', 'event=health_status', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
  expect(ev).toEqual({ code: 0, stdout: 'health_status: healthy web\n', stderr: '' });
});

it("checks with the image's HEALTHCHECK without flags; a flag replaces one field; --no-healthcheck disables it", async () => {
  expect((await w.berth(['run', '-d', '--name', 'img', 'checked'])).code).toBe(0);
  expect((await w.berth(['run', '-d', '--name', 'slow', '--health-interval', '300ms', 'checked'])).code).toBe(0);
  expect((await w.berth(['run', '-d', '--name', 'off', '--no-healthcheck', 'checked'])).code).toBe(0);
  await until(async () => (await status('img')).endsWith('(healthy)'), 10_000, 'the image check to pass');
  expect(JSON.parse(await inspect('img', '{{json .State.Health.Log}}')).at(-1).Output).toBe('image ok\n');
  expect(await inspect('slow', '{{json .Config.Healthcheck}}')).toBe('{"Test":["CMD","cat","/tmp/ok"],"Interval":300000000,"Retries":2}');
  await until(async () => (await status('slow')).endsWith('(healthy)'), 10_000, 'the image check with a flag to pass');
  // As docker's merge: NONE replaces the test only; the image's other fields stay (and do nothing).
  expect(await inspect('off', '{{json .Config.Healthcheck}}')).toBe('{"Test":["NONE"],"Interval":200000000,"Retries":2}');
  expect(JSON.parse(await inspect('off', '{{json .State}}'))).not.toHaveProperty('Health');
  expect(await status('off')).toMatch(/^Up [^(]+$/);
  expect((await w.berth(['ps', '--filter', 'health=none', '--format', '{{.Names}}'])).stdout).toBe('off\n');
  // Failing now: the image's two retries make it unhealthy.
  expect((await w.berth(['exec', 'img', 'rm', '/tmp/ok'])).code).toBe(0);
  await until(async () => (await status('img')).endsWith('(unhealthy)'), 10_000, 'unhealthy');
  expect(await inspect('img', '{{.State.Health.FailingStreak}}')).toMatch(/^[2-9]$/);
  expect((await w.berth(['ps', '--filter', 'health=unhealthy', '--format', '{{.Names}}'])).stdout).toBe('img\n');
});

it('commit keeps the check the container ran with; the new image is checked without flags', async () => {
  expect((await w.berth(['run', '-d', '--name', 'maker', '--health-cmd', 'true', '--health-interval', '200ms', 'busybox', 'sleep', '1000'])).code).toBe(0);
  expect((await w.berth(['commit', 'maker', 'committed:1'])).code).toBe(0);
  expect((await w.berth(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', 'committed:1'])).stdout.trim()).toBe('{"Test":["CMD-SHELL","true"],"Interval":200000000}');
  expect((await w.berth(['run', '-d', '--name', 'again', 'committed:1'])).code).toBe(0);
  await until(async () => (await status('again')).endsWith('(healthy)'), 10_000, 'the committed check to pass');
  expect((await w.berth(['rm', '-f', 'again', 'maker'])).code).toBe(0);
  expect((await w.berth(['rmi', 'committed:1'])).code).toBe(0);
});

describe('bad values', () => {
  it.each([
    [['--health-interval', '10'], /invalid argument "10" for "--health-interval" flag: time: invalid duration "10"/],
    [['--health-timeout', '-1s'], /--health-timeout cannot be negative/],
    [['--health-retries', '-1'], /--health-retries cannot be negative/],
    [['--health-start-period', 'soon'], /invalid argument "soon" for "--health-start-period" flag/],
    [['--no-healthcheck', '--health-cmd', 'true'], /--no-healthcheck conflicts with --health-\* options/],
    [['--health-cmd', 'true', '--health-interval', '500us'], /invalid healthcheck interval: 500µs cannot be less than 1ms/],
  ])('%j: exit 125, one line, no container', async (flags, message) => {
    const r = await w.berth(['run', '-d', ...flags, 'busybox', 'sleep', '1']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect((await w.berth(['ps', '-aq'])).stdout).toBe('');
  });
});
