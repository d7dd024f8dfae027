import { BACKOFF_MAX_MS, nextRestartDelay, parseRestartPolicy } from './restart-policy';

const base = { exitCode: 1, restartCount: 0, manuallyStopped: false, ranForMs: 50, previousDelayMs: 0 };

describe('nextRestartDelay', () => {
  it('never restarts with "no" or after a manual stop', () => {
    expect(nextRestartDelay({ ...base, policy: { name: 'no', maximumRetryCount: 0 } })).toBeUndefined();
    expect(nextRestartDelay({ ...base, policy: undefined })).toBeUndefined();
    expect(nextRestartDelay({ ...base, manuallyStopped: true, policy: { name: 'always', maximumRetryCount: 0 } })).toBeUndefined();
  });
  it('on-failure restarts only non-zero exits, up to the maximum', () => {
    const p = { name: 'on-failure', maximumRetryCount: 2 };
    expect(nextRestartDelay({ ...base, exitCode: 0, policy: p })).toBeUndefined();
    expect(nextRestartDelay({ ...base, policy: p, restartCount: 1 })).toBe(100);
    expect(nextRestartDelay({ ...base, policy: p, restartCount: 2 })).toBeUndefined();
  });
  it('doubles the delay up to a minute and resets after a long run', () => {
    const p = { name: 'always', maximumRetryCount: 0 };
    expect(nextRestartDelay({ ...base, policy: p, previousDelayMs: 100 })).toBe(200);
    expect(nextRestartDelay({ ...base, policy: p, previousDelayMs: 50_000 })).toBe(BACKOFF_MAX_MS);
    expect(nextRestartDelay({ ...base, policy: p, previousDelayMs: 3200, ranForMs: 11_000 })).toBe(100);
  });
  it('parses docker flag forms', () => {
    expect(parseRestartPolicy('on-failure:3')).toEqual({ name: 'on-failure', maximumRetryCount: 3 });
    expect(parseRestartPolicy('always')).toEqual({ name: 'always', maximumRetryCount: 0 });
  });
});
