// The types the manager and its helpers share: options, requests, the in-memory entry of a container, and
// RunnerHost (what the runner and its helpers need of the manager). Re-exported by container-manager.ts and
// container-runner.ts, where callers import them from.
import type { EventEmitter } from 'node:events';
import type { containersV1, typesV1 } from '@berth/api';
import type { Logger } from '@berth/service-kit';
import type { EventExtra, EventSink } from './container-events';
import type { KeyedMutex } from './keyed-mutex';
import type { ContainerPaths, Layout } from './layout';
import type { NetworkProvider } from './network/network-provider';
import type { OciRuntime } from './runtime/oci-runtime';
import type { ContainerStore, StoredContainer } from './store/container-store';
import type { Volumes } from './volumes/volume-store';

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
  /**
   * A cgroup name (e.g. "berth-conmon") to move each conmon into, in every v1 hierarchy and the unified one,
   * so stopping the supervisor's cgroup leaves containers running; conmon stays in the supervisor's cgroup
   * when absent.
   */
  conmonCgroup?: string;
  /** Rotate ctr.log past maxSize bytes, keeping maxFiles old ones (checked at each poll); off when absent. */
  logRotation?: { maxSize: number; maxFiles: number };
  /** Named and anonymous volumes; containers can only use binds and tmpfs without it. */
  volumes?: Volumes;
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
  /** A TTY's size from its first moment (the attach that starts it knows the client's terminal). */
  consoleSize?: { rows: number; cols: number } | undefined;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface Entry {
  s: StoredContainer;
  /** Runtime cleanup after the last exit (crun delete, network, umount); start/delete wait for it. */
  cleanup: Promise<void>;
  restartTimer?: NodeJS.Timeout;
  /** Inside start: an exit seen now is handled once start has recorded the run. */
  starting: boolean;
  /** A runtime call is in flight whose event must come first: exits seen now wait for it. */
  holdExits: boolean;
  exitPending: boolean;
}

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
  /** Full id of a container by id, name or unique prefix; throws the manager's not-found/ambiguous errors. */
  resolve(ref: string): string;
  /** `removeVolumes`: also its anonymous volumes (docker rm -v, --rm). */
  remove(ref: string, force?: boolean, removeVolumes?: boolean): Promise<void>;
}
