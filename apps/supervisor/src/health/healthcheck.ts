// A container's health check as docker runs it: the defaults of an unset field, the checks done at create,
// the probe's command line, and Go's duration text for the messages docker writes.
import type { containersV1 } from '@berth/api';
import { InvalidHealthcheckError } from './errors';

const MS = 1_000_000;
const S = 1000 * MS;
/** docker's defaults (daemon/health.go). */
export const DEFAULT_INTERVAL_NS = 30 * S;
export const DEFAULT_TIMEOUT_NS = 30 * S;
export const DEFAULT_START_INTERVAL_NS = 5 * S;
export const DEFAULT_RETRIES = 3;
/** docker's containertypes.MinimumDuration. */
export const MIN_DURATION_NS = MS;
/** The probe results kept in State.Health.Log. */
export const MAX_LOG_ENTRIES = 5;
/** Bytes of a probe's output kept. */
export const MAX_OUTPUT_LEN = 4096;

/** A check to run, with every default applied; durations in ms. */
export interface ActiveCheck {
  /** The probe's command line (CMD-SHELL is run by /bin/sh -c). */
  args: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
  /** The timeout as docker prints it ("30s", "200ms"). */
  timeoutText: string;
}

/** Refuses what docker's create refuses, naming the field: durations below 1 ms (0 is "default"), negative retries, unknown test kinds. */
export function validateHealthcheck(hc: containersV1.Healthcheck | undefined): void {
  if (!hc) return;
  const kind = hc.test[0];
  if (kind !== undefined && !['CMD', 'CMD-SHELL', 'NONE'].includes(kind)) {
    throw new InvalidHealthcheckError('test', `unknown test kind "${kind}": use CMD, CMD-SHELL or NONE`);
  }
  if ((kind === 'CMD' || kind === 'CMD-SHELL') && hc.test.length < 2) throw new InvalidHealthcheckError('test', `${kind} needs a command`);
  if (kind === 'CMD-SHELL' && hc.test.length > 2) throw new InvalidHealthcheckError('test', 'CMD-SHELL takes one command string');
  for (const f of ['interval', 'timeout', 'startPeriod', 'startInterval'] as const) {
    const v = hc[f];
    if (v !== 0 && v < MIN_DURATION_NS) throw new InvalidHealthcheckError(f, `${goDuration(v)} cannot be less than 1ms`);
  }
  if (hc.retries < 0) throw new InvalidHealthcheckError('retries', `${hc.retries} cannot be negative`);
}

/** The check to run, or undefined when there is none (absent, empty test, NONE). */
export function activeCheck(hc: containersV1.Healthcheck | undefined): ActiveCheck | undefined {
  if (!hc || hc.test.length < 2) return undefined;
  const [kind, ...rest] = hc.test;
  if (kind !== 'CMD' && kind !== 'CMD-SHELL') return undefined;
  const timeoutNs = hc.timeout || DEFAULT_TIMEOUT_NS;
  return {
    args: kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : rest,
    intervalMs: (hc.interval || DEFAULT_INTERVAL_NS) / MS,
    timeoutMs: timeoutNs / MS,
    startPeriodMs: hc.startPeriod / MS,
    startIntervalMs: (hc.startInterval || DEFAULT_START_INTERVAL_NS) / MS,
    retries: hc.retries > 0 ? hc.retries : DEFAULT_RETRIES,
    timeoutText: goDuration(timeoutNs),
  };
}

/** Go's time.Duration.String(): "1h2m3.5s", "200ms", "1.5µs", "0s". */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(Math.round(ns));
  const sign = neg ? '-' : '';
  const frac = (v: number, digits: number): string => {
    const whole = Math.floor(v / 10 ** digits);
    const rest = (v % 10 ** digits).toString().padStart(digits, '0').replace(/0+$/, '');
    return rest ? `${whole}.${rest}` : `${whole}`;
  };
  if (u < 1000) return `${sign}${u}ns`;
  if (u < MS) return `${sign}${frac(u, 3)}µs`;
  if (u < S) return `${sign}${frac(u, 6)}ms`;
  let out = '';
  const h = Math.floor(u / (3600 * S));
  u -= h * 3600 * S;
  const m = Math.floor(u / (60 * S));
  u -= m * 60 * S;
  if (h) out += `${h}h`;
  if (h || m) out += `${m}m`;
  out += `${frac(u, 9)}s`;
  return sign + out;
}
