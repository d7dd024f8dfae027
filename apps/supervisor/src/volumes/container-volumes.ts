// A container's volumes: at Create its new empty volumes get the image's content once (copy-up, on a private
// mount of its rootfs); at each start volume.mount is published for each, and volume.unmount when the run
// is released. Docker emits the same pair around each run.
import * as fs from 'node:fs';
import type { containersV1 } from '@berth/api';
import type { Entry, RunnerHost } from '../container-types';
import { mkdirInRoot } from '../oci/in-root';
import { mountRootfs, umountAll } from '../runtime/mounts';
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
  // Containers created before copy-up moved to Create get it at their first start.
  if (!e.s.facts.volumesPopulated) {
    await copyUpAll(vols, mounts, rootfs);
    e.s.facts.volumesPopulated = true;
  }
  // Mount points inside the rootfs, links resolved there: a dangling image link gets its directory made in
  // the container's layer instead of failing the runtime's mount.
  for (const m of mounts) mkdirInRoot(rootfs, m.destination);
  for (const m of mounts) vols.publish('volume.mount', m.source, { containerId: e.s.ctr.id, destination: m.destination, readOnly: m.readOnly });
  e.s.facts.volumesMounted = true;
  h.save(e);
}

/** Each empty volume (unless nocopy) gets what the image has at its destination in `rootfs`. */
async function copyUpAll(vols: NonNullable<RunnerHost['opts']['volumes']>, mounts: containersV1.VolumeMount[], rootfs: string): Promise<void> {
  for (const m of mounts) {
    if (m.noCopy) continue;
    const data = vols.mountpoint(m.source);
    await vols.copyLock.run(m.source, async () => {
      if (isEmptyDir(data)) await copyUp(rootfs, m.destination, data);
    });
  }
}

/**
 * docker fills a container's new volumes from the image at create (so --volumes-from and the volume itself
 * show the content before any start): the rootfs is mounted on a private mount point for the copy. Returns
 * whether anything needed it; nothing stays mounted, also on failure.
 */
export async function populateVolumesAtCreate(vols: RunnerHost['opts']['volumes'], ctr: containersV1.Container, mountPoint: string): Promise<boolean> {
  const mounts = ctr.hostConfig!.volumes.filter((m) => m.type === 'volume' && !m.noCopy);
  if (!vols || !mounts.length || !ctr.rootfs.length) return false;
  if (!mounts.some((m) => isEmptyDir(vols.mountpoint(m.source)))) return true;
  fs.mkdirSync(mountPoint, { recursive: true, mode: 0o700 });
  try {
    await mountRootfs(ctr.rootfs, mountPoint);
    try {
      await copyUpAll(vols, mounts, mountPoint);
    } finally {
      await umountAll(mountPoint);
    }
  } finally {
    // rmdir, never a recursive remove: should the umount have failed, the rootfs must not be emptied.
    try {
      fs.rmdirSync(mountPoint);
    } catch {
      // still mounted or already gone: left for the operator, as umountAll has already said why
    }
  }
  return true;
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
