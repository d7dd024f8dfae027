// Cleanup of what a start set up (runtime container, network, rootfs mount), after an exit, a failed start
// or at Delete. A crun container whose PID 1 exited is deleted in-process (runtime/crun-state.ts) when it can.
import type { Entry, RunnerHost } from './container-types';
import { umountAll } from './runtime/mounts';
import type { OciRuntime } from './runtime/oci-runtime';
import { deleteStoppedCrunContainer } from './runtime/crun-state';
import { sleep } from './runner-common';
import { releaseVolumes } from './volumes/container-volumes';

/**
 * Undoes what start set up: runtime container, network, rootfs mount. Safe to call repeatedly. `exited`:
 * conmon recorded PID 1's exit, so a crun container can be deleted without a crun process.
 */
export async function releaseRuntime(h: RunnerHost, e: Entry, runtime: OciRuntime, exited = false): Promise<void> {
  const id = e.s.ctr.id;
  const p = h.layout.paths(id);
  const facts = e.s.facts;
  // PID 1 is gone, so the three are independent: run them side by side.
  const results = await Promise.allSettled([
    facts.runtimeCreated ? deleteRuntimeContainer(h, id, runtime, exited).then(() => (facts.runtimeCreated = false)) : undefined,
    facts.networkUp ? h.opts.network.teardown(id).then(() => {
      facts.networkUp = false;
      e.s.ctr.sandboxKey = '';
    }) : undefined,
    facts.mounted ? umountAll(p.rootfs).then(() => (facts.mounted = false)) : undefined,
  ]);
  releaseVolumes(h, e);
  if (h.entries.has(id)) h.save(e);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

async function deleteRuntimeContainer(h: RunnerHost, id: string, runtime: OciRuntime, exited: boolean): Promise<void> {
  if (exited && runtime.name === 'crun') {
    try {
      if (deleteStoppedCrunContainer(runtime.root, id)) return;
    } catch (err) {
      h.opts.log?.warn({ id, err: (err as Error).message }, 'in-process delete failed; using the runtime');
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
        h.opts.log?.warn({ id, err: (err as Error).message }, 'forced runtime delete');
        return;
      }
      await sleep(50);
    }
  }
}
