// Where an archive call finds a container's files. A running (or paused) container is walked through
// /proc/<pid>/root: its rootfs with its volumes, binds and tmpfs mounts in place, as it sees them. A created
// or exited one gets its rootfs mounted for the length of the call (a private mount point of its own, under
// the container's lock so a start cannot mount the same overlay meanwhile) and unmounted after, on error too;
// its volumes and binds are served from their host sources, its tmpfs mounts (gone with the run) are not.
// Export reads the rootfs alone (no mounts), so a running container's bundle rootfs is used as it is.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { containersV1 } from '@berth/api';
import type { ContainerManager } from '../container-manager';
import { isMountPoint, mountRootfs, umountAll } from '../runtime/mounts';
import { mountType } from '../volumes/container-mounts';
import { RootfsUnavailableError } from './errors';
import { FdWalker, type ViewMount } from './fd-walk';

export interface ContainerView {
  ctr: containersV1.Container;
  /** The container's root on the host (a mounted rootfs or /proc/<pid>/root). */
  rootPath: string;
  walker: FdWalker;
  /** Running or paused: the walk goes through the container's own mounts. */
  live: boolean;
}

const ACTIVE = new Set(['running', 'paused']);

/** The mounts of a stopped container as host sources by destination (tmpfs left out: gone with its run). */
function stoppedMounts(mgr: ContainerManager, ctr: containersV1.Container): Map<string, ViewMount> {
  const out = new Map<string, ViewMount>();
  const p = mgr.layout.paths(ctr.id);
  // The files the supervisor binds over the image's, as a stopped docker container still shows them.
  for (const [dst, src] of [['/etc/hostname', p.hostname], ['/etc/hosts', p.hosts], ['/etc/resolv.conf', p.resolvConf]] as const) {
    if (fs.existsSync(src)) out.set(dst, { destination: dst, source: src, readOnly: false, file: true });
  }
  for (const m of ctr.hostConfig?.volumes ?? []) {
    const type = mountType(m);
    if (type === 'tmpfs') continue;
    const source = type === 'volume' ? m.volumePath : m.source;
    if (!source) continue;
    let file = false;
    try {
      file = !fs.statSync(source).isDirectory();
    } catch {
      continue;
    }
    out.set(m.destination, { destination: m.destination, source, readOnly: m.readOnly, file });
  }
  return out;
}

function livePid(ctr: containersV1.Container): number {
  const st = ctr.state;
  return st && ACTIVE.has(st.status) && st.pid > 0 ? st.pid : 0;
}

/**
 * Runs `fn` with a view of the container's files. `rootfsOnly`: the rootfs without any mount (export).
 * NOT_FOUND (the manager's) for an unknown container.
 */
export async function withContainerView<T>(mgr: ContainerManager, ref: string, rootfsOnly: boolean, fn: (v: ContainerView) => Promise<T>): Promise<T> {
  const id = mgr.resolve(ref);
  const tryLive = async (): Promise<{ value: T } | undefined> => {
    const ctr = mgr.get(id);
    const pid = livePid(ctr);
    if (!pid) return undefined;
    const rootPath = rootfsOnly ? mgr.layout.paths(id).rootfs : `/proc/${pid}/root`;
    if (rootfsOnly && !isMountPoint(rootPath)) return undefined;
    let walker: FdWalker;
    try {
      walker = new FdWalker(rootPath, ctr.name);
    } catch {
      // It stopped between the look and the open: the stopped path below takes it.
      return undefined;
    }
    // Still the same process after the open: the pid was never free to be reused in between, so the root
    // held open is the container's.
    if (livePid(mgr.get(id)) !== pid) {
      walker.close();
      return undefined;
    }
    try {
      return { value: await fn({ ctr, rootPath, walker, live: true }) };
    } finally {
      walker.close();
    }
  };
  // A running container is not locked: a long copy must not hold up its stop.
  const live = await tryLive();
  if (live) return live.value;
  return mgr.mutex.run(id, async () => {
    const again = await tryLive();
    if (again) return again.value;
    const ctr = mgr.get(id);
    const bundleRootfs = mgr.layout.paths(id).rootfs;
    // Still mounted from its last run (an exit whose cleanup is pending): read it there.
    const reuse = isMountPoint(bundleRootfs);
    const rootPath = reuse ? bundleRootfs : path.join(mgr.layout.runDir, 'archive', `${id.slice(0, 12)}.${crypto.randomBytes(4).toString('hex')}`);
    if (!reuse) {
      if (!ctr.rootfs.length) throw new RootfsUnavailableError(ctr.name, 'it has no rootfs mount recorded');
      try {
        await mountRootfs(ctr.rootfs, rootPath);
      } catch (err) {
        fs.rmSync(rootPath, { recursive: false, force: true });
        throw new RootfsUnavailableError(ctr.name, (err as Error).message);
      }
    }
    let walker: FdWalker | undefined;
    try {
      walker = new FdWalker(rootPath, ctr.name, rootfsOnly ? new Map() : stoppedMounts(mgr, ctr));
      return await fn({ ctr, rootPath, walker, live: false });
    } finally {
      walker?.close();
      if (!reuse) {
        await umountAll(rootPath);
        fs.rmdirSync(rootPath);
      }
    }
  });
}
