// Health checks as docker shows them: State.Health ({Status, FailingStreak, Log}), Config.Healthcheck (fields
// left out when zero, durations in nanoseconds), and the "(healthy)" / "(health: starting)" of ps's status.
import type { containersV1 } from '@berth/api';
import { imageHealthcheck } from '@berth/client';
import { rfc3339Nano } from './docker-time';

/** State.Health, or undefined for a container without a health check (docker leaves the key out). */
export function healthJson(h: containersV1.Health | undefined): Record<string, unknown> | undefined {
  if (!h) return undefined;
  return {
    Status: h.status,
    FailingStreak: h.failingStreak,
    Log: h.log.map((l) => ({ Start: rfc3339Nano(l.start), End: rfc3339Nano(l.end), ExitCode: l.exitCode, Output: l.output })),
  };
}

/** Config.Healthcheck as docker's HealthConfig marshals it (omitempty on every field); undefined without one. */
export function healthcheckJson(hc: containersV1.Healthcheck | undefined): Record<string, unknown> | undefined {
  // The image config's shape (docker commit writes it there the same way).
  return hc ? { ...imageHealthcheck(hc) } : undefined;
}

/** docker's Health.String(): "health: starting", "healthy", "unhealthy". */
export function healthText(h: containersV1.Health): string {
  return h.status === 'starting' ? 'health: starting' : h.status;
}

/** The ps filter's value: the status, or "none" without a health check. */
export function healthFilterValue(st: containersV1.ContainerState): string {
  return st.health?.status || 'none';
}

export const HEALTH_FILTER_VALUES = ['starting', 'healthy', 'unhealthy', 'none'] as const;
