// Stop (stop signal, grace period, then SIGKILL) and signalling of PID 1, with the thaw a paused container
// needs to take an ending signal. Used by ContainerManager under the container's lock.
import type { Entry, RunnerHost } from './container-types';
import { NotRunningError, RuntimeError } from './errors';
import type { OciRuntime } from './runtime/oci-runtime';
import { ACTIVE, within } from './runner-common';
import { parseSignal } from './signals';

export const STOP_KILL_WAIT_MS = 15_000;

/** The manager's parts a stop needs; `nextExit` is the runner's. */
export type StopHost = Pick<RunnerHost, 'save' | 'publish' | 'runtimeOf'> & { nextExit(id: string): Promise<number> };

export async function stopContainer(h: StopHost, e: Entry, timeoutSec: number): Promise<void> {
  const ctr = e.s.ctr;
  const st = ctr.state!;
  if (st.status === 'restarting') {
    if (e.restartTimer) clearTimeout(e.restartTimer);
    e.restartTimer = undefined;
    e.s.facts.manuallyStopped = true;
    st.status = 'exited';
    h.save(e);
    return;
  }
  if (!ACTIVE.has(st.status)) throw new NotRunningError(ctr.id, st.status);
  e.s.facts.manuallyStopped = true;
  h.save(e);
  const grace = timeoutSec >= 0 ? timeoutSec : ctr.config!.stopTimeout > 0 ? ctr.config!.stopTimeout : 10;
  const sig = parseSignal(ctr.config!.stopSignal || 'SIGTERM');
  const exited = h.nextExit(ctr.id);
  const runtime = h.runtimeOf(e);
  h.publish('container.kill', e, { signal: sig.name });
  await signalContainer(h, e, runtime, sig.number);
  const exitedInTime = await within(exited, grace * 1000);
  if (!exitedInTime) {
    h.publish('container.kill', e, { signal: 'SIGKILL' });
    await signalContainer(h, e, runtime, 9);
    const gone = await within(exited, STOP_KILL_WAIT_MS);
    if (!gone) throw new RuntimeError(`container ${ctr.id} did not exit ${STOP_KILL_WAIT_MS / 1000} s after SIGKILL`);
  }
  await e.cleanup;
}

/**
 * Signals PID 1. A paused container is thawed afterwards when the signal is to end it (a frozen process
 * only takes it once thawed); other signals wait, queued, for Resume.
 */
export async function signalContainer(h: Pick<RunnerHost, 'save'>, e: Entry, runtime: OciRuntime, sig: number, ending = true): Promise<void> {
  await runtime.kill(e.s.ctr.id, sig);
  if (ending && e.s.ctr.state!.status === 'paused') {
    await runtime.resume(e.s.ctr.id).catch(() => undefined);
    // The thawed process may have died and its exit been recorded meanwhile: only a still-paused state moves.
    if (e.s.ctr.state!.status === 'paused') {
      e.s.ctr.state!.status = 'running';
      h.save(e);
    }
  }
}
