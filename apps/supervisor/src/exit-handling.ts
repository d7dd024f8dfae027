// What happens on an exit: conmon's exit file read and recorded (or a lost conmon recorded dead), oom/die
// published, the runtime released, then auto-remove (anonymous volumes too, as docker run --rm) or the
// restart policy's delayed restart.
import * as fs from 'node:fs';
import type { Entry, RunnerHost } from './container-types';
import { nextRestartDelay } from './restart-policy';
import { isConmonAlive } from './runtime/conmon';
import { releaseRuntime } from './runtime-release';
import { ACTIVE } from './runner-common';

/** The runner as exit handling sees it: its host, and start for a restart by policy (under the lock). */
export interface ExitContext {
  readonly h: RunnerHost;
  startLocked(e: Entry): Promise<void>;
}

/** `fromPoll`: also notice a conmon that died without writing an exit file. */
export function checkExit(r: ExitContext, id: string, fromPoll = false): void {
  const e = r.h.entries.get(id);
  if (!e || r.h.closed) return;
  const exitFile = r.h.layout.paths(id).exitFile;
  if (!fs.existsSync(exitFile)) {
    // conmon writes the exit file before it exits, so a dead conmon with no file lost the container.
    if (fromPoll && !e.starting && !e.holdExits && ACTIVE.has(e.s.ctr.state!.status) && !isConmonAlive(e.s.ctr.state!.conmonPid) && !fs.existsSync(exitFile)) {
      recordLostConmon(r, e);
    }
    return;
  }
  if (e.starting || e.holdExits) {
    e.exitPending = true;
    return;
  }
  if (ACTIVE.has(e.s.ctr.state!.status)) handleExit(r, id);
}

/**
 * conmon is gone and left no exit file (host reboot, or it was killed): without conmon the container cannot
 * be supervised, so it is ended (the runtime's forced delete) and recorded dead with 255; the restart policy
 * then applies as for any exit.
 */
export function recordLostConmon(r: ExitContext, e: Entry): void {
  const h = r.h;
  const id = e.s.ctr.id;
  const st = e.s.ctr.state!;
  h.opts.log?.warn({ id, conmonPid: st.conmonPid }, 'conmon is gone without an exit file; recording the container dead');
  Object.assign(st, { status: 'exited', exitCode: 255, pid: 0, error: 'conmon exited without recording an exit code', finishedAt: new Date() });
  h.save(e);
  h.publish('container.die', e, { exitCode: 255 });
  h.changes.emit(`exit:${id}`, 255);
  const runtime = h.runtimeOf(e);
  e.cleanup = runtime
    .delete(id, true)
    .then(() => releaseRuntime(h, e, runtime))
    .catch((err) => h.opts.log?.error({ id, err }, 'cleanup failed'))
    .then(() => afterExit(r, e, 0));
}

/** Records an exit from conmon's exit file; publishes oom/die; cleans up; applies the restart policy. */
export function handleExit(r: ExitContext, id: string): void {
  const h = r.h;
  const e = h.entries.get(id);
  if (!e || !ACTIVE.has(e.s.ctr.state!.status)) return;
  const p = h.layout.paths(id);
  const text = fs.readFileSync(p.exitFile, 'utf8').trim();
  if (!/^-?\d+$/.test(text)) {
    // conmon writes the file in one go; an empty read is the rename racing us: the next event or poll gets it.
    return;
  }
  const code = Number(text);
  const oom = fs.existsSync(p.persistOom) || fs.existsSync(p.bundleOom);
  const st = e.s.ctr.state!;
  let finishedAt = new Date();
  try {
    finishedAt = fs.statSync(p.exitFile).mtime;
  } catch {
    // keep now
  }
  // The exit file's mtime has a coarser clock than Date; never report an end before the start.
  if (st.startedAt && finishedAt < st.startedAt) finishedAt = new Date(st.startedAt.getTime());
  const ranForMs = finishedAt.getTime() - (st.startedAt?.getTime() ?? finishedAt.getTime());
  Object.assign(st, { status: 'exited', exitCode: code, oomKilled: oom, pid: 0, finishedAt });
  h.save(e);
  if (oom) h.publish('container.oom', e);
  h.publish('container.die', e, { exitCode: code, oomKilled: oom });
  h.changes.emit(`exit:${id}`, code);
  const runtime = h.runtimeOf(e);
  e.cleanup = releaseRuntime(h, e, runtime, true)
    .catch((err) => h.opts.log?.error({ id, err }, 'cleanup after exit failed'))
    .then(() => afterExit(r, e, ranForMs));
}

function afterExit(r: ExitContext, e: Entry, ranForMs: number): void {
  const h = r.h;
  const id = e.s.ctr.id;
  if (h.closed || !h.entries.has(id)) return;
  const st = e.s.ctr.state!;
  const hc = e.s.ctr.hostConfig!;
  if (hc.autoRemove && !e.s.facts.manuallyStopped) {
    void h.remove(id, true, true).catch((err) => h.opts.log?.error({ id, err }, 'auto-remove failed'));
    return;
  }
  const delay = nextRestartDelay({
    policy: hc.restartPolicy, exitCode: st.exitCode, restartCount: st.restartCount,
    manuallyStopped: e.s.facts.manuallyStopped, ranForMs, previousDelayMs: e.s.facts.restartDelayMs,
  });
  if (delay === undefined) {
    if (hc.autoRemove) void h.remove(id, true, true).catch((err) => h.opts.log?.error({ id, err }, 'auto-remove failed'));
    return;
  }
  scheduleRestart(r, e, delay);
}

export function scheduleRestart(r: ExitContext, e: Entry, delay: number): void {
  const h = r.h;
  const id = e.s.ctr.id;
  e.s.facts.restartDelayMs = delay;
  e.s.ctr.state!.status = 'restarting';
  h.save(e);
  e.restartTimer = setTimeout(() => {
    e.restartTimer = undefined;
    void h.mutex.run(id, async () => {
      if (!h.entries.has(id) || e.s.ctr.state!.status !== 'restarting' || h.closed) return;
      e.s.ctr.state!.restartCount++;
      try {
        await r.startLocked(e);
      } catch (err) {
        h.opts.log?.warn({ id, err: (err as Error).message }, 'restart by policy failed');
        afterExit(r, e, 0);
      }
    });
  }, delay);
  e.restartTimer.unref();
}
