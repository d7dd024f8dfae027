import { containersV1 } from '@berth/api';
import { activeCheck, goDuration, validateHealthcheck } from './healthcheck';
import { applyProbeResult, nextDelayMs, startingHealth } from './health-state';

const MS = 1_000_000;
const hc = (p: Partial<containersV1.Healthcheck>) => containersV1.Healthcheck.fromPartial(p);

describe('goDuration', () => {
  it.each([
    [0, '0s'], [500, '500ns'], [1500, '1.5µs'], [200 * MS, '200ms'], [1500 * MS, '1.5s'], [30_000 * MS, '30s'],
    [90_000 * MS, '1m30s'], [3_600_000 * MS, '1h0m0s'], [3_723_500 * MS, '1h2m3.5s'], [-5 * MS, '-5ms'],
  ])('%d ns is %s', (ns, text) => expect(goDuration(ns)).toBe(text));
});

describe('validateHealthcheck', () => {
  it('accepts absent, NONE, CMD, CMD-SHELL, zero durations (defaults) and 1 ms', () => {
    for (const h of [undefined, hc({ test: ['NONE'] }), hc({ test: ['CMD', 'true'] }), hc({ test: ['CMD-SHELL', 'exit 0'], interval: MS, timeout: MS }), hc({})]) {
      expect(() => validateHealthcheck(h)).not.toThrow();
    }
  });
  it.each([
    [{ test: ['GET', '/'] }, 'invalid healthcheck test: unknown test kind "GET": use CMD, CMD-SHELL or NONE'],
    [{ test: ['CMD'] }, 'invalid healthcheck test: CMD needs a command'],
    [{ test: ['CMD-SHELL', 'a', 'b'] }, 'invalid healthcheck test: CMD-SHELL takes one command string'],
    [{ test: ['CMD', 'x'], interval: MS - 1 }, 'invalid healthcheck interval: 999.999µs cannot be less than 1ms'],
    [{ test: ['CMD', 'x'], timeout: -MS }, 'invalid healthcheck timeout: -1ms cannot be less than 1ms'],
    [{ test: ['CMD', 'x'], startPeriod: -1 }, 'invalid healthcheck startPeriod: -1ns cannot be less than 1ms'],
    [{ test: ['CMD', 'x'], startInterval: 10 }, 'invalid healthcheck startInterval: 10ns cannot be less than 1ms'],
    [{ test: ['CMD', 'x'], retries: -2 }, 'invalid healthcheck retries: -2 cannot be negative'],
  ])('refuses %j', (p, msg) => expect(() => validateHealthcheck(hc(p))).toThrow(msg));
});

describe('activeCheck', () => {
  it('is undefined without a test or with NONE', () => {
    expect(activeCheck(undefined)).toBeUndefined();
    expect(activeCheck(hc({}))).toBeUndefined();
    expect(activeCheck(hc({ test: ['NONE'] }))).toBeUndefined();
  });
  it("applies docker's defaults and runs CMD-SHELL with /bin/sh -c", () => {
    expect(activeCheck(hc({ test: ['CMD-SHELL', 'curl -f localhost || exit 1'] }))).toEqual({
      args: ['/bin/sh', '-c', 'curl -f localhost || exit 1'], intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5000,
      retries: 3, timeoutText: '30s',
    });
    expect(activeCheck(hc({ test: ['CMD', 'cat', '/tmp/ok'], interval: 200 * MS, timeout: 1500 * MS, startPeriod: MS * 1000, startInterval: 50 * MS, retries: 7 }))).toEqual({
      args: ['cat', '/tmp/ok'], intervalMs: 200, timeoutMs: 1500, startPeriodMs: 1000, startIntervalMs: 50, retries: 7, timeoutText: '1.5s',
    });
  });
});

describe('applyProbeResult', () => {
  const check = { retries: 2, startPeriodMs: 1000 };
  const started = new Date(10_000);
  const result = (at: number, exitCode: number, output = '') => ({ start: new Date(at), end: new Date(at + 5), exitCode, output });

  it('a pass makes it healthy and clears the streak; failures count up to the retries', () => {
    const h = startingHealth(undefined);
    expect(applyProbeResult(h, result(20_000, 0), check, started)).toBe('healthy');
    expect(applyProbeResult(h, result(21_000, 1), check, started)).toBeUndefined();
    expect(h).toMatchObject({ status: 'healthy', failingStreak: 1 });
    expect(applyProbeResult(h, result(22_000, 1), check, started)).toBe('unhealthy');
    expect(applyProbeResult(h, result(23_000, -1), check, started)).toBeUndefined();
    expect(h.failingStreak).toBe(3);
    expect(applyProbeResult(h, result(24_000, 0), check, started)).toBe('healthy');
    expect(h.failingStreak).toBe(0);
  });

  it('keeps the last 5 results, oldest first', () => {
    const h = startingHealth(undefined);
    for (let i = 0; i < 7; i++) applyProbeResult(h, result(20_000 + i, 0, `run ${i}`), check, started);
    expect(h.log.map((l) => l.output)).toEqual(['run 2', 'run 3', 'run 4', 'run 5', 'run 6']);
  });

  it('does not count a failure inside the start period while starting, but does once healthy', () => {
    const h = startingHealth(undefined);
    applyProbeResult(h, result(10_500, 1), check, started);
    applyProbeResult(h, result(10_900, 1), check, started);
    expect(h).toMatchObject({ status: 'starting', failingStreak: 0 });
    applyProbeResult(h, result(10_950, 0), check, started);
    applyProbeResult(h, result(10_960, 1), check, started);
    expect(h.failingStreak).toBe(1);
    const late = startingHealth(undefined);
    applyProbeResult(late, result(11_000, 1), check, started);
    expect(late.failingStreak).toBe(1);
  });

  it('a new start is starting again with the old log kept', () => {
    const h = startingHealth(undefined);
    applyProbeResult(h, result(20_000, 0), check, started);
    expect(startingHealth(h)).toEqual({ status: 'starting', failingStreak: 0, log: h.log });
  });
});

describe('nextDelayMs', () => {
  const check = activeCheck(hc({ test: ['CMD', 'x'], interval: 1000 * MS, startPeriod: 5000 * MS, startInterval: 100 * MS }))!;
  it('uses the start interval only while starting inside the start period, and probes right at its end', () => {
    const started = new Date(0);
    expect(nextDelayMs(check, 'starting', started, 1000)).toBe(100);
    expect(nextDelayMs(check, 'healthy', started, 1000)).toBe(1000);
    expect(nextDelayMs(check, 'starting', started, 6000)).toBe(1000);
    // 300 ms of the start period left, shorter than the interval: the next probe comes when it ends.
    expect(nextDelayMs(check, 'healthy', started, 4700)).toBe(300);
    expect(nextDelayMs(check, 'starting', started, 4700)).toBe(300);
  });
});
