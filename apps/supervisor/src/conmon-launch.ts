// Launching PID 1 under conmon: conmon spawned early (blocked on its start pipe while the bundle is prepared),
// then the start byte, conmon + runtime create, the sync pipe's answer, runtime start; conmon leaves the
// supervisor's cgroup shortly after (see moveConmonSoon).
import type { Entry, RunnerHost, StartHooks } from './container-types';
import { StartFailedError } from './errors';
import type { ContainerPaths } from './layout';
import { inConmonCgroup, isConmonAlive, launchConmon, moveToConmonCgroup, readPidFile, type LaunchedConmon } from './runtime/conmon';
import type { OciRuntime } from './runtime/oci-runtime';
import { releaseRuntime } from './runtime-release';
import { within } from './runner-common';
import { logDriver } from './io/log-config';

/** Docker's exit codes for a PID 1 that could not be started. */
function startFailureCode(message: string): number {
  if (/not found|no such file/i.test(message)) return 127;
  if (/permission denied|not executable/i.test(message)) return 126;
  return 128;
}

/** A conmon launched ahead, blocked on its start pipe. */
export interface EarlyConmon {
  conmon: LaunchedConmon;
}

/**
 * How long a container runs before its conmon moves out of the supervisor's cgroup. A cgroup v1 migration
 * costs 5-30 ms here (each write to cgroup.procs waits for an RCU grace period, and blocks forks and exits
 * host-wide meanwhile), which used to sit on every start's critical path. The move only matters when the
 * supervisor's whole cgroup is stopped (systemd KillMode=control-group); a `run --rm true` is over before then.
 */
export const CONMON_MOVE_DELAY_MS = 100;

/** Ends a conmon still waiting on its start pipe: it has made nothing yet. */
export function abandonEarly(early: EarlyConmon): void {
  if (early.conmon.pid > 0) {
    try {
      process.kill(early.conmon.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  early.conmon.release();
}

/** conmon, spawned before the bundle is ready: it waits on its start pipe. */
export function launchEarly(h: RunnerHost, e: Entry, runtime: OciRuntime, p: ContainerPaths): EarlyConmon {
  const ctr = e.s.ctr;
  const cfg = ctr.config!;
  const conmon = launchConmon({
    ctrId: ctr.id, uuid: ctr.id, name: ctr.name, runtimeBinary: runtime.binary, runtimeRoot: runtime.root,
    bundle: p.bundle, pidFile: p.pidFile, exitDir: h.layout.exitDir, persistDir: p.dir, logPath: p.log,
    logDriver: logDriver(ctr.hostConfig?.logConfig), socketDir: h.layout.socketDir, conmonPidFile: p.conmonPidFile, tty: cfg.tty, stdin: cfg.openStdin,
    leaveStdinOpen: cfg.openStdin && !cfg.stdinOnce,
  }, { start: true });
  return { conmon };
}

/**
 * Moves the container's (daemonised) conmon into the conmon cgroup once the container has run for
 * CONMON_MOVE_DELAY_MS, off the start's critical path; re-adoption moves any conmon that is not there yet.
 */
export function moveConmonSoon(h: RunnerHost, e: Entry, delayMs = CONMON_MOVE_DELAY_MS): void {
  const cgroup = h.opts.conmonCgroup;
  const pid = e.s.ctr.state!.conmonPid;
  if (!cgroup || !pid) return;
  const timer = setTimeout(() => {
    const st = e.s.ctr.state!;
    if (st.conmonPid !== pid || !isConmonAlive(pid) || inConmonCgroup(pid, cgroup)) return;
    moveToConmonCgroup(pid, cgroup).catch((err: Error) => h.opts.log?.warn({ id: e.s.ctr.id, conmonPid: pid, err: err.message }, 'moving conmon to its cgroup failed'));
  }, delayMs);
  timer.unref();
}

/** The container's network as launch() needs it. */
export interface LaunchNetwork {
  /** The runtime makes the namespace: PID 1 names it (SandboxKey /proc/<pid>/ns/net). */
  newNetns: boolean;
  /** Plugs that namespace into its network, between the runtime's create and start. */
  connect?: (pid: number) => Promise<void>;
}

/** The start byte, conmon + runtime create, the sync pipe's answer, then runtime start. */
export async function launch(h: RunnerHost, e: Entry, runtime: OciRuntime, p: ContainerPaths, hooks: StartHooks, early: EarlyConmon,
  net: LaunchNetwork = { newNetns: false }): Promise<void> {
  const ctr = e.s.ctr;
  const conmon = early.conmon;
  let res: { data: number; message?: string } | undefined;
  try {
    conmon.startPipe!.write('0');
    res = await conmon.sync.next();
  } catch (err) {
    conmon.release();
    throw err;
  }
  if (!res || res.data < 0) {
    await within(conmon.parentExit, 5000);
    const parent = await Promise.race([conmon.parentExit, Promise.resolve({ stderr: '' })]);
    conmon.release();
    const message = (res?.message ?? parent.stderr).trim() || 'conmon exited before creating the container';
    const code = startFailureCode(message);
    const st = ctr.state!;
    Object.assign(st, { status: 'exited', pid: 0, conmonPid: 0, exitCode: code, error: message, oomKilled: false, finishedAt: new Date() });
    h.save(e);
    await releaseRuntime(h, e, runtime);
    throw new StartFailedError(ctr.id, message, code);
  }
  conmon.release();
  const st = ctr.state!;
  st.pid = res.data;
  st.conmonPid = readPidFile(p.conmonPidFile);
  // A namespace the runtime made (none) is named by PID 1 while it lives, as `ip netns` names ours.
  if (net.newNetns) ctr.sandboxKey = `/proc/${st.pid}/ns/net`;
  e.s.facts.runtimeCreated = true;
  e.s.facts.manuallyStopped = false;
  let startedAt = new Date();
  try {
    if (net.connect) {
      await net.connect(st.pid);
      h.save(e);
    }
    await hooks.beforeRuntimeStart?.(p);
    startedAt = new Date();
    await runtime.start(ctr.id);
  } catch (err) {
    await runtime.delete(ctr.id, true).catch(() => undefined);
    await releaseRuntime(h, e, runtime);
    Object.assign(st, { status: 'exited', pid: 0, exitCode: 128, error: (err as Error).message, finishedAt: new Date() });
    h.save(e);
    throw err;
  }
  Object.assign(st, { status: 'running', exitCode: 0, error: '', oomKilled: false, startedAt, finishedAt: undefined });
  h.save(e);
  h.publish('container.start', e, { pid: st.pid });
  moveConmonSoon(h, e);
}
