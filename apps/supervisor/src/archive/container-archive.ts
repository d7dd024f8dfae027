// Copying files in and out of containers and exporting them, the supervisor's side of docker's container
// archive API, with nothing run inside the container. Usable in-process; archive-grpc.ts is its adapter.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { archiveV1, containersV1 } from '@berth/api';
import type { ContainerManager } from '../container-manager';
import { resolveUser } from '../oci/user';
import { mountType } from '../volumes/container-mounts';
import { withContainerView, type ContainerView } from './container-view';
import { NotADirectoryError, PathNotFoundError, ReadOnlyRootfsError, ReadOnlyVolumeError } from './errors';
import type { Resolved } from './fd-walk';
import { extractInto } from './tar-in';
import { streamTar } from './tar-out';

export type PathStat = archiveV1.PathStat;

export interface PutOptions {
  /** Keep the tar's uid/gid (docker cp -a). */
  copyUidGid?: boolean;
  noOverwriteDirNonDir?: boolean;
}

function cleanPath(p: string): string {
  return path.posix.normalize('/' + p);
}

/** The name docker gives a path: its last element as asked ("." for "dir/.", "/" for the root). */
function askedName(p: string): string {
  const parts = p.split('/').filter(Boolean);
  return parts.length ? parts[parts.length - 1]! : '/';
}

function statOf(name: string, r: Resolved, st: fs.Stats): PathStat {
  const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
  return {
    name,
    size: st.size,
    mode: st.mode & 0o7777,
    mtime: Math.floor(st.mtimeMs / 1000),
    linkTarget: st.isSymbolicLink() ? fs.readlinkSync(r.host) : '',
    kind,
    // For a link, statPath asks where it leads.
    isDir: st.isDirectory(),
    uid: st.uid,
    gid: st.gid,
  };
}

export class ContainerArchive {
  constructor(private readonly mgr: ContainerManager) {}

  /** Resolves `p`; NOT_FOUND naming it when missing. A link at the end is described, not followed. */
  private locate(v: ContainerView, asked: string, follow: boolean): { r: Resolved; st: fs.Stats } {
    const p = cleanPath(asked);
    const asserted = /\/\.?$/.test(asked) && p !== '/';
    // A path asserting a directory follows a link at its end, as the kernel would.
    const r = v.walker.resolve(p, follow || asserted);
    if (!r.exists) throw new PathNotFoundError(p, v.ctr.name);
    // No name: the path is a directory held open, reached through its /proc/self/fd link.
    const st = r.name ? fs.lstatSync(r.host) : fs.statSync(r.host);
    // "file/" or "file/.": the path asserts a directory, as docker checks.
    if (asserted && !st.isDirectory()) throw new NotADirectoryError(r.cpath);
    return { r, st };
  }

  /** docker's HEAD archive: what `p` is. A link is described as a link, with is_dir telling where it leads. */
  statPath(ref: string, p: string): Promise<PathStat> {
    return withContainerView(this.mgr, ref, false, async (v) => {
      const { r, st } = this.locate(v, p, false);
      const out = statOf(askedName(p), r, st);
      if (st.isSymbolicLink()) {
        try {
          const t = v.walker.resolve(cleanPath(p), true);
          out.isDir = t.exists && fs.lstatSync(t.host).isDirectory();
        } catch {
          out.isDir = false;
        }
      }
      return out;
    });
  }

  /**
   * docker's GET archive: `onStat` with what the path is, then the tar's chunks. Entries are named from the
   * path's last element (a trailing "/." names them from the directory).
   */
  getArchive(ref: string, p: string, follow: boolean, onStat: (s: PathStat) => Promise<void>, onChunk: (b: Buffer) => Promise<void>): Promise<number> {
    return withContainerView(this.mgr, ref, false, async (v) => {
      const clean = cleanPath(p);
      const { r, st } = this.locate(v, p, follow);
      await onStat(statOf(askedName(p), r, st));
      const top = clean === '/' ? '.' : path.posix.basename(clean);
      const n = await streamTar(v.walker, r.dir, r.name, r.host, top, onChunk);
      this.mgr.publishFor(v.ctr.id, 'container.archive-path', { attributes: { path: p } });
      return n;
    });
  }

  /** docker's PUT archive: extracts the tar from `chunks` into the directory `p`. */
  putArchive(ref: string, p: string, o: PutOptions, chunks: AsyncIterable<Buffer>): Promise<number> {
    return withContainerView(this.mgr, ref, false, async (v) => {
      const { r, st } = this.locate(v, p, true);
      if (!st.isDirectory()) throw new NotADirectoryError(p);
      this.checkWritable(v.ctr, r.cpath);
      const target = r.name ? v.walker.childDir(r.dir, r.name) : r.dir;
      if (!target) throw new NotADirectoryError(p);
      const owner = o.copyUidGid ? undefined : this.ownerOf(v);
      try {
        const n = await extractInto(v.walker, target, chunks, { noOverwriteDirNonDir: !!o.noOverwriteDirNonDir, ...(owner ? { owner } : {}) });
        this.mgr.publishFor(v.ctr.id, 'container.extract-to-dir', { attributes: { path: p } });
        return n;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EROFS') throw new ReadOnlyRootfsError();
        throw err;
      }
    });
  }

  /** docker export: the rootfs (no volume, bind or tmpfs content) as a tar. */
  export(ref: string, onChunk: (b: Buffer) => Promise<void>): Promise<number> {
    return withContainerView(this.mgr, ref, true, async (v) => {
      const n = await streamTar(v.walker, v.walker.root, '', `/proc/self/fd/${v.walker.root.fd}`, '.', onChunk);
      this.mgr.publishFor(v.ctr.id, 'container.export');
      return n;
    });
  }

  /** Refuses writes under a read-only mount, or in a read-only rootfs outside any mount (docker's messages). */
  private checkWritable(ctr: containersV1.Container, cpath: string): void {
    const under = (dst: string) => cpath === dst || cpath.startsWith(dst + '/');
    const mounts = (ctr.hostConfig?.volumes ?? []).filter((m) => under(m.destination)).sort((a, b) => b.destination.length - a.destination.length);
    const m = mounts[0];
    if (m) {
      if (m.readOnly || (mountType(m) === 'tmpfs' && m.tmpfsOptions.includes('ro'))) throw new ReadOnlyVolumeError(m.destination);
      return;
    }
    if (ctr.hostConfig?.readOnly) throw new ReadOnlyRootfsError();
  }

  /** The container's user and primary group (root when it names none), as files copied in get them. */
  private ownerOf(v: ContainerView): { uid: number; gid: number } {
    const user = v.ctr.config?.user ?? '';
    if (!user) return { uid: 0, gid: 0 };
    try {
      const u = resolveUser(user, v.rootPath);
      return { uid: u.uid, gid: u.gid };
    } catch {
      const [uid, gid] = user.split(':');
      return { uid: /^\d+$/.test(uid ?? '') ? Number(uid) : 0, gid: /^\d+$/.test(gid ?? '') ? Number(gid) : 0 };
    }
  }
}
