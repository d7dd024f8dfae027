import { UsageError } from '../cli-error';
import { healthOverrides, parseGoDuration } from './health-flags';

const MS = 1e6;
const S = 1e9;

describe('parseGoDuration (time.ParseDuration)', () => {
  it.each([
    ['0', 0], ['30s', 30 * S], ['1m30s', 90 * S], ['500ms', 500 * MS], ['1.5s', 1.5 * S], ['.5s', 0.5 * S], ['2h', 7200 * S],
    ['1h2m3.5s', 3723.5 * S], ['10us', 10_000], ['10µs', 10_000], ['250ns', 250], ['-5ms', -5 * MS], ['+1s', S], ['1s500ms', 1.5 * S],
  ])('%s is %d ns', (text, ns) => expect(parseGoDuration(text, '--health-interval')).toBe(ns));

  it.each(['', '5', '1x', 's', '1.s5', 'abc', '1s ', '-', '1d'])('refuses %p naming the flag as docker does', (text) => {
    expect(() => parseGoDuration(text, '--health-timeout')).toThrow(new UsageError(`invalid argument "${text}" for "--health-timeout" flag: time: invalid duration "${text}"`));
  });
});

describe('healthOverrides', () => {
  it('is nothing without health flags (the image check applies)', () => {
    expect(healthOverrides({})).toEqual({});
    expect(healthOverrides({ healthcheck: true })).toEqual({});
  });

  it('--health-cmd is CMD-SHELL; each duration in nanoseconds; absent fields are zero (the image keeps them)', () => {
    expect(healthOverrides({ healthCmd: 'test -f /tmp/ok', healthInterval: '200ms', healthRetries: '2', healthcheck: true })).toEqual({
      healthcheck: { test: ['CMD-SHELL', 'test -f /tmp/ok'], interval: 200 * MS, timeout: 0, startPeriod: 0, startInterval: 0, retries: 2 },
    });
    expect(healthOverrides({ healthTimeout: '1m', healthStartPeriod: '5s', healthStartInterval: '1s' })).toEqual({
      healthcheck: { test: [], interval: 0, timeout: 60 * S, startPeriod: 5 * S, startInterval: S, retries: 0 },
    });
  });

  it('--no-healthcheck is test NONE and conflicts with the other flags', () => {
    expect(healthOverrides({ healthcheck: false })).toEqual({ healthcheck: { test: ['NONE'] } });
    expect(() => healthOverrides({ healthcheck: false, healthCmd: 'true' })).toThrow(new UsageError('--no-healthcheck conflicts with --health-* options'));
  });

  it.each([
    [{ healthInterval: '-1s' }, '--health-interval cannot be negative'],
    [{ healthTimeout: '-1ms' }, '--health-timeout cannot be negative'],
    [{ healthStartPeriod: '-2s' }, '--health-start-period cannot be negative'],
    [{ healthStartInterval: '-2s' }, '--health-start-interval cannot be negative'],
    [{ healthRetries: '-1' }, '--health-retries cannot be negative'],
    [{ healthRetries: 'three' }, 'invalid argument "three" for "--health-retries" flag: not an integer'],
    [{ healthInterval: '10' }, 'invalid argument "10" for "--health-interval" flag: time: invalid duration "10"'],
  ])('refuses %j', (f, msg) => {
    expect(() => healthOverrides(f)).toThrow(new UsageError(msg));
  });
});
