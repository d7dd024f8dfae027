// Running containers: start (mount, network, conmon + runtime create, runtime start), exits (conmon's exit
// files, watched with a poll as fallback), cleanup after an exit, restart policies, and re-adoption of the
// containers that kept running while the supervisor was down. ContainerManager owns the records and the
// per-container lock; every method here runs under that lock or on an exit, as noted.
import type { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import type { containersV1 } from '@berth/api';
import { AlreadyRunningError, PausedError, StartFailedError, VolumeSourceMissingError } from './errors';
import type { EventExtra } from './container-events';
import { writeHosts, writeResolvConf } from './container-files';
import type { ContainerManagerOptions, Entry, StartHooks } from './container-manager';
import { writeReopenLog } from './io/attach';
import { rotateLog } from './io/k8s-log';
import type { KeyedMutex } from './keyed-mutex';
import type { ContainerPaths, Layout } from './layout';
import type { NetworkSetup } from './network/network-provider';
import { buildSpec, resolveUser } from './oci/spec';
import { portRequests } from './port-requests';
import { nextRestartDelay } from './restart-policy';
import { isConmonAlive, launchConmon, moveToConmonCgroup, readPidFile, type LaunchedConmon } from './runtime/conmon';
import { mountRootfs, umountAll } from './runtime/mounts';
import type { OciRuntime } from './runtime/oci-runtime';
import { deleteStoppedCrunContainer } from './runtime/crun-state';
import type { ContainerStore } from './store/container-store';

/** What the runner needs of the manager. */
export interface RunnerHost {
  readonly opts: ContainerManagerOptions;
  readonly layout: Layout;
  readonly store: ContainerStore;
  readonly entries: Map<string, Entry>;
  readonly mutex: KeyedMutex;
  /** `exit:<id>` (code) and `removed:<id>` (last code). */
  readonly changes: EventEmitter;
  readonly hostLimits: Map<string, number>;
  readonly closed: boolean;
  save(e: Entry): void;
  publish(topic: string, e: Entry, extra?: EventExtra): void;
  runtimeOf(e: Entry): OciRuntime;
  remove(ref: string, force?: boolean): Promise<void>;
}

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

/** Docker's exit codes for a PID 1 that could not be started. */
function startFailureCode(message: string): number {
  if (/not found|no such file/i.test(message)) return 127;
  if (/permission denied|not executable/i.test(message)) return 126;
  return 128;
}

/** A conmon launched ahead, blocked on its start pipe; `ready` once it is in its cgroup. */
interface EarlyConmon {
  conmon: LaunchedConmon;
  ready: Promise<void>;
}

/** Ends a conmon still waiting on its start pipe: it has made nothing yet. */
function abandonEarly(early: EarlyConmon): void {
  if (early.conmon.pid > 0) {
    try {
      process.kill(early.conmon.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  early.conmon.release();
}

export class ContainerRunner {
  private watcher: fs.FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;

  constructor(private readonly h: RunnerHost) {}

  // ---- start ------------------------------------------------------------------------------------------


  specInputs(ctr: containersV1.Container, p: ContainerPaths, user: ReturnType<typeof resolveUser>, netnsPath: string | undefined) {
    return {
      id: ctr.id,
      config: ctr.config!,
      hostConfig: ctr.hostConfig!,
      hostname: ctr.config!.hostname,
      rootfsPath: p.rootfs,
      user,
      netnsPath,
      hostnamePath: p.hostname,
      hostsPath: p.hosts,
      resolvConfPath: p.resolvConf,
      initBinary: this.h.opts.initBinary ?? '/usr/bin/catatonit',
      hostLimits: this.h.hostLimits,
    };
  }

  async startLocked(e: Entry, hooks: StartHooks = {}): Promise<void> {
    const ctr = e.s.ctr;
    const st = ctr.state!;
    if (st.status === 'paused') throw new PausedError(ctr.id);
    if (st.status === 'running') throw new AlreadyRunningError(ctr.id);
    if (e.restartTimer) clearTimeout(e.restartTimer);
    e.restartTimer = undefined;
    await e.cleanup;
    const p = this.h.layout.paths(ctr.id);
    const hc = ctr.hostConfig!;
    for (const f of [p.exitFile, p.persistExit, p.persistOom, p.bundleOom]) fs.rmSync(f, { force: true });
    for (const v of hc.volumes) if (!fs.existsSync(v.source)) throw new VolumeSourceMissingError(v.source);
    const runtime = this.h.runtimeOf(e);
    const ports = portRequests(ctr.config!, hc);
    e.starting = true;
    e.exitPending = false;
    let early: EarlyConmon | undefined;
    try {
      fs.mkdirSync(p.bundle, { recursive: true, mode: 0o700 });
      // conmon waits on its start pipe until the bundle is ready; launching it (and moving it to its
      // cgroup) now takes both off the path. Should this process die before the start byte, conmon reads
      // EOF and goes on: with no config.json its runtime create fails and nothing runs.
      fs.rmSync(p.bundleConfig, { force: true });
      early = this.launchEarly(e, runtime, p);
      const network = hc.networkMode || 'bridge';
      // The rootfs mount and the network are independent: make them side by side (each is a process or two).
      const [mounted, net] = await Promise.allSettled([
        e.s.facts.mounted ? Promise.resolve() : mountRootfs(ctr.rootfs, p.rootfs).then(() => (e.s.facts.mounted = true)),
        this.h.opts.network.setup({
          containerId: ctr.id, name: ctr.name, hostname: ctr.config!.hostname, network,
          ports,
        }).then((s) => {
          e.s.facts.networkUp = true;
          return s;
        }),
      ]);
      this.h.save(e);
      if (mounted.status === 'rejected') throw mounted.reason;
      if (net.status === 'rejected') throw net.reason;
      const setup: NetworkSetup = net.value;
      ctr.sandboxKey = setup.netnsPath ?? '';
      ctr.networks = setup.attachments.map((a) => ({ ...a }));
      ctr.ports = setup.ports.map((b) => ({ hostIp: b.hostIp ?? '', hostPort: b.hostPort, containerPort: b.containerPort, protocol: b.protocol }));
      this.h.save(e);
      writeHosts(p.hosts, ctr.config!.hostname, setup, network === 'host');
      // The provider's text keeps its note about host nameservers it left out; else write the list.
      if (setup.resolvConf) fs.writeFileSync(p.resolvConf, setup.resolvConf);
      else writeResolvConf(p.resolvConf, setup.dns);
      const spec = buildSpec(this.specInputs(ctr, p, resolveUser(ctr.config!.user, p.rootfs), setup.netnsPath));
      // The runtime sizes the terminal when it makes it: PID 1 never sees the 0x0 a later resize would race.
      if (ctr.config!.tty && hooks.consoleSize) {
        (spec.process as Record<string, unknown>).consoleSize = { height: hooks.consoleSize.rows, width: hooks.consoleSize.cols };
      }
      const specText = JSON.stringify(spec, null, 2);
      fs.writeFileSync(p.bundleConfig, specText);
      fs.writeFileSync(p.configCopy, specText);
      // A runtime container left by a crash would make create fail; only then is a delete worth its exec.
      if (fs.existsSync(`${runtime.root}/${ctr.id}`)) await runtime.delete(ctr.id, true);
      const launching = early;
      early = undefined;
      await this.launch(e, runtime, p, hooks, launching);
    } catch (err) {
      if (early) abandonEarly(early);
      e.starting = false;
      if (!(err instanceof StartFailedError)) await this.releaseRuntime(e, runtime).catch(() => undefined);
      throw err;
    }
    e.starting = false;
    if (e.exitPending) this.handleExit(ctr.id);
  }

  /** conmon, spawned before the bundle is ready: it waits on its start pipe. */
  private launchEarly(e: Entry, runtime: OciRuntime, p: ContainerPaths): EarlyConmon {
    const ctr = e.s.ctr;
    const cfg = ctr.config!;
    const conmon = launchConmon({
      ctrId: ctr.id, uuid: ctr.id, name: ctr.name, runtimeBinary: runtime.binary, runtimeRoot: runtime.root,
      bundle: p.bundle, pidFile: p.pidFile, exitDir: this.h.layout.exitDir, persistDir: p.dir, logPath: p.log,
      socketDir: this.h.layout.socketDir, conmonPidFile: p.conmonPidFile, tty: cfg.tty, stdin: cfg.openStdin,
      leaveStdinOpen: cfg.openStdin && !cfg.stdinOnce,
    }, { start: true });
    // Into its cgroup before the start byte, so the daemon it forks stays there.
    const cgroup = this.h.opts.conmonCgroup;
    const ready = cgroup && conmon.pid ? moveToConmonCgroup(conmon.pid, cgroup) : Promise.resolve();
    ready.catch(() => undefined);
    return { conmon, ready };
  }

  /** The start byte, conmon + runtime create, the sync pipe's answer, then runtime start. */
  private async launch(e: Entry, runtime: OciRuntime, p: ContainerPaths, hooks: StartHooks, early: EarlyConmon): Promise<void> {
    const ctr = e.s.ctr;
    const conmon = early.conmon;
    let res: { data: number; message?: string } | undefined;
    try {
      await early.ready;
    } catch (err) {
      abandonEarly(early);
      throw err;
    }
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
      this.h.save(e);
      await this.releaseRuntime(e, runtime);
      throw new StartFailedError(ctr.id, message, code);
    }
    conmon.release();
    const st = ctr.state!;
    st.pid = res.data;
    st.conmonPid = readPidFile(p.conmonPidFile);
    e.s.facts.runtimeCreated = true;
    e.s.facts.manuallyStopped = false;
    let startedAt = new Date();
    try {
      await hooks.beforeRuntimeStart?.(p);
      startedAt = new Date();
      await runtime.start(ctr.id);
    } catch (err) {
      await runtime.delete(ctr.id, true).catch(() => undefined);
      await this.releaseRuntime(e, runtime);
      Object.assign(st, { status: 'exited', pid: 0, exitCode: 128, error: (err as Error).message, finishedAt: new Date() });
      this.h.save(e);
      throw err;
    }
    Object.assign(st, { status: 'running', exitCode: 0, error: '', oomKilled: false, startedAt, finishedAt: undefined });
    this.h.save(e);
    this.h.publish('container.start', e, { pid: st.pid });
  }

  /**
   * Undoes what start set up: runtime container, network, rootfs mount. Safe to call repeatedly. `exited`:
   * conmon recorded PID 1's exit, so a crun container can be deleted without a crun process.
   */
  async releaseRuntime(e: Entry, runtime: OciRuntime, exited = false): Promise<void> {
    const id = e.s.ctr.id;
    const p = this.h.layout.paths(id);
    const facts = e.s.facts;
    // PID 1 is gone, so the three are independent: run them side by side.
    const results = await Promise.allSettled([
      facts.runtimeCreated ? this.deleteRuntimeContainer(id, runtime, exited).then(() => (facts.runtimeCreated = false)) : undefined,
      facts.networkUp ? this.h.opts.network.teardown(id).then(() => {
        facts.networkUp = false;
        e.s.ctr.sandboxKey = '';
      }) : undefined,
      facts.mounted ? umountAll(p.rootfs).then(() => (facts.mounted = false)) : undefined,
    ]);
    if (this.h.entries.has(id)) this.h.save(e);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async deleteRuntimeContainer(id: string, runtime: OciRuntime, exited: boolean): Promise<void> {
    if (exited && runtime.name === 'crun') {
      try {
        if (deleteStoppedCrunContainer(runtime.root, id)) return;
      } catch (err) {
        this.h.opts.log?.warn({ id, err: (err as Error).message }, 'in-process delete failed; using the runtime');
      }
    }
    // crun refuses to delete a container whose process is still being reaped; retry briefly, then force.
    for (let i = 0; ; i++) {
      try {
        await runtime.delete(id);
        return;
      } catch (err) {
        if (i >= 10) {
          await runtime.delete(id, true);
          this.h.opts.log?.warn({ id, err: (err as Error).message }, 'forced runtime delete');
          return;
        }
        await sleep(50);
      }
    }
  }

  // ---- exits ------------------------------------------------------------------------------------------

  startWatching(): void {
    try {
      this.watcher = fs.watch(this.h.layout.exitDir, (_ev, file) => {
        if (file && this.h.entries.has(String(file))) this.checkExit(String(file));
      });
      this.watcher.on('error', () => undefined);
    } catch (err) {
      this.h.opts.log?.warn({ err: (err as Error).message }, 'cannot watch the exit dir; polling only');
    }
    this.poller = setInterval(() => {
      for (const [id, e] of this.h.entries) {
        if (!ACTIVE.has(e.s.ctr.state!.status)) continue;
        this.checkExit(id, true);
        this.maybeRotateLog(id);
      }
    }, this.h.opts.pollIntervalMs ?? 1000);
    this.poller.unref();
  }

  private maybeRotateLog(id: string): void {
    const rot = this.h.opts.logRotation;
    if (!rot || rot.maxSize <= 0) return;
    const p = this.h.layout.paths(id);
    try {
      if (fs.statSync(p.log).size <= rot.maxSize) return;
      rotateLog(p.log, Math.max(1, rot.maxFiles), () => writeReopenLog(p.ctl));
    } catch (err) {
      this.h.opts.log?.warn({ id, err: (err as Error).message }, 'log rotation failed');
    }
  }

  /** `fromPoll`: also notice a conmon that died without writing an exit file. */
  private checkExit(id: string, fromPoll = false): void {
    const e = this.h.entries.get(id);
    if (!e || this.h.closed) return;
    const exitFile = this.h.layout.paths(id).exitFile;
    if (!fs.existsSync(exitFile)) {
      // conmon writes the exit file before it exits, so a dead conmon with no file lost the container.
      if (fromPoll && !e.starting && !e.holdExits && ACTIVE.has(e.s.ctr.state!.status) && !isConmonAlive(e.s.ctr.state!.conmonPid) && !fs.existsSync(exitFile)) {
        this.recordLostConmon(e);
      }
      return;
    }
    if (e.starting || e.holdExits) {
      e.exitPending = true;
      return;
    }
    if (ACTIVE.has(e.s.ctr.state!.status)) this.handleExit(id);
  }

  /**
   * conmon is gone and left no exit file (host reboot, or it was killed): without conmon the container cannot
   * be supervised, so it is ended (the runtime's forced delete) and recorded dead with 255; the restart policy
   * then applies as for any exit.
   */
  private recordLostConmon(e: Entry): void {
    const id = e.s.ctr.id;
    const st = e.s.ctr.state!;
    this.h.opts.log?.warn({ id, conmonPid: st.conmonPid }, 'conmon is gone without an exit file; recording the container dead');
    Object.assign(st, { status: 'exited', exitCode: 255, pid: 0, error: 'conmon exited without recording an exit code', finishedAt: new Date() });
    this.h.save(e);
    this.h.publish('container.die', e, { exitCode: 255 });
    this.h.changes.emit(`exit:${id}`, 255);
    const runtime = this.h.runtimeOf(e);
    e.cleanup = runtime
      .delete(id, true)
      .then(() => this.releaseRuntime(e, runtime))
      .catch((err) => this.h.opts.log?.error({ id, err }, 'cleanup failed'))
      .then(() => this.afterExit(e, 0));
  }

  /** Runs a runtime call whose event must come before an exit it may cause (resume with a queued signal). */
  async holdingExits<T>(e: Entry, fn: () => Promise<T>): Promise<T> {
    e.holdExits = true;
    try {
      return await fn();
    } finally {
      e.holdExits = false;
      if (e.exitPending && !e.starting) {
        e.exitPending = false;
        this.handleExit(e.s.ctr.id);
      }
    }
  }

  /** Records an exit from conmon's exit file; publishes oom/die; cleans up; applies the restart policy. */
  private handleExit(id: string): void {
    const e = this.h.entries.get(id);
    if (!e || !ACTIVE.has(e.s.ctr.state!.status)) return;
    const p = this.h.layout.paths(id);
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
    this.h.save(e);
    if (oom) this.h.publish('container.oom', e);
    this.h.publish('container.die', e, { exitCode: code, oomKilled: oom });
    this.h.changes.emit(`exit:${id}`, code);
    const runtime = this.h.runtimeOf(e);
    e.cleanup = this.releaseRuntime(e, runtime, true)
      .catch((err) => this.h.opts.log?.error({ id, err }, 'cleanup after exit failed'))
      .then(() => this.afterExit(e, ranForMs));
  }

  private afterExit(e: Entry, ranForMs: number): void {
    const id = e.s.ctr.id;
    if (this.h.closed || !this.h.entries.has(id)) return;
    const st = e.s.ctr.state!;
    const hc = e.s.ctr.hostConfig!;
    if (hc.autoRemove && !e.s.facts.manuallyStopped) {
      void this.h.remove(id, true).catch((err) => this.h.opts.log?.error({ id, err }, 'auto-remove failed'));
      return;
    }
    const delay = nextRestartDelay({
      policy: hc.restartPolicy, exitCode: st.exitCode, restartCount: st.restartCount,
      manuallyStopped: e.s.facts.manuallyStopped, ranForMs, previousDelayMs: e.s.facts.restartDelayMs,
    });
    if (delay === undefined) {
      if (hc.autoRemove) void this.h.remove(id, true).catch((err) => this.h.opts.log?.error({ id, err }, 'auto-remove failed'));
      return;
    }
    this.scheduleRestart(e, delay);
  }

  private scheduleRestart(e: Entry, delay: number): void {
    const id = e.s.ctr.id;
    e.s.facts.restartDelayMs = delay;
    e.s.ctr.state!.status = 'restarting';
    this.h.save(e);
    e.restartTimer = setTimeout(() => {
      e.restartTimer = undefined;
      void this.h.mutex.run(id, async () => {
        if (!this.h.entries.has(id) || e.s.ctr.state!.status !== 'restarting' || this.h.closed) return;
        e.s.ctr.state!.restartCount++;
        try {
          await this.startLocked(e);
        } catch (err) {
          this.h.opts.log?.warn({ id, err: (err as Error).message }, 'restart by policy failed');
          this.afterExit(e, 0);
        }
      });
    }, delay);
    e.restartTimer.unref();
  }

  /** The next exit of a running container, as a promise of its code. */
  nextExit(id: string): Promise<number> {
    return new Promise((resolve) => this.h.changes.once(`exit:${id}`, resolve));
  }

  // ---- re-adoption ------------------------------------------------------------------------------------

  async readopt(): Promise<void> {
    for (const s of this.h.store.all()) {
      this.h.entries.set(s.ctr.id, { s, cleanup: Promise.resolve(), starting: false, holdExits: false, exitPending: false });
    }
    this.startWatching();
    for (const e of this.h.entries.values()) {
      const st = e.s.ctr.state!;
      const id = e.s.ctr.id;
      const p = this.h.layout.paths(id);
      if (ACTIVE.has(st.status)) {
        if (fs.existsSync(p.exitFile)) {
          this.handleExit(id);
          continue;
        }
        if (isConmonAlive(st.conmonPid)) {
          // Still running under its conmon; the runtime's view settles paused vs running.
          const rs = await this.h.runtimeOf(e).state(id).catch(() => undefined);
          if (rs && (rs.status === 'paused' || rs.status === 'running') && rs.status !== st.status) {
            st.status = rs.status;
            this.h.save(e);
          }
          continue;
        }
        this.recordLostConmon(e);
      } else if (st.status === 'restarting') {
        this.scheduleRestart(e, e.s.facts.restartDelayMs || 100);
      } else if (e.s.facts.mounted || e.s.facts.networkUp || e.s.facts.runtimeCreated) {
        // A start that the supervisor did not finish: undo its half.
        e.cleanup = this.releaseRuntime(e, this.h.runtimeOf(e)).catch((err) => this.h.opts.log?.error({ id, err }, 'cleanup failed'));
      }
    }
  }

  /** Stops watching exit files; containers keep running under their conmon. */
  close(): void {
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
  }
}
