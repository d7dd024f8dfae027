// Docker's restart policies and backoff (moby restartmanager): the first delay is 100 ms, each further
// restart doubles it up to one minute, and a run of at least 10 s resets it.
import type { containersV1 } from '@berth/api';

export const BACKOFF_START_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
export const RESET_AFTER_RUN_MS = 10_000;

export interface RestartInput {
  policy: containersV1.RestartPolicy | undefined;
  exitCode: number;
  restartCount: number;
  manuallyStopped: boolean;
  /** How long the last run lasted. */
  ranForMs: number;
  /** The delay used for the previous restart (0 for none). */
  previousDelayMs: number;
}

/** The delay before the next restart, or undefined when the policy says not to restart. */
export function nextRestartDelay(i: RestartInput): number | undefined {
  const name = i.policy?.name || 'no';
  if (name === 'no' || i.manuallyStopped) return undefined;
  if (name === 'on-failure') {
    if (i.exitCode === 0) return undefined;
    const max = i.policy?.maximumRetryCount ?? 0;
    if (max > 0 && i.restartCount >= max) return undefined;
  }
  if (i.ranForMs >= RESET_AFTER_RUN_MS || i.previousDelayMs === 0) return BACKOFF_START_MS;
  return Math.min(i.previousDelayMs * 2, BACKOFF_MAX_MS);
}

/** "on-failure:3" → {name, maximumRetryCount}; used by clients that take docker's flag form. */
export function parseRestartPolicy(s: string): containersV1.RestartPolicy {
  const [name, max] = s.split(':', 2) as [string, string | undefined];
  return { name, maximumRetryCount: max ? Number(max) : 0 };
}
