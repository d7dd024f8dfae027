// Small helpers shared by the manager and the runner's parts: the active states and promise timing.
// Re-exported by container-runner.ts.

export const ACTIVE = new Set(['running', 'paused']);

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True when `p` settles within `ms`; the timer is cleared either way so nothing lingers. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true), t]);
  } finally {
    clearTimeout(timer);
  }
}
