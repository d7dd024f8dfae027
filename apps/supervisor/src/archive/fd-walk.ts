// Paths inside a container reached through open directory descriptors, openat-style: every step opens one
// name inside a directory already held open (as /proc/self/fd/<fd>/<name>, which the kernel looks up in that
// very directory) with O_NOFOLLOW, and links are read and resolved here, inside the container's root (an
// absolute target starts again at the root, ".." stops there). A container that swaps a directory for a link
// between two steps makes the step fail; it can never make one reach a host file. Volumes and binds of a
// container that is not running are served from their host source (`mounts`); a running container is walked
// through /proc/<pid>/root, where its own mounts are in place.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidPathError, LinkLoopError, NotADirectoryError, PathNotFoundError } from './errors';

/** open(2)'s O_PATH (Linux): a handle to walk from, no read or write access. */
export const O_PATH = 0o10000000;
const { O_NOFOLLOW, O_DIRECTORY, O_RDONLY, O_NONBLOCK } = fs.constants;
const MAX_LINKS = 40;

/** The host path of `name` inside the directory held by `fd` (or of that directory). */
export function at(fd: number, name = ''): string {
  return name ? `/proc/self/fd/${fd}/${name}` : `/proc/self/fd/${fd}`;
}

/** A directory held open and its path inside the container. */
export interface DirFrame {
  fd: number;
  cpath: string;
}

/** A mount of a container that is not running, served from its host source. */
export interface ViewMount {
  destination: string;
  source: string;
  readOnly: boolean;
  /** A file bind (/etc/hosts...), else a directory. */
  file: boolean;
}

export interface Resolved {
  /** The directory holding the leaf; the leaf itself when `name` is empty (the root, a mount point). */
  dir: DirFrame;
  name: string;
  /** The resolved path inside the container. */
  cpath: string;
  /** A host path reaching the leaf that does not follow a link at it. */
  host: string;
  exists: boolean;
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

export class FdWalker {
  private readonly opened = new Set<number>();
  readonly root: DirFrame;

  /**
   * `rootPath`: the container's root on the host (a mounted rootfs or /proc/<pid>/root). `container`: its
   * name, for the not-found message.
   */
  constructor(
    rootPath: string,
    readonly container: string,
    private readonly mounts: ReadonlyMap<string, ViewMount> = new Map(),
  ) {
    this.root = { fd: this.open(rootPath, O_PATH | O_DIRECTORY), cpath: '/' };
  }

  /** Opens a host path and keeps the descriptor until release or close. */
  open(p: string, flags: number, mode?: number): number {
    const fd = fs.openSync(p, flags | O_NONBLOCK, mode);
    this.opened.add(fd);
    return fd;
  }

  release(fd: number): void {
    if (fd === this.root.fd || !this.opened.delete(fd)) return;
    fs.closeSync(fd);
  }

  close(): void {
    for (const fd of this.opened) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
    this.opened.clear();
  }

  private leadsToMount(cpath: string): boolean {
    for (const d of this.mounts.keys()) if (d.startsWith(cpath + '/')) return true;
    return false;
  }

  /** The mount at exactly this container path, if any. */
  mountAt(cpath: string): ViewMount | undefined {
    return this.mounts.get(cpath);
  }

  /**
   * The child directory `name` of `dir` (a mount's source when it is a mount point), opened without
   * following a link; `flags` O_PATH to walk, O_RDONLY to change it. undefined when it is not a directory.
   */
  childDir(dir: DirFrame, name: string, flags = O_PATH): DirFrame | undefined {
    const cpath = path.posix.join(dir.cpath, name);
    const m = this.mounts.get(cpath);
    try {
      if (m) return m.file ? undefined : { fd: this.open(m.source, flags | O_DIRECTORY), cpath };
      return { fd: this.open(at(dir.fd, name), flags | O_DIRECTORY | O_NOFOLLOW), cpath };
    } catch (err) {
      if (['ENOTDIR', 'ELOOP', 'ENOENT'].includes(code(err) ?? '')) return undefined;
      throw err;
    }
  }

  /** A host path for the child `name` of `dir` that does not follow a link at it (a file mount's source). */
  childPath(dir: DirFrame, name: string): string {
    const m = this.mounts.get(path.posix.join(dir.cpath, name));
    return m?.file ? m.source : at(dir.fd, name);
  }

  /** Reopens a frame's directory with other flags (O_RDONLY to change its mode or owner). */
  reopen(dir: DirFrame, flags: number): number {
    return this.open(at(dir.fd), flags | O_DIRECTORY);
  }

  /**
   * Resolves `p` inside the container. Every part but the last must exist (NOT_FOUND naming `p`); the
   * last may be missing (`exists` false). `followLast`: a link at the last part is followed too.
   */
  resolve(p: string, followLast: boolean): Resolved {
    if (p.includes('\0')) throw new InvalidPathError(p, 'it holds a NUL byte');
    const todo = p.split('/').filter((c) => c && c !== '.');
    const stack: DirFrame[] = [this.root];
    let links = 0;
    const top = () => stack[stack.length - 1]!;
    while (todo.length) {
      const c = todo.shift()!;
      if (c === '..') {
        if (stack.length > 1) this.release(stack.pop()!.fd);
        continue;
      }
      const last = todo.length === 0;
      const dir = top();
      const cpath = path.posix.join(dir.cpath, c);
      const m = this.mounts.get(cpath);
      if (m) {
        if (m.file) {
          if (!last) throw new NotADirectoryError(cpath);
          return { dir, name: c, cpath, host: m.source, exists: fs.existsSync(m.source) };
        }
        stack.push({ fd: this.open(m.source, O_PATH | O_DIRECTORY), cpath });
        continue;
      }
      let st: fs.Stats;
      try {
        st = fs.lstatSync(at(dir.fd, c));
      } catch (err) {
        if (code(err) === 'ENAMETOOLONG') throw new InvalidPathError(p, 'a name in it is too long');
        if (code(err) !== 'ENOENT') throw err;
        if (this.leadsToMount(cpath)) {
          // A mount point's parent the runtime makes at start (as docker makes mount points for a copy).
          fs.mkdirSync(at(dir.fd, c), 0o755);
          todo.unshift(c);
          continue;
        }
        if (last) return { dir, name: c, cpath, host: at(dir.fd, c), exists: false };
        throw new PathNotFoundError(p, this.container);
      }
      if (st.isSymbolicLink() && (!last || followLast)) {
        if (++links > MAX_LINKS) throw new LinkLoopError(p);
        const target = fs.readlinkSync(at(dir.fd, c));
        if (target.startsWith('/')) while (stack.length > 1) this.release(stack.pop()!.fd);
        todo.unshift(...target.split('/').filter((x) => x && x !== '.'));
        // A link to "/" (or ".." back to the root) at the end: the leaf is the directory itself.
        continue;
      }
      if (last) return { dir, name: c, cpath, host: at(dir.fd, c), exists: true };
      if (!st.isDirectory()) throw new NotADirectoryError(cpath);
      const child = this.childDir(dir, c);
      if (!child) throw new PathNotFoundError(p, this.container);
      stack.push(child);
    }
    // The path is the root, a mount point, or a link that led to one of them.
    const d = top();
    return { dir: d, name: '', cpath: d.cpath, host: at(d.fd), exists: true };
  }
}
