// The supervisor's domain: container records and their lifecycle under conmon + crun. Usable in-process; the
// gRPC adapter (grpc/containers-service.ts) is a thin layer over it. Calls on one container are serialised by
// a per-id mutex; exits are seen through fs.watch on conmon's exit dir with a poll as a fallback.
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import type { containersV1, typesV1 } from '@berth/api';
import type { Logger } from '@berth/service-kit';
import { AmbiguousContainerRefError, ContainerNotFoundError, IdInUseError, InvalidConfigError, NameInUseError, NotPausedError,
  NotRunningError, PausedError, RunningDeleteError, AlreadyRunningError, InvalidWaitConditionError, RuntimeError,
  StartFailedError, VolumeSourceMissingError } from './errors';
import { publishContainerEvent, type EventExtra, type EventSink } from './container-events';
import { writeHostname, writeHosts, writeResolvConf } from './container-files';
import { KeyedMutex } from './keyed-mutex';
import { Layout, type ContainerPaths } from './layout';
import { checkId, checkName, generateName, newContainerId } from './names';
import type { NetworkProvider, NetworkSetup } from './network/network-provider';
import { writeReopenLog } from './io/attach';
import { rotateLog } from './io/k8s-log';
import { buildSpec, linuxResources, readHostHardLimits, resolveUser, validateConfig } from './oci/spec';
import { nextRestartDelay } from './restart-policy';
import { isConmonAlive, launchConmon, readPidFile } from './runtime/conmon';
import { mountRootfs, umountAll } from './runtime/mounts';
import { OciRuntime } from './runtime/oci-runtime';
import { parseSignal } from './signals';
import { ContainerStore, NO_FACTS, type StoredContainer } from './store/container-store';

export interface ContainerManagerOptions {
  /** <BERTH_ROOT>/supervisor. */
  stateDir: string;
  /** BERTH_RUN: bundles, exit files, runtime state. */
  runDir: string;
  network: NetworkProvider;
  events?: EventSink;
  log?: Logger;
  /** The init binary bind-mounted at /dev/init for --init (default /usr/bin/catatonit). */
  initBinary?: string;
  /** "crun" (default) or "runc". */
  defaultRuntime?: string;
  /** Fallback poll of exit files and log sizes, in ms (default 1000). */
  pollIntervalMs?: number;
  /** Rotate ctr.log past maxSize bytes, keeping maxFiles old ones (checked at each poll); off when absent. */
  logRotation?: { maxSize: number; maxFiles: number };
}

export interface CreateRequest {
  id?: string;
  name?: string;
  config: containersV1.ContainerConfig;
  hostConfig: containersV1.HostConfig;
  rootfs: typesV1.Mount[];
  snapshotKey?: string;
}

export interface StartHooks {
  beforeRuntimeStart?: (paths: ContainerPaths) => Promise<void>;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

interface Entry {
  s: StoredContainer;
  /** Runtime cleanup after the last exit (crun delete, network, umount); start/delete wait for it. */
  cleanup: Promise<void>;
  restartTimer?: NodeJS.Timeout;
  /** Inside start: an exit seen now is handled once start has recorded the run. */
  starting: boolean;
  exitPending: boolean;
}

const ACTIVE = new Set(['running', 'paused']);
const STOP_KILL_WAIT_MS = 15_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True when `p` settles within `ms`; the timer is cleared either way so nothing lingers. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
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

export class ContainerManager {
  readonly layout: Layout;
  private readonly store: ContainerStore;
  private readonly entries = new Map<string, Entry>();
  private readonly mutex = new KeyedMutex();
  private readonly changes = new EventEmitter();
  private readonly hostLimits = readHostHardLimits();
  private watcher: fs.FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly opts: ContainerManagerOptions) {
    this.layout = new Layout(opts.stateDir, opts.runDir);
    for (const d of [opts.stateDir, this.layout.containersDir, this.layout.exitDir, this.layout.socketDir, this.layout.bundlesDir]) {
      fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    }
    this.store = new ContainerStore(this.layout.dbFile);
    this.changes.setMaxListeners(0);
  }

  /** Opens the store and re-adopts containers that kept running while the supervisor was down. */
  static async open(opts: ContainerManagerOptions): Promise<ContainerManager> {
    const m = new ContainerManager(opts);
    await m.readopt();
    return m;
  }

  // ---- lookup ---------------------------------------------------------------------------------------

  /** Full id, name, or unique id prefix. */
  resolve(ref: string): string {
    const r = ref.startsWith('/') ? ref.slice(1) : ref;
    if (this.entries.has(r)) return r;
    for (const e of this.entries.values()) if (e.s.ctr.name === r) return e.s.ctr.id;
    if (/^[0-9a-f]+$/.test(r)) {
      const hits = [...this.entries.keys()].filter((id) => id.startsWith(r));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) throw new AmbiguousContainerRefError(ref, hits.map((h) => h.slice(0, 12)));
    }
    throw new ContainerNotFoundError(ref);
  }

  get(ref: string): containersV1.Container {
    return structuredClone(this.entry(this.resolve(ref)).s.ctr);
  }

  list(all = false): containersV1.Container[] {
    return [...this.entries.values()]
      .map((e) => e.s.ctr)
      .filter((c) => all || ACTIVE.has(c.state!.status) || c.state!.status === 'restarting')
      .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))
      .map((c) => structuredClone(c));
  }

  paths(ref: string): ContainerPaths {
    return this.layout.paths(this.resolve(ref));
  }

  /** What the I/O layer (attach, exec, logs, resize) needs of a container. */
  ioTarget(ref: string): { ctr: containersV1.Container; paths: ContainerPaths; runtime: OciRuntime; active: boolean } {
    const e = this.entry(this.resolve(ref));
    return { ctr: structuredClone(e.s.ctr), paths: this.layout.paths(e.s.ctr.id), runtime: this.runtimeOf(e), active: this.isActive(e.s.ctr.id) };
  }

  /** Running or paused (or inside start): output may still come. */
  isActive(id: string): boolean {
    const e = this.entries.get(id);
    return !!e && (e.starting || ACTIVE.has(e.s.ctr.state!.status));
  }

  /** Publishes an event about a container (used by the I/O layer for attach and exec events). */
  publishFor(id: string, topic: string, extra: EventExtra = {}): void {
    const e = this.entries.get(id);
    if (e) this.publish(topic, e, extra);
  }

  private entry(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new ContainerNotFoundError(id);
    return e;
  }

  private save(e: Entry): void {
    this.store.update(e.s);
  }

  private publish(topic: string, e: Entry, extra: EventExtra = {}): void {
    publishContainerEvent(this.opts.events, topic, e.s.ctr, extra);
  }

  /** Runs fn under the container's lock, resolving the reference inside it. */
  private locked<T>(ref: string, fn: (e: Entry) => Promise<T>): Promise<T> {
    const id = this.resolve(ref);
    return this.mutex.run(id, async () => fn(this.entry(id)));
  }

  private runtimeOf(e: Entry): OciRuntime {
    return OciRuntime.forName(e.s.ctr.hostConfig?.runtime || this.opts.defaultRuntime || 'crun', this.opts.runDir);
  }

  // ---- create / rename / update -----------------------------------------------------------------------

  async create(req: CreateRequest): Promise<containersV1.Container> {
    const id = req.id ? checkId(req.id) : newContainerId();
    return this.mutex.run(id, async () => {
      if (this.entries.has(id)) throw new IdInUseError(id);
      for (const e of this.entries.values()) {
        if (e.s.ctr.id.slice(0, 12) === id.slice(0, 12)) throw new IdInUseError(`${id} (its first 12 characters match ${e.s.ctr.id})`);
      }
      const name = req.name ? checkName(req.name) : generateName((n) => this.nameOwner(n) !== undefined);
      const owner = this.nameOwner(name);
      if (owner) throw new NameInUseError(name, owner);
      validateConfig(req.config, req.hostConfig);
      if (req.rootfs.length === 0) throw new InvalidConfigError('no rootfs mounts given: prepare a snapshot first');
      for (const v of req.hostConfig.volumes) if (!fs.existsSync(v.source)) throw new VolumeSourceMissingError(v.source);
      const p = this.layout.paths(id);
      const config: containersV1.ContainerConfig = { ...req.config, hostname: req.config.hostname || id.slice(0, 12) };
      const ctr: containersV1.Container = {
        id,
        name,
        createdAt: new Date(),
        config,
        hostConfig: req.hostConfig,
        state: { status: 'created', pid: 0, exitCode: 0, oomKilled: false, error: '', startedAt: undefined, finishedAt: undefined, restartCount: 0, conmonPid: 0 },
        rootfs: req.rootfs,
        snapshotKey: req.snapshotKey ?? '',
        stateDir: p.dir,
        logPath: p.log,
        sandboxKey: '',
        networks: [],
        ports: [],
        hostnamePath: p.hostname,
        hostsPath: p.hosts,
        resolvConfPath: p.resolvConf,
      };
      try {
        fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
        writeHostname(p.hostname, config.hostname);
        // The spec as it will run (user and network are settled again at start).
        const spec = buildSpec(this.specInputs(ctr, p, { uid: 0, gid: 0, additionalGids: [] }, undefined));
        fs.writeFileSync(p.configCopy, JSON.stringify(spec, null, 2));
        const s = { ctr, facts: { ...NO_FACTS } };
        this.store.insert(s);
        this.entries.set(id, { s, cleanup: Promise.resolve(), starting: false, exitPending: false });
      } catch (err) {
        fs.rmSync(p.dir, { recursive: true, force: true });
        throw err;
      }
      this.publish('container.create', this.entry(id));
      return structuredClone(ctr);
    });
  }

  private nameOwner(name: string): string | undefined {
    for (const e of this.entries.values()) if (e.s.ctr.name === name) return e.s.ctr.id;
    return undefined;
  }

  rename(ref: string, newName: string): Promise<containersV1.Container> {
    return this.locked(ref, async (e) => {
      const name = checkName(newName);
      const owner = this.nameOwner(name);
      if (owner && owner !== e.s.ctr.id) throw new NameInUseError(name, owner);
      const old = e.s.ctr.name;
      e.s.ctr.name = name;
      this.save(e);
      this.publish('container.rename', e, { attributes: { oldName: old } });
      return structuredClone(e.s.ctr);
    });
  }

  update(ref: string, resources: containersV1.Resources | undefined, policy: containersV1.RestartPolicy | undefined): Promise<containersV1.Container> {
    return this.locked(ref, async (e) => {
      const hc = structuredClone(e.s.ctr.hostConfig!);
      const cur = hc.resources ?? { cpuShares: 0, nanoCpus: 0, memory: 0, memorySwap: 0, pidsLimit: 0 };
      if (resources) {
        for (const k of ['cpuShares', 'nanoCpus', 'memory', 'memorySwap', 'pidsLimit'] as const) if (resources[k]) cur[k] = resources[k];
        hc.resources = cur;
      }
      if (policy) hc.restartPolicy = policy;
      validateConfig(e.s.ctr.config!, hc);
      if (resources && ACTIVE.has(e.s.ctr.state!.status)) await this.runtimeOf(e).update(e.s.ctr.id, linuxResources(hc.resources));
      e.s.ctr.hostConfig = hc;
      this.save(e);
      this.publish('container.update', e);
      return structuredClone(e.s.ctr);
    });
  }

  // ---- start ------------------------------------------------------------------------------------------

  /**
   * Starts PID 1. `beforeRuntimeStart` runs once the runtime created the container and before its process
   * runs: the moment to connect to the attach socket or size the terminal so no output is missed.
   */
  start(ref: string, hooks: StartHooks = {}): Promise<containersV1.Container> {
    return this.locked(ref, async (e) => {
      await this.startLocked(e, hooks);
      return structuredClone(e.s.ctr);
    });
  }

  private specInputs(ctr: containersV1.Container, p: ContainerPaths, user: ReturnType<typeof resolveUser>, netnsPath: string | undefined) {
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
      initBinary: this.opts.initBinary ?? '/usr/bin/catatonit',
      hostLimits: this.hostLimits,
    };
  }

  private async startLocked(e: Entry, hooks: StartHooks = {}): Promise<void> {
    const ctr = e.s.ctr;
    const st = ctr.state!;
    if (st.status === 'paused') throw new PausedError(ctr.id);
    if (st.status === 'running') throw new AlreadyRunningError(ctr.id);
    if (e.restartTimer) clearTimeout(e.restartTimer);
    e.restartTimer = undefined;
    await e.cleanup;
    const p = this.layout.paths(ctr.id);
    const hc = ctr.hostConfig!;
    for (const f of [p.exitFile, p.persistExit, p.persistOom, p.bundleOom]) fs.rmSync(f, { force: true });
    for (const v of hc.volumes) if (!fs.existsSync(v.source)) throw new VolumeSourceMissingError(v.source);
    const runtime = this.runtimeOf(e);
    e.starting = true;
    e.exitPending = false;
    try {
      fs.mkdirSync(p.bundle, { recursive: true, mode: 0o700 });
      if (!e.s.facts.mounted) {
        await mountRootfs(ctr.rootfs, p.rootfs);
        e.s.facts.mounted = true;
        this.save(e);
      }
      const network = hc.networkMode || 'bridge';
      let setup: NetworkSetup;
      try {
        setup = await this.opts.network.setup({
          containerId: ctr.id, name: ctr.name, hostname: ctr.config!.hostname, network,
          ports: hc.ports.map((b) => ({ hostIp: b.hostIp, hostPort: b.hostPort, containerPort: b.containerPort, protocol: b.protocol === 'udp' ? 'udp' : 'tcp' })),
        });
      } catch (err) {
        await this.releaseRuntime(e, runtime);
        throw err;
      }
      e.s.facts.networkUp = true;
      ctr.sandboxKey = setup.netnsPath ?? '';
      ctr.networks = setup.attachments.map((a) => ({ ...a }));
      ctr.ports = setup.ports.map((b) => ({ hostIp: b.hostIp ?? '', hostPort: b.hostPort, containerPort: b.containerPort, protocol: b.protocol }));
      this.save(e);
      writeHosts(p.hosts, ctr.config!.hostname, setup, network === 'host');
      writeResolvConf(p.resolvConf, setup.dns);
      const spec = buildSpec(this.specInputs(ctr, p, resolveUser(ctr.config!.user, p.rootfs), setup.netnsPath));
      const specText = JSON.stringify(spec, null, 2);
      fs.writeFileSync(p.bundleConfig, specText);
      fs.writeFileSync(p.configCopy, specText);
      // A runtime container left by a crash would make create fail; only then is a delete worth its exec.
      if (fs.existsSync(`${runtime.root}/${ctr.id}`)) await runtime.delete(ctr.id, true);
      await this.launch(e, runtime, p, hooks);
    } catch (err) {
      e.starting = false;
      if (!(err instanceof StartFailedError)) await this.releaseRuntime(e, runtime).catch(() => undefined);
      throw err;
    }
    e.starting = false;
    if (e.exitPending) this.handleExit(ctr.id);
  }

  /** conmon + runtime create, the sync pipe's answer, then runtime start. */
  private async launch(e: Entry, runtime: OciRuntime, p: ContainerPaths, hooks: StartHooks): Promise<void> {
    const ctr = e.s.ctr;
    const cfg = ctr.config!;
    const conmon = launchConmon({
      ctrId: ctr.id, uuid: ctr.id, name: ctr.name, runtimeBinary: runtime.binary, runtimeRoot: runtime.root,
      bundle: p.bundle, pidFile: p.pidFile, exitDir: this.layout.exitDir, persistDir: p.dir, logPath: p.log,
      socketDir: this.layout.socketDir, conmonPidFile: p.conmonPidFile, tty: cfg.tty, stdin: cfg.openStdin,
      leaveStdinOpen: cfg.openStdin && !cfg.stdinOnce,
    });
    let res: { data: number; message?: string } | undefined;
    try {
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
      this.save(e);
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
      this.save(e);
      throw err;
    }
    Object.assign(st, { status: 'running', exitCode: 0, error: '', oomKilled: false, startedAt, finishedAt: undefined });
    this.save(e);
    this.publish('container.start', e, { pid: st.pid });
  }

  /** Undoes what start set up: runtime container, network, rootfs mount. Safe to call repeatedly. */
  private async releaseRuntime(e: Entry, runtime: OciRuntime): Promise<void> {
    const id = e.s.ctr.id;
    const p = this.layout.paths(id);
    const facts = e.s.facts;
    // PID 1 is gone, so the three are independent: run them side by side.
    const results = await Promise.allSettled([
      facts.runtimeCreated ? this.deleteRuntimeContainer(id, runtime).then(() => (facts.runtimeCreated = false)) : undefined,
      facts.networkUp ? this.opts.network.teardown(id).then(() => {
        facts.networkUp = false;
        e.s.ctr.sandboxKey = '';
      }) : undefined,
      facts.mounted ? umountAll(p.rootfs).then(() => (facts.mounted = false)) : undefined,
    ]);
    if (this.entries.has(id)) this.save(e);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async deleteRuntimeContainer(id: string, runtime: OciRuntime): Promise<void> {
    // crun refuses to delete a container whose process is still being reaped; retry briefly, then force.
    for (let i = 0; ; i++) {
      try {
        await runtime.delete(id);
        return;
      } catch (err) {
        if (i >= 10) {
          await runtime.delete(id, true);
          this.opts.log?.warn({ id, err: (err as Error).message }, 'forced runtime delete');
          return;
        }
        await sleep(50);
      }
    }
  }

  // ---- exits ------------------------------------------------------------------------------------------

  private startWatching(): void {
    try {
      this.watcher = fs.watch(this.layout.exitDir, (_ev, file) => {
        if (file && this.entries.has(String(file))) this.checkExit(String(file));
      });
      this.watcher.on('error', () => undefined);
    } catch (err) {
      this.opts.log?.warn({ err: (err as Error).message }, 'cannot watch the exit dir; polling only');
    }
    this.poller = setInterval(() => {
      for (const [id, e] of this.entries) {
        if (!ACTIVE.has(e.s.ctr.state!.status)) continue;
        this.checkExit(id);
        this.maybeRotateLog(id);
      }
    }, this.opts.pollIntervalMs ?? 1000);
    this.poller.unref();
  }

  private maybeRotateLog(id: string): void {
    const rot = this.opts.logRotation;
    if (!rot || rot.maxSize <= 0) return;
    const p = this.layout.paths(id);
    try {
      if (fs.statSync(p.log).size <= rot.maxSize) return;
      rotateLog(p.log, Math.max(1, rot.maxFiles), () => writeReopenLog(p.ctl));
    } catch (err) {
      this.opts.log?.warn({ id, err: (err as Error).message }, 'log rotation failed');
    }
  }

  private checkExit(id: string): void {
    const e = this.entries.get(id);
    if (!e || this.closed) return;
    if (!fs.existsSync(this.layout.paths(id).exitFile)) return;
    if (e.starting) {
      e.exitPending = true;
      return;
    }
    if (ACTIVE.has(e.s.ctr.state!.status)) this.handleExit(id);
  }

  /** Records an exit from conmon's exit file; publishes oom/die; cleans up; applies the restart policy. */
  private handleExit(id: string): void {
    const e = this.entries.get(id);
    if (!e || !ACTIVE.has(e.s.ctr.state!.status)) return;
    const p = this.layout.paths(id);
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
    this.save(e);
    if (oom) this.publish('container.oom', e);
    this.publish('container.die', e, { exitCode: code, oomKilled: oom });
    this.changes.emit(`exit:${id}`, code);
    const runtime = this.runtimeOf(e);
    e.cleanup = this.releaseRuntime(e, runtime)
      .catch((err) => this.opts.log?.error({ id, err }, 'cleanup after exit failed'))
      .then(() => this.afterExit(e, ranForMs));
  }

  private afterExit(e: Entry, ranForMs: number): void {
    const id = e.s.ctr.id;
    if (this.closed || !this.entries.has(id)) return;
    const st = e.s.ctr.state!;
    const hc = e.s.ctr.hostConfig!;
    if (hc.autoRemove && !e.s.facts.manuallyStopped) {
      void this.remove(id, true).catch((err) => this.opts.log?.error({ id, err }, 'auto-remove failed'));
      return;
    }
    const delay = nextRestartDelay({
      policy: hc.restartPolicy, exitCode: st.exitCode, restartCount: st.restartCount,
      manuallyStopped: e.s.facts.manuallyStopped, ranForMs, previousDelayMs: e.s.facts.restartDelayMs,
    });
    if (delay === undefined) {
      if (hc.autoRemove) void this.remove(id, true).catch((err) => this.opts.log?.error({ id, err }, 'auto-remove failed'));
      return;
    }
    this.scheduleRestart(e, delay);
  }

  private scheduleRestart(e: Entry, delay: number): void {
    const id = e.s.ctr.id;
    e.s.facts.restartDelayMs = delay;
    e.s.ctr.state!.status = 'restarting';
    this.save(e);
    e.restartTimer = setTimeout(() => {
      e.restartTimer = undefined;
      void this.mutex.run(id, async () => {
        if (!this.entries.has(id) || e.s.ctr.state!.status !== 'restarting' || this.closed) return;
        e.s.ctr.state!.restartCount++;
        try {
          await this.startLocked(e);
        } catch (err) {
          this.opts.log?.warn({ id, err: (err as Error).message }, 'restart by policy failed');
          this.afterExit(e, 0);
        }
      });
    }, delay);
    e.restartTimer.unref();
  }

  /** The next exit of a running container, as a promise of its code. */
  private nextExit(id: string): Promise<number> {
    return new Promise((resolve) => this.changes.once(`exit:${id}`, resolve));
  }

  // ---- stop / kill / pause -----------------------------------------------------------------------------

  stop(ref: string, timeoutSec = -1): Promise<containersV1.Container> {
    return this.locked(ref, async (e) => {
      await this.stopLocked(e, timeoutSec);
      this.publish('container.stop', e);
      return structuredClone(e.s.ctr);
    });
  }

  private async stopLocked(e: Entry, timeoutSec: number): Promise<void> {
    const ctr = e.s.ctr;
    const st = ctr.state!;
    if (st.status === 'restarting') {
      if (e.restartTimer) clearTimeout(e.restartTimer);
      e.restartTimer = undefined;
      e.s.facts.manuallyStopped = true;
      st.status = 'exited';
      this.save(e);
      return;
    }
    if (!ACTIVE.has(st.status)) throw new NotRunningError(ctr.id, st.status);
    e.s.facts.manuallyStopped = true;
    this.save(e);
    const grace = timeoutSec >= 0 ? timeoutSec : ctr.config!.stopTimeout > 0 ? ctr.config!.stopTimeout : 10;
    const sig = parseSignal(ctr.config!.stopSignal || 'SIGTERM');
    const exited = this.nextExit(ctr.id);
    const runtime = this.runtimeOf(e);
    this.publish('container.kill', e, { signal: sig.name });
    await this.signal(e, runtime, sig.number);
    const exitedInTime = await within(exited, grace * 1000);
    if (!exitedInTime) {
      this.publish('container.kill', e, { signal: 'SIGKILL' });
      await this.signal(e, runtime, 9);
      const gone = await within(exited, STOP_KILL_WAIT_MS);
      if (!gone) throw new RuntimeError(`container ${ctr.id} did not exit ${STOP_KILL_WAIT_MS / 1000} s after SIGKILL`);
    }
    await e.cleanup;
  }

  /** Signals PID 1; a paused container is thawed afterwards so the signal takes effect. */
  private async signal(e: Entry, runtime: OciRuntime, sig: number): Promise<void> {
    await runtime.kill(e.s.ctr.id, sig);
    if (e.s.ctr.state!.status === 'paused') {
      await runtime.resume(e.s.ctr.id).catch(() => undefined);
      e.s.ctr.state!.status = 'running';
      this.save(e);
    }
  }

  kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    return this.locked(ref, async (e) => {
      const sig = parseSignal(signal || 'SIGKILL');
      const st = e.s.ctr.state!;
      if (!ACTIVE.has(st.status)) throw new NotRunningError(e.s.ctr.id, st.status);
      e.s.facts.manuallyStopped = true;
      this.save(e);
      this.publish('container.kill', e, { signal: sig.name });
      await this.signal(e, this.runtimeOf(e), sig.number);
    });
  }

  restart(ref: string, timeoutSec = -1): Promise<containersV1.Container> {
    return this.locked(ref, async (e) => {
      if (ACTIVE.has(e.s.ctr.state!.status) || e.s.ctr.state!.status === 'restarting') {
        await this.stopLocked(e, timeoutSec);
        this.publish('container.stop', e);
      }
      await this.startLocked(e);
      this.publish('container.restart', e);
      return structuredClone(e.s.ctr);
    });
  }

  pause(ref: string): Promise<void> {
    return this.locked(ref, async (e) => {
      const st = e.s.ctr.state!;
      if (st.status === 'paused') throw new PausedError(e.s.ctr.id);
      if (st.status !== 'running') throw new NotRunningError(e.s.ctr.id, st.status);
      await this.runtimeOf(e).pause(e.s.ctr.id);
      st.status = 'paused';
      this.save(e);
      this.publish('container.pause', e);
    });
  }

  resume(ref: string): Promise<void> {
    return this.locked(ref, async (e) => {
      const st = e.s.ctr.state!;
      if (st.status !== 'paused') throw new NotPausedError(e.s.ctr.id);
      await this.runtimeOf(e).resume(e.s.ctr.id);
      st.status = 'running';
      this.save(e);
      this.publish('container.unpause', e);
    });
  }

  // ---- wait / delete ----------------------------------------------------------------------------------

  /** Blocks until the condition holds; returns the exit code. Not serialised with other calls. */
  async wait(ref: string, condition: string = 'not-running', signal?: AbortSignal): Promise<number> {
    const cond = (condition || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw new InvalidWaitConditionError(condition);
    const id = this.resolve(ref);
    const e = this.entry(id);
    const status = e.s.ctr.state!.status;
    if (cond === 'not-running' && !ACTIVE.has(status) && status !== 'restarting' && !e.starting) return e.s.ctr.state!.exitCode;
    const event = cond === 'removed' ? `removed:${id}` : `exit:${id}`;
    const code = await new Promise<number>((resolve, reject) => {
      const onEvent = (code: number) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(code);
      };
      const onAbort = () => {
        this.changes.off(event, onEvent);
        reject(new Error('wait cancelled'));
      };
      this.changes.once(event, onEvent);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    // Return once the runtime, network and mounts are released, so a following remove or start is quick.
    await this.entries.get(id)?.cleanup;
    return code;
  }

  remove(ref: string, force = false): Promise<void> {
    return this.locked(ref, async (e) => {
      const id = e.s.ctr.id;
      const st = e.s.ctr.state!;
      if (ACTIVE.has(st.status)) {
        if (!force) throw new RunningDeleteError(id);
        e.s.facts.manuallyStopped = true;
        const exited = this.nextExit(id);
        const runtime = this.runtimeOf(e);
        this.publish('container.kill', e, { signal: 'SIGKILL' });
        await this.signal(e, runtime, 9);
        const gone = await within(exited, STOP_KILL_WAIT_MS);
        if (!gone) throw new RuntimeError(`container ${id} did not exit after SIGKILL`);
      }
      if (e.restartTimer) clearTimeout(e.restartTimer);
      e.restartTimer = undefined;
      st.status = 'removing';
      await e.cleanup;
      try {
        await this.releaseRuntime(e, this.runtimeOf(e));
      } catch (err) {
        st.status = 'dead';
        this.save(e);
        throw err;
      }
      const p = this.layout.paths(id);
      removeCgroups(id);
      fs.rmSync(p.bundle, { recursive: true, force: true });
      fs.rmSync(p.dir, { recursive: true, force: true });
      fs.rmSync(p.exitFile, { force: true });
      this.store.delete(id);
      this.entries.delete(id);
      this.publish('container.destroy', e);
      this.changes.emit(`removed:${id}`, st.exitCode);
    });
  }

  // ---- re-adoption ------------------------------------------------------------------------------------

  private async readopt(): Promise<void> {
    for (const s of this.store.all()) {
      this.entries.set(s.ctr.id, { s, cleanup: Promise.resolve(), starting: false, exitPending: false });
    }
    this.startWatching();
    for (const e of this.entries.values()) {
      const st = e.s.ctr.state!;
      const id = e.s.ctr.id;
      const p = this.layout.paths(id);
      if (ACTIVE.has(st.status)) {
        if (fs.existsSync(p.exitFile)) {
          this.handleExit(id);
          continue;
        }
        if (isConmonAlive(st.conmonPid)) {
          // Still running under its conmon; the runtime's view settles paused vs running.
          const rs = await this.runtimeOf(e).state(id).catch(() => undefined);
          if (rs && (rs.status === 'paused' || rs.status === 'running') && rs.status !== st.status) {
            st.status = rs.status;
            this.save(e);
          }
          continue;
        }
        // conmon is gone and left no exit file (host reboot, or it was killed): the container is dead.
        Object.assign(st, { status: 'exited', exitCode: 255, pid: 0, error: 'conmon exited without recording an exit code', finishedAt: new Date() });
        this.save(e);
        this.publish('container.die', e, { exitCode: 255 });
        e.cleanup = this.releaseRuntime(e, this.runtimeOf(e)).catch((err) => this.opts.log?.error({ id, err }, 'cleanup failed'));
      } else if (st.status === 'restarting') {
        this.scheduleRestart(e, e.s.facts.restartDelayMs || 100);
      } else if (e.s.facts.mounted || e.s.facts.networkUp || e.s.facts.runtimeCreated) {
        // A start that the supervisor did not finish: undo its half.
        e.cleanup = this.releaseRuntime(e, this.runtimeOf(e)).catch((err) => this.opts.log?.error({ id, err }, 'cleanup failed'));
      }
    }
  }

  /** Stops watching and closes the store; containers keep running under their conmon. */
  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
    for (const e of this.entries.values()) if (e.restartTimer) clearTimeout(e.restartTimer);
    await Promise.all([...this.entries.values()].map((e) => e.cleanup));
    this.store.close();
  }
}

/** crun removes the container's cgroups on delete; this catches what a crash left behind. */
export function removeCgroups(id: string): void {
  const roots = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'];
  for (const root of roots) {
    let ctrls: string[];
    try {
      ctrls = root.endsWith('unified') ? [''] : fs.readdirSync(root);
    } catch {
      continue;
    }
    for (const c of ctrls) {
      const dir = `${root}${c ? '/' + c : ''}/berth/${id}`;
      try {
        fs.rmdirSync(dir);
      } catch {
        // absent or busy: nothing to do
      }
    }
  }
}
