// Re-adoption at start-up: every stored container is loaded; those that kept running under their conmon are
// watched again, exits and lost conmons met while the supervisor was down are handled, pending restarts are
// rescheduled and half-done starts undone.
import * as fs from 'node:fs';
import { handleExit, recordLostConmon, scheduleRestart, type ExitContext } from './exit-handling';
import type { ExitWatcher } from './exit-watcher';
import { moveConmonSoon } from './conmon-launch';
import { isConmonAlive } from './runtime/conmon';
import { releaseRuntime } from './runtime-release';
import { ACTIVE } from './runner-common';

export async function readopt(r: ExitContext, watcher: ExitWatcher): Promise<void> {
  const h = r.h;
  for (const s of h.store.all()) {
    h.entries.set(s.ctr.id, { s, cleanup: Promise.resolve(), starting: false, holdExits: false, exitPending: false });
  }
  watcher.start();
  for (const e of h.entries.values()) {
    const st = e.s.ctr.state!;
    const id = e.s.ctr.id;
    const p = h.layout.paths(id);
    if (ACTIVE.has(st.status)) {
      if (fs.existsSync(p.exitFile)) {
        handleExit(r, id);
        continue;
      }
      if (isConmonAlive(st.conmonPid)) {
        // Still running under its conmon; the runtime's view settles paused vs running.
        const rs = await h.runtimeOf(e).state(id).catch(() => undefined);
        if (rs && (rs.status === 'paused' || rs.status === 'running') && rs.status !== st.status) {
          st.status = rs.status;
          h.save(e);
        }
        // A supervisor that died right after a start may not have moved this conmon yet.
        moveConmonSoon(h, e, 0);
        continue;
      }
      recordLostConmon(r, e);
    } else if (st.status === 'restarting') {
      scheduleRestart(r, e, e.s.facts.restartDelayMs || 100);
    } else if (e.s.facts.mounted || e.s.facts.networkUp || e.s.facts.runtimeCreated) {
      // A start that the supervisor did not finish: undo its half.
      e.cleanup = releaseRuntime(h, e, h.runtimeOf(e)).catch((err) => h.opts.log?.error({ id, err }, 'cleanup failed'));
    }
  }
}
