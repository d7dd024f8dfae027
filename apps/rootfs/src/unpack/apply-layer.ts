// Writes the entries of one layer tar into a snapshot directory, refusing anything that would land
// outside it. Paths are resolved component by component without trusting the kernel to follow links:
// a symlink inside the layer is followed only while it stays inside (an absolute target means the layer
// root, as in a chroot); a ".." or a link that climbs above the root refuses the whole layer.
// OCI whiteouts become overlay whiteouts (0:0 char devices, trusted.overlay.opaque=y), or for the copy
// snapshotter, deletions. Device nodes, FIFOs and xattrs are made in one batch at the end of the layer.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Header } from 'tar-stream';

type Source = AsyncIterable<unknown>;
import { BadArchiveError, HostileArchiveError } from '../errors';
import { makeNodes, OPAQUE_XATTR, setXattrs, type NodeSpec, type XattrSpec } from '../fs/special-files';
import { lstatOrNull } from '../fs/tree';
import type { WhiteoutMode } from '../snapshots/snapshotter';
import { installBinaryPaxXattrs, XATTR_PAX_PREFIX } from './pax-xattrs';

installBinaryPaxXattrs();

const WH_PREFIX = '.wh.';
const WH_OPAQUE = '.wh..wh..opq';
const MAX_SYMLINKS = 40;

interface PendingNode extends NodeSpec {
  uid: number;
  gid: number;
  mode: number;
  mtime: Date;
  /** Whiteouts keep the owner and mode mknod gives them. */
  whiteout: boolean;
}

/** The entry's path components; refuses absolute names and "..". */
export function cleanName(name: string, what = 'name'): string[] {
  if (name.startsWith('/')) throw new HostileArchiveError(name, `has an absolute ${what}`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new HostileArchiveError(name, `has ".." in its ${what}`);
  return parts;
}

export class LayerApplier {
  private readonly dirTimes: [string, Date][] = [];
  private readonly nodes = new Map<string, PendingNode>();
  private readonly xattrs: XattrSpec[] = [];
  /** Paths this layer wrote (copy mode: what an opaque dir keeps). */
  private readonly written = new Set<string>();
  private readonly dirCache = new Map<string, string>();
  entries = 0;

  constructor(
    private readonly root: string,
    private readonly mode: WhiteoutMode,
  ) {}

  /**
   * The real directory for parent components `parts`, inside the root. Missing directories are made
   * (0755, as containerd does) when `create`; otherwise a missing one returns null.
   */
  private resolveDir(parts: string[], entry: string, create: boolean): string | null {
    const cacheKey = parts.join('/');
    const cached = this.dirCache.get(cacheKey);
    if (cached) return cached;
    const queue = [...parts];
    const cur: string[] = [];
    let links = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (cur.length === 0) throw new HostileArchiveError(entry, 'resolves outside the layer directory through a symlink');
        cur.pop();
        continue;
      }
      const abs = path.join(this.root, ...cur, c);
      const st = lstatOrNull(abs);
      if (!st) {
        if (!create) return null;
        fs.mkdirSync(abs, { mode: 0o755 });
      } else if (st.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw new HostileArchiveError(entry, 'goes through too many symlinks');
        const target = fs.readlinkSync(abs);
        if (target.startsWith('/')) cur.length = 0;
        queue.unshift(...target.split('/'));
        continue;
      } else if (!st.isDirectory()) {
        throw new BadArchiveError(`layer archive refused: entry "${entry}" has a parent "${[...cur, c].join('/')}" that is not a directory`);
      }
      cur.push(c);
    }
    const dir = path.join(this.root, ...cur);
    this.dirCache.set(cacheKey, dir);
    if (this.mode === 'delete') for (let i = 1; i <= cur.length; i++) this.written.add(path.join(this.root, ...cur.slice(0, i)));
    return dir;
  }

  /** Removes whatever is at p (not following links), so an entry can take its place. */
  private clear(p: string, keepDir: boolean): fs.Stats | null {
    const st = lstatOrNull(p);
    if (!st) return null;
    if (keepDir && st.isDirectory()) return st;
    fs.rmSync(p, { recursive: true, force: true });
    // A removed directory or link may be cached as a parent.
    if (st.isDirectory() || st.isSymbolicLink()) this.dirCache.clear();
    return null;
  }

  async entry(header: Header, stream: Source): Promise<void> {
    this.entries++;
    const parts = cleanName(header.name);
    if (parts.length === 0) {
      // The root itself ("./"): its metadata belongs to the parent layers' root.
      await drain(stream);
      return;
    }
    const base = parts[parts.length - 1]!;
    const dir = this.resolveDir(parts.slice(0, -1), header.name, true)!;
    const target = path.join(dir, base);

    if (base.startsWith(WH_PREFIX)) {
      await drain(stream);
      this.whiteout(dir, base, header.name);
      return;
    }
    this.nodes.delete(target);
    if (this.mode === 'delete') this.written.add(target);

    const uid = header.uid ?? 0;
    const gid = header.gid ?? 0;
    const mode = (header.mode ?? 0o644) & 0o7777;
    const mtime = header.mtime ?? new Date(0);
    switch (header.type) {
      case 'directory': {
        if (!this.clear(target, true)) fs.mkdirSync(target, { mode: 0o700 });
        fs.lchownSync(target, uid, gid);
        fs.chmodSync(target, mode);
        this.dirTimes.push([target, mtime]);
        await drain(stream);
        break;
      }
      case 'file':
      case 'contiguous-file': {
        this.clear(target, false);
        // Synchronous calls on purpose: a layer is thousands of small files, and a thread-pool round trip
        // per call costs more than the call. The event loop still turns between entries and chunks.
        const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of stream) writeAll(fd, chunk as Buffer);
          fs.fchownSync(fd, uid, gid);
          fs.fchmodSync(fd, mode);
          fs.futimesSync(fd, mtime, mtime);
        } finally {
          fs.closeSync(fd);
        }
        break;
      }
      case 'symlink': {
        this.clear(target, false);
        fs.symlinkSync(header.linkname, target);
        fs.lchownSync(target, uid, gid);
        fs.lutimesSync(target, mtime, mtime);
        await drain(stream);
        break;
      }
      case 'link': {
        const linkParts = cleanName(header.linkname ?? '', 'hard-link target');
        if (linkParts.length === 0) throw new HostileArchiveError(header.name, 'is a hard link to the layer root');
        const linkDir = this.resolveDir(linkParts.slice(0, -1), header.name, false);
        const source = linkDir && path.join(linkDir, linkParts[linkParts.length - 1]!);
        const st = source ? lstatOrNull(source) : null;
        if (!source || !st) throw new BadArchiveError(`layer archive refused: hard link "${header.name}" points at "${header.linkname}", which this layer does not contain`);
        if (st.isDirectory()) throw new HostileArchiveError(header.name, `is a hard link to the directory "${header.linkname}"`);
        if (source !== target) {
          this.clear(target, false);
          fs.linkSync(source, target);
        }
        await drain(stream);
        break;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        this.clear(target, false);
        const kind = header.type === 'fifo' ? 'p' : header.type === 'block-device' ? 'b' : 'c';
        this.nodes.set(target, { path: target, kind, major: header.devmajor ?? 0, minor: header.devminor ?? 0, uid, gid, mode, mtime, whiteout: false });
        await drain(stream);
        break;
      }
      default:
        throw new BadArchiveError(`layer archive refused: entry "${header.name}" has the unsupported type "${String(header.type)}"`);
    }
    this.collectXattrs(target, header);
  }

  private collectXattrs(target: string, header: Header): void {
    const pax = header.pax as Record<string, string> | null | undefined;
    if (!pax) return;
    for (const [k, v] of Object.entries(pax)) {
      // Values are byte strings (see pax-xattrs.ts).
      if (k.startsWith(XATTR_PAX_PREFIX)) this.xattrs.push({ path: target, name: k.slice(XATTR_PAX_PREFIX.length), value: Buffer.from(v, 'latin1') });
    }
  }

  private whiteout(dir: string, base: string, entry: string): void {
    if (base === WH_OPAQUE) {
      if (this.mode === 'overlay') this.xattrs.push({ path: dir, name: OPAQUE_XATTR, value: Buffer.from('y') });
      else this.removeUnwritten(dir);
      return;
    }
    const name = base.slice(WH_PREFIX.length);
    if (!name || name === '.' || name === '..' || name.startsWith(WH_PREFIX)) {
      // Other .wh..wh. names are aufs bookkeeping, meaningless here.
      if (name.startsWith(WH_PREFIX)) return;
      throw new HostileArchiveError(entry, 'is a whiteout with an invalid name');
    }
    const target = path.join(dir, name);
    this.clear(target, false);
    if (this.mode === 'overlay') {
      this.nodes.set(target, { path: target, kind: 'c', major: 0, minor: 0, uid: 0, gid: 0, mode: 0, mtime: new Date(0), whiteout: true });
    }
  }

  /** Copy mode's opaque dir: everything below dir that this layer did not write goes. */
  private removeUnwritten(dir: string): void {
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      if (!this.written.has(p)) this.clear(p, false);
      else if (lstatOrNull(p)?.isDirectory()) this.removeUnwritten(p);
    }
  }

  /** A path made or changed in a batch must still have no symlink between it and the root. */
  private assertInside(p: string): void {
    const rel = path.relative(this.root, p);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new HostileArchiveError(p, 'lies outside the layer directory');
    let cur = this.root;
    for (const c of rel.split(path.sep).slice(0, -1)) {
      cur = path.join(cur, c);
      const st = lstatOrNull(cur);
      if (!st?.isDirectory()) throw new HostileArchiveError(rel, `has a parent "${path.relative(this.root, cur)}" that is no longer a directory`);
    }
  }

  /** Makes the batched special files and xattrs, then gives directories their recorded times. */
  async finish(): Promise<void> {
    const nodes = [...this.nodes.values()];
    for (const n of nodes) this.assertInside(n.path);
    await makeNodes(nodes);
    for (const n of nodes) {
      if (n.whiteout) continue;
      fs.lchownSync(n.path, n.uid, n.gid);
      fs.chmodSync(n.path, n.mode);
      fs.lutimesSync(n.path, n.mtime, n.mtime);
    }
    const xattrs = this.xattrs.filter((x) => lstatOrNull(x.path));
    for (const x of xattrs) this.assertInside(x.path);
    await setXattrs(xattrs);
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const [p, t] = this.dirTimes[i]!;
      if (lstatOrNull(p)?.isDirectory()) fs.lutimesSync(p, t, t);
    }
  }
}

function writeAll(fd: number, b: Buffer): void {
  for (let off = 0; off < b.length; ) off += fs.writeSync(fd, b, off);
}

async function drain(stream: Source): Promise<void> {
  for await (const _ of stream) {
    // Entries other than files carry no data; read whatever is there.
  }
}
