// Extracting a tar into a directory of a container, in two steps. First the whole tar goes into a staging
// directory made beside the target's contents (`.berth-cp-<random>` inside the target, so the moves below
// are renames on one filesystem): names are checked (no absolute name, no "..", no write through a link an
// earlier entry made), every step is openat-style (fd-walk.ts) and the staging directory is removed when the
// tar is bad, so a failed extraction leaves nothing. Then the staged entries are moved in: a directory that
// exists on both sides is merged, anything else replaces what was there (rename, one entry at a time).
// What the move step cannot undo: an error there (a disk full while copying across filesystems) leaves the
// entries moved so far in place; the staging directory is removed all the same.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { BerthError } from '@berth/service-kit';
import { BadTarError, EntryEscapeError, OverwriteKindError, UnsupportedEntryError } from './errors';
import { at, O_PATH, type DirFrame, type FdWalker } from './fd-walk';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = fs.constants;

export interface ExtractOptions {
  /** Owner of every extracted entry; absent: the tar's uid/gid (docker cp -a). */
  owner?: { uid: number; gid: number };
  /** Refuse replacing a directory with a non-directory or the reverse. */
  noOverwriteDirNonDir: boolean;
}

/** An entry's name as parts; refuses absolute names and "..". */
export function entryParts(name: string): string[] {
  if (name.startsWith('/')) throw new EntryEscapeError(name, 'has an absolute name');
  const parts = name.split('/').filter((c) => c && c !== '.');
  if (parts.includes('..')) throw new EntryEscapeError(name, 'climbs out of the target with ".."');
  return parts;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Removes `name` in `parent` and everything below, never following a link. */
export function removeTree(w: FdWalker, parent: DirFrame, name: string): void {
  const host = at(parent.fd, name);
  const st = lstatOrUndefined(host);
  if (!st) return;
  if (!st.isDirectory()) return fs.unlinkSync(host);
  const fd = w.open(host, O_PATH | O_DIRECTORY | O_NOFOLLOW);
  try {
    const frame = { fd, cpath: path.posix.join(parent.cpath, name) };
    for (const child of fs.readdirSync(at(fd))) removeTree(w, frame, child);
  } finally {
    w.release(fd);
  }
  fs.rmdirSync(host);
}

/** Sets owner, mode and times of a directory (`name` in `parent`), opened without following a link. */
function setDirMeta(w: FdWalker, parent: DirFrame, name: string, uid: number, gid: number, mode: number, mtime?: Date): void {
  const fd = w.open(name ? at(parent.fd, name) : at(parent.fd), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  try {
    fs.fchownSync(fd, uid, gid);
    fs.fchmodSync(fd, mode);
    if (mtime) fs.futimesSync(fd, mtime, mtime);
  } finally {
    w.release(fd);
  }
}

class Stager {
  entries = 0;
  private readonly dirTimes: { parts: string[]; mtime: Date }[] = [];

  constructor(
    private readonly w: FdWalker,
    private readonly staging: DirFrame,
    private readonly o: ExtractOptions,
  ) {}

  private owner(h: Pick<tar.Header, 'uid' | 'gid'> | undefined): { uid: number; gid: number } {
    return this.o.owner ?? { uid: h?.uid ?? 0, gid: h?.gid ?? 0 };
  }

  /** Opens (making when `make`) the directories `parts` below the staging directory; the caller releases. */
  private parentOf(parts: string[], entry: string, make: boolean, h?: tar.Header): DirFrame {
    let cur = this.staging;
    for (const c of parts) {
      const host = at(cur.fd, c);
      let st = lstatOrUndefined(host);
      if (!st && make) {
        fs.mkdirSync(host, 0o755);
        const o = this.owner(h);
        fs.lchownSync(host, o.uid, o.gid);
        st = fs.lstatSync(host);
      }
      if (!st) throw new BadTarError(`"${entry}" links to "${parts.join('/')}", which the archive does not hold`);
      if (st.isSymbolicLink()) throw new EntryEscapeError(entry, `would be written through the link "${path.posix.join(cur.cpath.slice(this.staging.cpath.length), c).replace(/^\//, '')}"`);
      if (!st.isDirectory()) throw new BadTarError(`"${entry}": a part of its path is not a directory`);
      const next = { fd: this.w.open(host, O_PATH | O_DIRECTORY | O_NOFOLLOW), cpath: path.posix.join(cur.cpath, c) };
      if (cur !== this.staging) this.w.release(cur.fd);
      cur = next;
    }
    return cur;
  }

  async add(h: tar.Header, stream: Readable): Promise<void> {
    // tar-stream 3 folds PAX headers into the entry they describe; a reader that passes them on would not.
    const kind: string = h.type;
    if (kind === 'pax-global-header' || kind === 'pax-header') return drain(stream);
    const parts = entryParts(h.name);
    if (!parts.length) return drain(stream); // "./": the target itself
    const leaf = parts[parts.length - 1]!;
    const parent = this.parentOf(parts.slice(0, -1), h.name, true, h);
    try {
      const host = at(parent.fd, leaf);
      const existing = lstatOrUndefined(host);
      const { uid, gid } = this.owner(h);
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.mtime ?? new Date();
      if (existing && !(existing.isDirectory() && h.type === 'directory')) removeTree(this.w, parent, leaf);
      switch (h.type) {
        case 'directory':
          if (!existing?.isDirectory()) fs.mkdirSync(host, 0o700);
          setDirMeta(this.w, parent, leaf, uid, gid, mode);
          this.dirTimes.push({ parts, mtime });
          await drain(stream);
          break;
        case 'file':
        case 'contiguous-file':
        case undefined:
        case null: {
          const fd = this.w.open(host, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
          try {
            for await (const chunk of stream as AsyncIterable<Buffer>) {
              let off = 0;
              while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
            }
            fs.fchownSync(fd, uid, gid);
            fs.fchmodSync(fd, mode);
            fs.futimesSync(fd, mtime, mtime);
          } finally {
            this.w.release(fd);
          }
          break;
        }
        case 'symlink':
          fs.symlinkSync(h.linkname ?? '', host);
          fs.lchownSync(host, uid, gid);
          fs.lutimesSync(host, mtime, mtime);
          await drain(stream);
          break;
        case 'link': {
          // A hard link must name an entry of this archive (entry names' rules), never a file outside it.
          const tparts = entryParts(h.linkname ?? '');
          if (!tparts.length) throw new EntryEscapeError(h.name, 'is a hard link to the target directory');
          const tparent = this.parentOf(tparts.slice(0, -1), h.name, false);
          try {
            const tleaf = at(tparent.fd, tparts[tparts.length - 1]!);
            const tst = lstatOrUndefined(tleaf);
            if (!tst || tst.isDirectory()) throw new BadTarError(`hard link "${h.name}" names "${h.linkname}", which is not a file of the archive`);
            fs.linkSync(tleaf, host);
          } finally {
            if (tparent !== this.staging) this.w.release(tparent.fd);
          }
          await drain(stream);
          break;
        }
        default:
          throw new UnsupportedEntryError(h.name, h.type);
      }
      this.entries++;
    } finally {
      if (parent !== this.staging) this.w.release(parent.fd);
    }
  }

  /** Directory times last: writing into a directory changes its mtime. */
  finishTimes(): void {
    for (const d of this.dirTimes.sort((a, b) => b.parts.length - a.parts.length)) {
      const parent = this.parentOf(d.parts.slice(0, -1), d.parts.join('/'), false);
      try {
        const fd = this.w.open(at(parent.fd, d.parts[d.parts.length - 1]!), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        fs.futimesSync(fd, d.mtime, d.mtime);
        this.w.release(fd);
      } finally {
        if (parent !== this.staging) this.w.release(parent.fd);
      }
    }
  }
}

function drain(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
    stream.resume();
  });
}

/** Reads the tar from `chunks` into the stager; bad tars become BadTarError. */
async function readTar(chunks: AsyncIterable<Buffer>, stager: Stager): Promise<void> {
  const ex = tar.extract();
  const finished = new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  finished.catch(() => undefined);
  ex.on('entry', (h, source, next) => {
    const stream = source as unknown as Readable;
    // Through a promise so that a refusal thrown before add's first await also ends the extract (thrown
    // out of this handler it would be an unhandled 'error' of the tar stream, and end the process).
    Promise.resolve().then(() => stager.add(h, stream)).then(
      () => next(),
      (err: Error) => {
        // Destroying the extract destroys this entry's stream with the error too: it must have a listener.
        stream.on('error', () => undefined);
        stream.resume();
        ex.destroy(err);
      },
    );
  });
  try {
    for await (const c of chunks) {
      if (!ex.write(c)) await Promise.race([new Promise<void>((r) => ex.once('drain', () => r())), finished]);
    }
    ex.end(undefined);
    await finished;
  } catch (err) {
    ex.destroy(err as Error);
    if (err instanceof BerthError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code && e.syscall) throw err; // the filesystem's, not the archive's
    throw new BadTarError(e.message);
  }
}

/** Checks no_overwrite_dir_non_dir over the whole staged tree before anything moves. */
function precheck(w: FdWalker, src: DirFrame, dst: DirFrame): void {
  for (const name of fs.readdirSync(at(src.fd))) {
    const s = fs.lstatSync(at(src.fd, name));
    const d = lstatOrUndefined(w.childPath(dst, name));
    if (!d) continue;
    if (s.isDirectory() !== d.isDirectory()) throw new OverwriteKindError(path.posix.join(dst.cpath, name), s.isDirectory());
    if (!s.isDirectory()) continue;
    const ss = w.childDir(src, name);
    const dd = w.childDir(dst, name);
    try {
      if (ss && dd) precheck(w, ss, dd);
    } finally {
      if (ss) w.release(ss.fd);
      if (dd) w.release(dd.fd);
    }
  }
}

/** Copies `name` of `src` to `dst` (across filesystems, where a rename cannot go), links as links. */
function copyTree(w: FdWalker, src: DirFrame, dst: DirFrame, name: string): void {
  const s = fs.lstatSync(at(src.fd, name));
  const target = w.childPath(dst, name);
  if (s.isDirectory()) {
    if (!lstatOrUndefined(target)?.isDirectory()) fs.mkdirSync(target, 0o700);
    const ss = w.childDir(src, name)!;
    const dd = w.childDir(dst, name)!;
    try {
      for (const c of fs.readdirSync(at(ss.fd))) copyTree(w, ss, dd, c);
    } finally {
      w.release(ss.fd);
      w.release(dd.fd);
    }
    setDirMeta(w, dst, name, s.uid, s.gid, s.mode & 0o7777, s.mtime);
    return;
  }
  const m = w.mountAt(path.posix.join(dst.cpath, name));
  if (!m && lstatOrUndefined(target)) removeTree(w, dst, name);
  if (s.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(at(src.fd, name)), target);
    fs.lchownSync(target, s.uid, s.gid);
    fs.lutimesSync(target, s.mtime, s.mtime);
    return;
  }
  const from = w.open(at(src.fd, name), O_RDONLY | O_NOFOLLOW);
  // A file mount (a bind of one file): its content is replaced in place.
  const to = w.open(target, m ? O_WRONLY | fs.constants.O_TRUNC : O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (let n; (n = fs.readSync(from, buf, 0, buf.length, null)) > 0; ) {
      let off = 0;
      while (off < n) off += fs.writeSync(to, buf, off, n - off);
    }
    if (!m) {
      fs.fchownSync(to, s.uid, s.gid);
      fs.fchmodSync(to, s.mode & 0o7777);
      fs.futimesSync(to, s.mtime, s.mtime);
    }
  } finally {
    w.release(from);
    w.release(to);
  }
}

/** Moves the staged entries of `src` into `dst`: directories merged, the rest replacing what was there. */
function merge(w: FdWalker, src: DirFrame, dst: DirFrame): void {
  for (const name of fs.readdirSync(at(src.fd))) {
    const s = fs.lstatSync(at(src.fd, name));
    const m = w.mountAt(path.posix.join(dst.cpath, name));
    const d = lstatOrUndefined(w.childPath(dst, name));
    if (s.isDirectory() && d?.isDirectory()) {
      const ss = w.childDir(src, name)!;
      const dd = w.childDir(dst, name)!;
      try {
        merge(w, ss, dd);
      } finally {
        w.release(ss.fd);
        w.release(dd.fd);
      }
      if (!m) setDirMeta(w, dst, name, s.uid, s.gid, s.mode & 0o7777, s.mtime);
      fs.rmdirSync(at(src.fd, name));
      continue;
    }
    if (m) {
      // A mount point takes content, never a rename over it.
      copyTree(w, src, dst, name);
      removeTree(w, src, name);
      continue;
    }
    if (d?.isDirectory()) removeTree(w, dst, name);
    try {
      fs.renameSync(at(src.fd, name), at(dst.fd, name));
    } catch (err) {
      if (errno(err) !== 'EXDEV') throw err;
      copyTree(w, src, dst, name);
      removeTree(w, src, name);
    }
  }
}

/**
 * Extracts the tar read from `chunks` into the directory `target`. Returns the number of entries.
 */
export async function extractInto(w: FdWalker, target: DirFrame, chunks: AsyncIterable<Buffer>, o: ExtractOptions): Promise<number> {
  const stagingName = `.berth-cp-${crypto.randomBytes(6).toString('hex')}`;
  fs.mkdirSync(at(target.fd, stagingName), 0o700);
  const staging = { fd: w.open(at(target.fd, stagingName), O_PATH | O_DIRECTORY | O_NOFOLLOW), cpath: path.posix.join(target.cpath, stagingName) };
  try {
    const stager = new Stager(w, staging, o);
    await readTar(chunks, stager);
    stager.finishTimes();
    if (o.noOverwriteDirNonDir) precheck(w, staging, target);
    merge(w, staging, target);
    return stager.entries;
  } finally {
    try {
      removeTree(w, target, stagingName);
    } finally {
      w.release(staging.fd);
    }
  }
}
