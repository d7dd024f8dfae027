// What one probe's result does to State.Health, by docker's rules (daemon/health.go handleProbeResult): the
// log keeps the last 5, a pass makes it healthy and clears the streak, a failure counts (unless it is still
// starting inside the start period) and makes it unhealthy once the streak reaches the retries.
import type { containersV1 } from '@berth/api';
import { MAX_LOG_ENTRIES, type ActiveCheck } from './healthcheck';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** The health a start begins with: starting, no streak; the log of earlier runs is kept, as docker's. */
export function startingHealth(prev: containersV1.Health | undefined): containersV1.Health {
  return { status: 'starting', failingStreak: 0, log: prev?.log ?? [] };
}

/** Applies a result in place; returns the new status when it changed. */
export function applyProbeResult(h: containersV1.Health, r: containersV1.HealthLog, check: Pick<ActiveCheck, 'retries' | 'startPeriodMs'>, startedAt: Date | undefined): HealthStatus | undefined {
  const old = h.status;
  h.log = [...h.log, r].slice(-MAX_LOG_ENTRIES);
  if (r.exitCode === 0) {
    h.failingStreak = 0;
    h.status = 'healthy';
  } else {
    const sinceStart = (r.start?.getTime() ?? Date.now()) - (startedAt?.getTime() ?? 0);
    const inGrace = h.status === 'starting' && sinceStart < check.startPeriodMs;
    if (!inGrace) {
      h.failingStreak++;
      if (h.failingStreak >= check.retries) h.status = 'unhealthy';
    }
  }
  return h.status !== old ? (h.status as HealthStatus) : undefined;
}

/**
 * The wait before the next probe, as moby's getInterval: the interval once the start period is over; inside it,
 * what is left of it when that is shorter than the interval (a probe right at its end), else the start
 * interval while starting.
 */
export function nextDelayMs(check: ActiveCheck, status: string, startedAt: Date | undefined, now = Date.now()): number {
  const elapsed = now - (startedAt?.getTime() ?? 0);
  if (elapsed >= check.startPeriodMs) return check.intervalMs;
  const remaining = check.startPeriodMs - elapsed;
  if (remaining < check.intervalMs) return remaining;
  return status === 'starting' ? check.startIntervalMs : check.intervalMs;
}
