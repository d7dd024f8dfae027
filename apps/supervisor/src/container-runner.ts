// Running containers: start (mount, network, bundle, conmon + runtime create, runtime start), exits, cleanup
// after an exit, restart policies, and re-adoption of the containers that kept running while the supervisor
// was down. ContainerManager owns the records and the per-container lock; every method here runs under that
// lock or on an exit, as noted. The parts live beside it: container-bundle.ts (spec and bundle files),
// conmon-launch.ts (conmon + runtime create/start), runtime-release.ts (cleanup), exit-watcher.ts (noticing
// exits), exit-handling.ts (recording them, restart policy), readopt.ts (start-up).
import * as fs from 'node:fs';
import type { containersV1 } from '@berth/api';
import { specInputs, writeBundleFiles } from './container-bundle';
import { writeHosts } from './container-files';
import { joinExtraNetworks } from './network-membership';
import type { Entry, RunnerHost, StartHooks } from './container-types';
import { AlreadyRunningError, PausedError, StartFailedError, VolumeSourceMissingError } from './errors';
import { abandonEarly, launch, launchEarly, type EarlyConmon } from './conmon-launch';
import { clearCutStart } from './cut-start';
import { checkExit, handleExit, type ExitContext } from './exit-handling';
import { ExitWatcher } from './exit-watcher';
import type { ContainerPaths } from './layout';
import type { NetworkSetup } from './network/network-provider';
import type { resolveUser } from './oci/user';
import { portRequests } from './port-requests';
import { readopt } from './readopt';
import { mountRootfs } from './runtime/mounts';
import type { OciRuntime } from './runtime/oci-runtime';
import { releaseRuntime } from './runtime-release';
import { mountType } from './volumes/container-mounts';
import { prepareVolumes } from './volumes/container-volumes';

// These lived here; the manager and others import them from this file.
export type { RunnerHost } from './container-types';
export { ACTIVE, sleep, within } from './runner-common';

/** The addresses and bound ports of a network setup, as the container record keeps them. */
function applyNetwork(ctr: containersV1.Container, setup: NetworkSetup): void {
  ctr.networks = setup.attachments.map((a) => ({ ...a }));
  ctr.ports = setup.ports.map((b) => ({ hostIp: b.hostIp ?? '', hostPort: b.hostPort, containerPort: b.containerPort, protocol: b.protocol }));
}

export class ContainerRunner implements ExitContext {
  private readonly watcher: ExitWatcher;

  constructor(readonly h: RunnerHost) {
    this.watcher = new ExitWatcher(h, (id, fromPoll) => checkExit(this, id, fromPoll));
  }

  // ---- start ------------------------------------------------------------------------------------------

  specInputs(ctr: containersV1.Container, p: ContainerPaths, user: ReturnType<typeof resolveUser>, netnsPath: string | undefined) {
    return specInputs(this.h, ctr, p, user, netnsPath);
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
    // Before the old exit files go: a conmon left by a start cut short must not report into this one.
    await clearCutStart(p, this.h.runtimeOf(e), ctr.id);
    for (const f of [p.exitFile, p.persistExit, p.persistOom, p.bundleOom]) fs.rmSync(f, { force: true });
    for (const v of hc.volumes) if (mountType(v) === 'bind' && !fs.existsSync(v.source)) throw new VolumeSourceMissingError(v.source);
    const runtime = this.h.runtimeOf(e);
    const ports = portRequests(ctr.config!, hc);
    e.starting = true;
    e.exitPending = false;
    let early: EarlyConmon | undefined;
    try {
      fs.mkdirSync(p.bundle, { recursive: true, mode: 0o700 });
      // conmon waits on its start pipe until the bundle is ready; launching it now takes its start-up off
      // the path. Should this process die before the start byte, conmon reads
      // EOF and goes on: with no config.json its runtime create fails and nothing runs.
      fs.rmSync(p.bundleConfig, { force: true });
      early = launchEarly(this.h, e, runtime, p);
      const network = hc.networkMode || 'bridge';
      // The rootfs mount and the network are independent: make them side by side (each is a process or two).
      const [mounted, net] = await Promise.allSettled([
        e.s.facts.mounted ? Promise.resolve() : mountRootfs(ctr.rootfs, p.rootfs).then(() => (e.s.facts.mounted = true)),
        this.h.opts.network.setup({
          containerId: ctr.id, name: ctr.name, hostname: ctr.config!.hostname, network, aliases: hc.networkAliases,
          ...(hc.ipv4Address ? { ipv4Address: hc.ipv4Address } : {}),
          ...(hc.macAddress ? { macAddress: hc.macAddress } : {}),
          ports, runtimeNetns: !!this.h.opts.network.connect,
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
      applyNetwork(ctr, setup);
      this.h.save(e);
      // New empty volumes get the image's content while the rootfs is mounted (copy-up).
      await prepareVolumes(this.h, e, p.rootfs);
      writeBundleFiles(this.h, ctr, p, setup, network, hooks);
      const launching = early;
      early = undefined;
      // A bridge joins the namespace the runtime made, between its create and start (PID 1 waits).
      const connect = setup.pendingConnect ? async (pid: number) => {
        const netns = `/proc/${pid}/ns/net`;
        let full = await this.h.opts.network.connect!(ctr.id, netns);
        // The networks `network connect` added, on eth1, eth2...
        full = (await joinExtraNetworks(this.h.opts.network, ctr, netns)) ?? full;
        applyNetwork(ctr, full);
        writeHosts(p.hosts, ctr, full, false);
      } : undefined;
      await launch(this.h, e, runtime, p, hooks, launching, { newNetns: !!setup.newNetns, ...(connect ? { connect } : {}) });
    } catch (err) {
      if (early) abandonEarly(early);
      e.starting = false;
      if (!(err instanceof StartFailedError)) await this.releaseRuntime(e, runtime).catch(() => undefined);
      throw err;
    }
    e.starting = false;
    if (e.exitPending) handleExit(this, ctr.id);
  }

  /**
   * Undoes what start set up: runtime container, network, rootfs mount. Safe to call repeatedly. `exited`:
   * conmon recorded PID 1's exit, so a crun container can be deleted without a crun process.
   */
  releaseRuntime(e: Entry, runtime: OciRuntime, exited = false): Promise<void> {
    return releaseRuntime(this.h, e, runtime, exited);
  }

  // ---- exits ------------------------------------------------------------------------------------------

  /** Runs a runtime call whose event must come before an exit it may cause (resume with a queued signal). */
  async holdingExits<T>(e: Entry, fn: () => Promise<T>): Promise<T> {
    e.holdExits = true;
    try {
      return await fn();
    } finally {
      e.holdExits = false;
      if (e.exitPending && !e.starting) {
        e.exitPending = false;
        handleExit(this, e.s.ctr.id);
      }
    }
  }

  /** The next exit of a running container, as a promise of its code. */
  nextExit(id: string): Promise<number> {
    return new Promise((resolve) => this.h.changes.once(`exit:${id}`, resolve));
  }

  // ---- re-adoption ------------------------------------------------------------------------------------

  readopt(): Promise<void> {
    return readopt(this, this.watcher);
  }

  /** Stops watching exit files; containers keep running under their conmon. */
  close(): void {
    this.watcher.close();
  }
}
