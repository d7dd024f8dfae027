// A container's volumes around its runs: at start (rootfs mounted, before the runtime create) the new empty
// volumes get the image's content once (copy-up) and volume.mount is published for each; when the run is
// released, volume.unmount. Docker emits the same pair around each run.
import type { containersV1 } from '@berth/api';
import type { Entry, RunnerHost } from '../container-types';
import { mkdirInRoot } from '../oci/in-root';
import { copyUp, isEmptyDir } from './copy-up';
import { InvalidMountError, VolumeInUseError, VolumeNotFoundError } from './errors';

function volumeMounts(e: Entry) {
  return e.s.ctr.hostConfig!.volumes.filter((m) => m.type === 'volume');
}

export async function prepareVolumes(h: Pick<RunnerHost, 'opts' | 'save'>, e: Entry, rootfs: string): Promise<void> {
  const mounts = volumeMounts(e);
  if (!mounts.length) return;
  const vols = h.opts.volumes;
  if (!vols) throw new InvalidMountError('volumes are not available in this supervisor');
  for (const m of mounts) if (!vols.exists(m.source)) throw new VolumeNotFoundError(m.source);
  if (!e.s.facts.volumesPopulated) {
    for (const m of mounts) {
      if (m.noCopy) continue;
      const data = vols.mountpoint(m.source);
      await vols.copyLock.run(m.source, async () => {
        if (isEmptyDir(data)) await copyUp(rootfs, m.destination, data);
      });
    }
    e.s.facts.volumesPopulated = true;
  }
  // Mount points inside the rootfs, links resolved there: a dangling image link gets its directory made in
  // the container's layer instead of failing the runtime's mount.
  for (const m of mounts) mkdirInRoot(rootfs, m.destination);
  for (const m of mounts) vols.publish('volume.mount', m.source, { containerId: e.s.ctr.id, destination: m.destination, readOnly: m.readOnly });
  e.s.facts.volumesMounted = true;
  h.save(e);
}

/** volume.unmount for each volume of a run that published volume.mount. */
export function releaseVolumes(h: Pick<RunnerHost, 'opts'>, e: Entry): void {
  if (!e.s.facts.volumesMounted) return;
  for (const m of volumeMounts(e)) h.opts.volumes?.publish('volume.unmount', m.source, { containerId: e.s.ctr.id });
  e.s.facts.volumesMounted = false;
}

/** docker rm -v and --rm: the container's anonymous volumes go; named ones stay. */
export function removeAnonymousVolumes(opts: RunnerHost['opts'], ctr: containersV1.Container): void {
  for (const m of ctr.hostConfig!.volumes) {
    if (m.type !== 'volume' || !m.anonymous) continue;
    try {
      opts.volumes?.remove(m.source, true);
    } catch (err) {
      // Another container mounts it too (docker run --volumes-from style): it stays, as docker's does.
      if (!(err instanceof VolumeInUseError)) throw err;
      opts.log?.info({ volume: m.source }, 'anonymous volume kept: still in use');
    }
  }
}

/** Ids of the containers (running or not) whose mounts use the volume. */
export function volumeUsers(entries: Iterable<Entry>, name: string): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.s.ctr.hostConfig!.volumes.some((m) => m.type === 'volume' && m.source === name)) out.push(e.s.ctr.id);
  }
  return out;
}
