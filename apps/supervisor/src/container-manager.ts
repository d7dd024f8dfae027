// The supervisor's domain: container records and their lifecycle under conmon + crun. Usable in-process; the
// gRPC adapter (grpc/containers-grpc.ts) is a thin layer over it. Calls on one container are serialised by
// a per-id mutex; running, exits and re-adoption are ContainerRunner's (container-runner.ts).
import * as crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { containersV1 } from '@berth/api';
import { AmbiguousContainerRefError, ContainerNotFoundError, IdInUseError, InvalidWaitConditionError,
  NameInUseError, NotPausedError, NotRunningError, PausedError, RunningDeleteError, RuntimeError, UpdateRefusedError } from './errors';
import { removeCgroups } from './cgroup-cleanup';
import { publishContainerEvent, type EventExtra } from './container-events';
import { writeHostname } from './container-files';
import { ACTIVE, ContainerRunner, within } from './container-runner';
import { signalContainer, STOP_KILL_WAIT_MS, stopContainer } from './container-stop';
import type { ContainerManagerOptions, CreateRequest, Entry, RunnerHost, StartHooks, WaitCondition } from './container-types';
import { KeyedMutex } from './keyed-mutex';
import { Layout, type ContainerPaths } from './layout';
import { checkId, checkName, generateName, newContainerId } from './names';
import { checkCreateRequest, newContainerRecord } from './container-create';
import { specJson } from './oci/security';
import { buildSpec, linuxResources, readHostHardLimits, validateConfig } from './oci/spec';
import { OciRuntime } from './runtime/oci-runtime';
import { parseSignal } from './signals';
import { HealthMonitor } from './health/health-monitor';
import { ContainerStore, NO_FACTS } from './store/container-store';
import { mountsFrom } from './volumes/volumes-from';
import { resolveMounts } from './volumes/container-mounts';
import { populateVolumesAtCreate, removeAnonymousVolumes, volumeUsers } from './volumes/container-volumes';

// The types and removeCgroups lived here; callers import them from this file.
export type { ContainerManagerOptions, CreateRequest, Entry, StartHooks, WaitCondition } from './container-types';
export { removeCgroups } from './cgroup-cleanup';

/**
 * A start or restart by the user begins the restart policy afresh, as docker's does: the count (and with it
 * on-failure's budget) and the backoff go back to zero. Not for a container that is running already.
 */
function resetRestarts(e: Entry): void {
  if (ACTIVE.has(e.s.ctr.state!.status)) return;
  e.s.ctr.state!.restartCount = 0;
  e.s.facts.restartDelayMs = 0;
}

export class ContainerManager implements RunnerHost {
  readonly layout: Layout;
  // Shared with ContainerRunner (RunnerHost); not for other callers.
  readonly store: ContainerStore;
  readonly entries = new Map<string, Entry>();
  readonly mutex = new KeyedMutex();
  readonly changes = new EventEmitter();
  readonly hostLimits = readHostHardLimits();
  readonly health: HealthMonitor = new HealthMonitor(this);
  closed = false;
  private readonly runner: ContainerRunner;
  /** Names taken by creates still in progress, to the id they are for. */
  private readonly creating = new Map<string, string>();

  private constructor(readonly opts: ContainerManagerOptions) {
    this.layout = new Layout(opts.stateDir, opts.runDir);
    for (const d of [opts.stateDir, this.layout.containersDir, this.layout.exitDir, this.layout.socketDir, this.layout.bundlesDir]) {
      fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    }
    this.store = new ContainerStore(this.layout.dbFile);
    this.changes.setMaxListeners(0);
    this.runner = new ContainerRunner(this);
    // Before re-adoption: an auto-remove there must see which volumes other containers use.
    opts.volumes?.setUsers((name) => this.volumeUsers(name));
  }

  /** Opens the store and re-adopts containers that kept running while the supervisor was down. */
  static async open(opts: ContainerManagerOptions): Promise<ContainerManager> {
    const m = new ContainerManager(opts);
    await m.runner.readopt();
    m.health.resumeRunning();
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

  save(e: Entry): void {
    this.store.update(e.s);
  }

  publish(topic: string, e: Entry, extra: EventExtra = {}): void {
    publishContainerEvent(this.opts.events, topic, e.s.ctr, extra);
    this.health.onEvent(topic, e);
  }

  /** Runs fn under the container's lock, resolving the reference inside it. */
  private locked<T>(ref: string, fn: (e: Entry) => Promise<T>): Promise<T> {
    const id = this.resolve(ref);
    return this.mutex.run(id, async () => fn(this.entry(id)));
  }

  runtimeOf(e: Entry): OciRuntime {
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
      // Held until the record is in: creates of other ids run meanwhile (the copy-up awaits) and must not
      // pick or be given the same name.
      this.creating.set(name, id);
      try {
        return await this.createNamed(id, name, req);
      } finally {
        this.creating.delete(name);
      }
    });
  }

  private async createNamed(id: string, name: string, req: CreateRequest): Promise<containersV1.Container> {
    checkCreateRequest(req);
    // The network's subnet and who holds what: known to the provider (a start re-checks, under its lock).
    if (req.hostConfig.ipv4Address) this.opts.network.checkAddress?.(req.hostConfig.ipv4Address, req.hostConfig.networkMode);
    // Named volumes are made on first use, anonymous ones for empty sources and image VOLUME paths; the
    // record keeps the resolved names.
    const shared = mountsFrom(req.hostConfig.volumesFrom, req.hostConfig.volumes, (ref) => this.entry(this.resolve(ref)).s.ctr);
    const { mounts, made } = resolveMounts(this.opts.volumes, req.config, [...req.hostConfig.volumes, ...shared]);
    const p = this.layout.paths(id);
    const ctr = newContainerRecord(id, name, req, mounts, p);
    try {
      fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
      writeHostname(p.hostname, ctr.config!.hostname);
      // The spec as it will run (user and network are settled again at start).
      const spec = buildSpec(this.runner.specInputs(ctr, p, { uid: 0, gid: 0, additionalGids: [] }, undefined));
      fs.writeFileSync(p.configCopy, specJson(spec));
      const populated = await populateVolumesAtCreate(this.opts.volumes, ctr, path.join(this.layout.runDir, 'populate', `${id.slice(0, 12)}.${crypto.randomBytes(4).toString('hex')}`));
      const s = { ctr, facts: { ...NO_FACTS, volumesPopulated: populated } };
      this.store.insert(s);
      this.entries.set(id, { s, cleanup: Promise.resolve(), starting: false, holdExits: false, exitPending: false });
    } catch (err) {
      fs.rmSync(p.dir, { recursive: true, force: true });
      for (const n of made) this.opts.volumes?.remove(n, true);
      throw err;
    }
    this.publish('container.create', this.entry(id));
    return structuredClone(ctr);
  }

  /** Ids of the containers (running or not) whose mounts use the volume. */
  volumeUsers(name: string): string[] {
    return volumeUsers(this.entries.values(), name);
  }

  private nameOwner(name: string): string | undefined {
    for (const e of this.entries.values()) if (e.s.ctr.name === name) return e.s.ctr.id;
    return this.creating.get(name);
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
      // Zero (or empty) fields keep the current value.
      if (resources) hc.resources = { ...containersV1.Resources.fromPartial(hc.resources ?? {}), ...Object.fromEntries(Object.entries(resources).filter(([, v]) => (Array.isArray(v) ? v.length > 0 : v !== undefined && v !== 0 && v !== ''))) };
      if (policy) hc.restartPolicy = policy;
      validateConfig(e.s.ctr.config!, hc);
      if (resources && ACTIVE.has(e.s.ctr.state!.status)) {
        try {
          await this.runtimeOf(e).update(e.s.ctr.id, linuxResources(hc.resources));
        } catch (err) {
          throw new UpdateRefusedError(e.s.ctr.id, (err as Error).message);
        }
      }
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
      resetRestarts(e);
      await this.runner.startLocked(e, hooks);
      return structuredClone(e.s.ctr);
    });
  }

  // ---- stop / kill / pause -----------------------------------------------------------------------------

  stop(ref: string, timeoutSec = -1): Promise<containersV1.Container> {
    return this.locked(ref, async (e) => {
      await this.stopLocked(e, timeoutSec);
      this.publish('container.stop', e);
      return structuredClone(e.s.ctr);
    });
  }

  private stopLocked(e: Entry, timeoutSec: number): Promise<void> {
    return stopContainer({ save: (x) => this.save(x), publish: (t, x, extra) => this.publish(t, x, extra),
      runtimeOf: (x) => this.runtimeOf(x), nextExit: (id) => this.runner.nextExit(id) }, e, timeoutSec);
  }

  private signal(e: Entry, runtime: OciRuntime, sig: number, ending = true): Promise<void> {
    return signalContainer(this, e, runtime, sig, ending);
  }

  kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    return this.locked(ref, async (e) => {
      const sig = parseSignal(signal || 'SIGKILL');
      const st = e.s.ctr.state!;
      if (!ACTIVE.has(st.status)) throw new NotRunningError(e.s.ctr.id, st.status);
      // A signal meant to end it counts as a user stop for the restart policy; HUP, USR1 and the like do not.
      const stopSig = parseSignal(e.s.ctr.config!.stopSignal || 'SIGTERM').number;
      const ending = [9, 15, 2, stopSig].includes(sig.number);
      if (ending) {
        e.s.facts.manuallyStopped = true;
        this.save(e);
      }
      this.publish('container.kill', e, { signal: sig.name });
      await this.signal(e, this.runtimeOf(e), sig.number, ending);
    });
  }

  restart(ref: string, timeoutSec = -1): Promise<containersV1.Container> {
    return this.locked(ref, async (e) => {
      if (ACTIVE.has(e.s.ctr.state!.status) || e.s.ctr.state!.status === 'restarting') {
        await this.stopLocked(e, timeoutSec);
        this.publish('container.stop', e);
      }
      resetRestarts(e);
      await this.runner.startLocked(e);
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
      // It may have exited (and that been recorded) while the runtime froze it.
      if (st.status !== 'running') throw new NotRunningError(e.s.ctr.id, st.status);
      st.status = 'paused';
      this.save(e);
      this.publish('container.pause', e);
    });
  }

  resume(ref: string): Promise<void> {
    return this.locked(ref, async (e) => {
      const st = e.s.ctr.state!;
      if (st.status !== 'paused') throw new NotPausedError(e.s.ctr.id);
      // A signal queued while frozen may end it at once: its die event comes after this unpause.
      await this.runner.holdingExits(e, async () => {
        await this.runtimeOf(e).resume(e.s.ctr.id);
        st.status = 'running';
        this.save(e);
        this.publish('container.unpause', e);
      });
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
    if (cond === 'not-running' && !ACTIVE.has(status) && status !== 'restarting' && !e.starting) {
      // Exited before the call: its release may still be running (volume.unmount not yet published).
      await e.cleanup;
      return e.s.ctr.state!.exitCode;
    }
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

  /** `removeVolumes`: also its anonymous volumes, never named ones (docker rm -v). */
  remove(ref: string, force = false, removeVolumes = false): Promise<void> {
    return this.locked(ref, async (e) => {
      const id = e.s.ctr.id;
      const st = e.s.ctr.state!;
      if (ACTIVE.has(st.status)) {
        if (!force) throw new RunningDeleteError(id);
        e.s.facts.manuallyStopped = true;
        const exited = this.runner.nextExit(id);
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
        await this.runner.releaseRuntime(e, this.runtimeOf(e));
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
      if (removeVolumes) removeAnonymousVolumes(this.opts, e.s.ctr);
      this.changes.emit(`removed:${id}`, st.exitCode);
    });
  }

  /** Stops watching and closes the store; containers keep running under their conmon. */
  async close(): Promise<void> {
    this.closed = true;
    await this.health.close();
    this.runner.close();
    for (const e of this.entries.values()) if (e.restartTimer) clearTimeout(e.restartTimer);
    await Promise.all([...this.entries.values()].map((e) => e.cleanup));
    this.store.close();
  }
}
