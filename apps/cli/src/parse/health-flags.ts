// Docker's health check flags for run/create: --health-cmd, --health-interval, --health-timeout,
// --health-start-period, --health-start-interval, --health-retries and --no-healthcheck, as the overrides the
// SDK lays over the image's HEALTHCHECK field by field. Durations are Go's (time.ParseDuration: 30s, 1m30s,
// 500ms), in nanoseconds as docker's API carries them.
import type { Command } from 'commander';
import type { containersV1 } from '@berth/api';
import { UsageError } from '../cli-error';

export interface HealthFlags {
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  healthRetries?: string;
  /** false only when given as --no-healthcheck (commander's negatable flag). */
  healthcheck?: boolean;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds: "0", or numbers with units ("1h2m3.5s", "-5ms", ".5s"). */
export function parseGoDuration(text: string, flag: string): number {
  const bad = () => new UsageError(`invalid argument "${text}" for "${flag}" flag: time: invalid duration "${text}"`);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw bad();
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw bad();
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * UNIT_NS[m[3]!]!;
    s = s.slice(m[0].length);
  }
  return sign * Math.round(total);
}

/** Adds the flags to run/create. */
export function healthOptions(c: Command): Command {
  return c
    .option('--health-cmd <cmd>', 'command run in the container to check its health (by /bin/sh -c)')
    .option('--health-interval <duration>', 'time between health checks, e.g. 30s, 1m30s (default 30s)')
    .option('--health-timeout <duration>', 'longest a health check may run (default 30s)')
    .option('--health-start-period <duration>', 'time after the start when failed checks do not count (default 0s)')
    .option('--health-start-interval <duration>', 'time between checks during the start period (default 5s)')
    .option('--health-retries <n>', 'consecutive failures that make it unhealthy (default 3)')
    .option('--no-healthcheck', "disable the image's HEALTHCHECK");
}

/** The overrides the flags make: none without health flags, test NONE for --no-healthcheck. */
export function healthOverrides(f: HealthFlags): { healthcheck?: Partial<containersV1.Healthcheck> } {
  const given = f.healthCmd !== undefined || f.healthInterval !== undefined || f.healthTimeout !== undefined || f.healthStartPeriod !== undefined
    || f.healthStartInterval !== undefined || f.healthRetries !== undefined;
  if (f.healthcheck === false) {
    if (given) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    return { healthcheck: { test: ['NONE'] } };
  }
  if (!given) return {};
  const duration = (v: string | undefined, flag: string): number => {
    if (v === undefined) return 0;
    const ns = parseGoDuration(v, flag);
    if (ns < 0) throw new UsageError(`${flag} cannot be negative`);
    return ns;
  };
  let retries = 0;
  if (f.healthRetries !== undefined) {
    if (!/^[+-]?\d+$/.test(f.healthRetries.trim())) throw new UsageError(`invalid argument "${f.healthRetries}" for "--health-retries" flag: not an integer`);
    retries = Number(f.healthRetries);
    if (retries < 0) throw new UsageError('--health-retries cannot be negative');
  }
  return {
    healthcheck: {
      test: f.healthCmd ? ['CMD-SHELL', f.healthCmd] : [],
      interval: duration(f.healthInterval, '--health-interval'),
      timeout: duration(f.healthTimeout, '--health-timeout'),
      startPeriod: duration(f.healthStartPeriod, '--health-start-period'),
      startInterval: duration(f.healthStartInterval, '--health-start-interval'),
      retries,
    },
  };
}
