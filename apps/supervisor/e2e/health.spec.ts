// Health checks on real busybox containers under conmon + crun, with short intervals: probes run by the
// runtime's exec in the container, status starting -> healthy/unhealthy, the log, timeouts, the start period,
// the loop's end with the container and its return after a pause or a supervisor restart.
import * as fs from 'node:fs';
import { status as grpcStatus } from '@grpc/grpc-js';
import { containersV1 } from '@berth/api';
import { InvalidHealthcheckError } from '../src/health/errors';
import { HEALTH_TOPIC } from '../src/health/health-monitor';
import { EventBus, subjectFor, type Envelope } from '@berth/events';
import { startNatsServer } from '@berth/testing';
import { makeHarness, until, type Harness } from './harness';

jest.setTimeout(60_000);

const MS = 1_000_000;
const LONG = ['sh', '-c', 'sleep 600'];

function check(test: string[], o: { interval?: number; timeout?: number; startPeriod?: number; startInterval?: number; retries?: number } = {}): containersV1.Healthcheck {
  return containersV1.Healthcheck.fromPartial({
    test,
    interval: (o.interval ?? 150) * MS,
    timeout: (o.timeout ?? 2000) * MS,
    startPeriod: (o.startPeriod ?? 0) * MS,
    startInterval: (o.startInterval ?? 0) * MS,
    retries: o.retries ?? 0,
  });
}

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.teardown();
});

const health = (id: string) => h.mgr.get(id).state!.health;
const statusOf = (id: string) => health(id)?.status;
const healthEvents = (id: string) => h.sink.events.filter((e) => e.subjectId === id && e.topic === HEALTH_TOPIC).map((e) => e.attributes.healthStatus);

/** Processes of a container's exec probes still alive (the runtime's `exec` names the container id). */
function probeProcesses(id: string): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd.includes('exec') && cmd.includes(id)) out.push(`${pid} ${cmd.join(' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

it('is starting at the start and healthy after the first good probe; the event says so once', async () => {
  const c = await h.mgr.create(h.req(LONG, { healthcheck: check(['CMD-SHELL', 'echo fine']) }));
  await h.mgr.start(c.id);
  expect(health(c.id)).toEqual({ status: 'starting', failingStreak: 0, log: [] });
  await until(() => statusOf(c.id) === 'healthy', 5000, 'healthy');
  const hl = health(c.id)!;
  expect(hl.failingStreak).toBe(0);
  expect(hl.log[0]).toMatchObject({ exitCode: 0, output: 'fine\n' });
  expect(hl.log[0]!.end!.getTime()).toBeGreaterThanOrEqual(hl.log[0]!.start!.getTime());
  // Later probes keep it healthy without another event; the log keeps the last 5.
  await until(() => health(c.id)!.log.length === 5, 5000, 'five results');
  await new Promise((r) => setTimeout(r, 400));
  expect(health(c.id)!.log).toHaveLength(5);
  expect(healthEvents(c.id)).toEqual(['healthy']);
  // The real bus takes the topic (it refuses what is not "<domain>.<action>").
  expect(subjectFor(HEALTH_TOPIC)).toBe('berth.events.container.health-status');
  const ev = h.sink.events.find((e) => e.topic === HEALTH_TOPIC)!;
  expect(ev.attributes).toMatchObject({ name: c.name, image: 'busybox:latest', healthStatus: 'healthy' });
});

it('publishes the changes on a real NATS, in order, stored in the stream', async () => {
  const nats = await startNatsServer();
  const bus = await EventBus.connect({ url: nats.url, source: 'supervisor', node: 'test' });
  const live: Envelope[] = [];
  const sub = bus.subscribe(HEALTH_TOPIC, (ev) => live.push(ev));
  try {
    // This test's own harness publishes to the bus as well as to its sink.
    await h.teardown();
    let sink: Harness['sink'] | undefined;
    h = await makeHarness({ events: { publish: (ev) => (sink?.publish(ev), bus.publish(ev)) } });
    sink = h.sink;
    const since = new Date();
    const c = await h.mgr.create(h.req(['sh', '-c', 'touch /tmp/ok; sleep 0.8; rm /tmp/ok; sleep 1; touch /tmp/ok; sleep 600'],
      { healthcheck: check(['CMD', 'test', '-f', '/tmp/ok'], { retries: 1 }) }));
    await h.mgr.start(c.id);
    await until(() => healthEvents(c.id).length === 3, 8000, 'three changes');
    await bus.flush();
    await until(() => live.length === 3, 3000, 'three events on NATS');
    expect(live.map((e) => [e.topic, e.subjectId, e.attributes.healthStatus, e.attributes.name])).toEqual([
      [HEALTH_TOPIC, c.id, 'healthy', c.name], [HEALTH_TOPIC, c.id, 'unhealthy', c.name], [HEALTH_TOPIC, c.id, 'healthy', c.name],
    ]);
    const stored: string[] = [];
    for await (const ev of bus.replay({ filter: HEALTH_TOPIC, since, until: new Date() })) stored.push(ev.envelope.attributes.healthStatus!);
    expect(stored).toEqual(['healthy', 'unhealthy', 'healthy']);
  } finally {
    sub.unsubscribe();
    await h.teardown();
    h = await makeHarness();
    await bus.close();
    await nats.dispose();
  }
});

it('turns unhealthy after `retries` failures, with the outputs in the log, and healthy again when it passes', async () => {
  // /tmp/ok exists for the first second, then goes, then comes back.
  const c = await h.mgr.create(h.req(['sh', '-c', 'echo fine > /tmp/ok; sleep 1; rm /tmp/ok; sleep 1.5; echo back > /tmp/ok; sleep 600'],
    { healthcheck: check(['CMD', 'cat', '/tmp/ok'], { retries: 2 }) }));
  await h.mgr.start(c.id);
  await until(() => statusOf(c.id) === 'healthy', 5000, 'healthy');
  await until(() => statusOf(c.id) === 'unhealthy', 5000, 'unhealthy');
  const hl = health(c.id)!;
  expect(hl.failingStreak).toBe(2);
  const failed = hl.log.filter((l) => l.exitCode !== 0);
  expect(failed.length).toBeGreaterThanOrEqual(2);
  expect(failed[failed.length - 1]!.output).toContain("can't open '/tmp/ok'");
  expect(failed[failed.length - 1]!.exitCode).toBe(1);
  await until(() => statusOf(c.id) === 'healthy', 5000, 'healthy again');
  expect(health(c.id)!.failingStreak).toBe(0);
  expect(health(c.id)!.log.at(-1)!.output).toBe('back\n');
  expect(healthEvents(c.id)).toEqual(['healthy', 'unhealthy', 'healthy']);
  // Stored: a reader of the database sees the same.
  expect(h.mgr.store.all().find((s) => s.ctr.id === c.id)!.ctr.state!.health!.status).toBe('healthy');
});

it('records a probe that outlives its timeout as docker does, and kills it', async () => {
  const c = await h.mgr.create(h.req(LONG, { healthcheck: check(['CMD-SHELL', 'echo started; sleep 30'], { timeout: 300, retries: 1 }) }));
  await h.mgr.start(c.id);
  await until(() => statusOf(c.id) === 'unhealthy', 5000, 'unhealthy');
  const first = health(c.id)!.log[0]!;
  expect(first.exitCode).toBe(-1);
  expect(first.output).toBe('Health check exceeded timeout (300ms): started\n');
  const took = first.end!.getTime() - first.start!.getTime();
  expect(took).toBeGreaterThanOrEqual(300);
  // Ended by the timeout, far before its sleep 30 would have ended it.
  expect(took).toBeLessThan(10_000);
  // Killed probes do not pile up in the container: besides PID 1, at most the probe in flight sleeps.
  await until(() => health(c.id)!.log.length >= 4, 5000, 'four timed-out probes');
  const procs = fs.readFileSync(`/sys/fs/cgroup/pids/berth/${c.id}/cgroup.procs`, 'utf8').split('\n').filter(Boolean);
  const sleepers = procs.filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\x0030\x00';
    } catch {
      return false;
    }
  });
  expect(sleepers.length).toBeLessThanOrEqual(1);
  await h.mgr.stop(c.id, 0);
  expect(probeProcesses(c.id)).toEqual([]);
});

it('keeps the first 4096 bytes of the output ("..." marks the cut) and records a command that cannot run', async () => {
  const big = await h.mgr.create(h.req(LONG, { healthcheck: check(['CMD-SHELL', 'head -c 5000 /dev/zero | tr "\\0" a']) }));
  const missing = await h.mgr.create(h.req(LONG, { healthcheck: check(['CMD', 'no-such-probe'], { retries: 1 }) }));
  await h.mgr.start(big.id);
  await h.mgr.start(missing.id);
  await until(() => statusOf(big.id) === 'healthy' && statusOf(missing.id) === 'unhealthy', 5000, 'both results');
  expect(health(big.id)!.log[0]!.output).toBe('a'.repeat(4096) + '...');
  // The runtime's word for it, with the code docker's exec gives (docker's probe records -1 here).
  expect(health(missing.id)!.log[0]).toMatchObject({ exitCode: 127, output: expect.stringContaining('no-such-probe') });
});

it('does not count failures inside the start period, probing at the start interval meanwhile', async () => {
  // A start period long enough that three probes fit in it on a slow, loaded machine too.
  const c = await h.mgr.create(h.req(LONG, { healthcheck: check(['CMD', 'false'], { interval: 400, startPeriod: 3000, startInterval: 100, retries: 1 }) }));
  await h.mgr.start(c.id);
  const startedAt = h.mgr.get(c.id).state!.startedAt!.getTime();
  await until(() => health(c.id)!.log.length >= 3, 3000, 'three probes');
  const early = health(c.id)!;
  expect(early.status).toBe('starting');
  expect(early.failingStreak).toBe(0);
  expect(early.log.every((l) => l.exitCode === 1)).toBe(true);
  await until(() => statusOf(c.id) === 'unhealthy', 8000, 'unhealthy');
  const last = health(c.id)!.log.at(-1)!;
  expect(last.start!.getTime() - startedAt).toBeGreaterThanOrEqual(3000);
  expect(health(c.id)!.failingStreak).toBe(1);
});

it('has no Health without a check or with NONE', async () => {
  const none = await h.mgr.create(h.req(LONG, { healthcheck: check(['NONE']) }));
  const plain = await h.mgr.create(h.req(LONG));
  await h.mgr.start(none.id);
  await h.mgr.start(plain.id);
  await new Promise((r) => setTimeout(r, 500));
  expect(health(none.id)).toBeUndefined();
  expect(health(plain.id)).toBeUndefined();
  expect(h.mgr.health.probing(none.id)).toBe(false);
  expect(healthEvents(none.id)).toEqual([]);
});

it('refuses bad checks at create, naming the field, and leaves nothing behind', async () => {
  const bad: [containersV1.Healthcheck, RegExp][] = [
    [check(['CMD', 'true'], { interval: 0.5 }), /healthcheck interval: 500µs cannot be less than 1ms/],
    [containersV1.Healthcheck.fromPartial({ test: ['CMD', 'true'], startPeriod: -5 * MS }), /healthcheck startPeriod: -5ms/],
    [containersV1.Healthcheck.fromPartial({ test: ['CMD', 'true'], retries: -1 }), /healthcheck retries: -1 cannot be negative/],
    [containersV1.Healthcheck.fromPartial({ test: ['HTTP', '/'] }), /healthcheck test: unknown test kind "HTTP"/],
    [containersV1.Healthcheck.fromPartial({ test: ['CMD-SHELL'] }), /healthcheck test: CMD-SHELL needs a command/],
  ];
  for (const [hc, msg] of bad) {
    const err = await h.mgr.create(h.req(LONG, { healthcheck: hc })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(InvalidHealthcheckError);
    expect((err as InvalidHealthcheckError).grpcCode).toBe(grpcStatus.INVALID_ARGUMENT);
    expect((err as Error).message).toMatch(msg);
  }
  expect(h.mgr.list(true)).toEqual([]);
  expect(fs.readdirSync(h.mgr.layout.containersDir)).toEqual([]);
});

it('ends the loop with stop and pause, starts it again on unpause and start (reset to starting)', async () => {
  const c = await h.mgr.create(h.req(LONG, { healthcheck: check(['CMD', 'true'], { interval: 100 }) }));
  await h.mgr.start(c.id);
  await until(() => statusOf(c.id) === 'healthy', 5000, 'healthy');
  await h.mgr.pause(c.id);
  expect(h.mgr.health.probing(c.id)).toBe(false);
  const n = health(c.id)!.log.at(-1)!.start!.getTime();
  await new Promise((r) => setTimeout(r, 500));
  expect(health(c.id)!.log.at(-1)!.start!.getTime()).toBe(n);
  await h.mgr.resume(c.id);
  expect(statusOf(c.id)).toBe('healthy');
  await until(() => health(c.id)!.log.at(-1)!.start!.getTime() > n, 3000, 'a probe after unpause');
  await h.mgr.stop(c.id, 0);
  expect(h.mgr.health.probing(c.id)).toBe(false);
  expect(probeProcesses(c.id)).toEqual([]);
  // The last status and log stay on the stopped container, as docker shows them.
  const stopped = health(c.id)!;
  expect(stopped.status).toBe('healthy');
  await new Promise((r) => setTimeout(r, 400));
  expect(health(c.id)).toEqual(stopped);
  await h.mgr.start(c.id);
  expect(health(c.id)!.status).toBe('starting');
  expect(health(c.id)!.log).toEqual(stopped.log);
  await until(() => statusOf(c.id) === 'healthy', 5000, 'healthy after the start');
  // A kill that ends it ends the loop too (die).
  await h.mgr.kill(c.id, 'KILL');
  await h.mgr.wait(c.id);
  expect(h.mgr.health.probing(c.id)).toBe(false);
  expect(healthEvents(c.id)).toEqual(['healthy', 'healthy']);
});

it('a probe caught by a pause neither records nor holds up the supervisor\'s close; it ends with the thaw', async () => {
  const c = await h.mgr.create(h.req(LONG, { healthcheck: check(['CMD-SHELL', 'echo probing; sleep 2'], { interval: 50, timeout: 30_000 }) }));
  await h.mgr.start(c.id);
  await until(() => probeProcesses(c.id).length > 0, 5000, 'a probe in flight');
  await h.mgr.pause(c.id);
  const t0 = Date.now();
  await h.mgr.close();
  // Far below the probe's 30 s timeout: close did not wait for the frozen probe.
  expect(Date.now() - t0).toBeLessThan(10_000);
  h.mgr = await h.open();
  expect(h.mgr.health.probing(c.id)).toBe(false);
  expect(statusOf(c.id)).toBe('starting');
  await h.mgr.resume(c.id);
  expect(h.mgr.health.probing(c.id)).toBe(true);
  await until(() => statusOf(c.id) === 'healthy', 8000, 'healthy after the thaw');
  expect(health(c.id)!.log.every((l) => l.output === 'probing\n')).toBe(true);
});

it('resumes probing a running container after a supervisor restart, keeping its status', async () => {
  const c = await h.mgr.create(h.req(LONG, { healthcheck: check(['CMD-SHELL', 'test -f /tmp/ok'], { interval: 150, retries: 1 }) }));
  await h.mgr.start(c.id);
  await until(() => statusOf(c.id) === 'unhealthy', 5000, 'unhealthy');
  await h.mgr.close();
  h.mgr = await h.open();
  expect(h.mgr.health.probing(c.id)).toBe(true);
  expect(statusOf(c.id)).toBe('unhealthy');
  // Make it pass from the host side: the container's /tmp is in its rootfs upper dir.
  const root = `${h.mgr.layout.paths(c.id).rootfs}/tmp/ok`;
  fs.writeFileSync(root, '');
  await until(() => statusOf(c.id) === 'healthy', 5000, 'healthy after the restart');
  expect(healthEvents(c.id)).toEqual(['unhealthy', 'healthy']);
});
