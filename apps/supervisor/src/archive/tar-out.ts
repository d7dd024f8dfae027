// A tar of a path inside a container, written entry by entry from descriptors (fd-walk.ts): directories are
// opened without following links, files with O_NOFOLLOW, links archived as links. The kernel's own trees
// (proc, sysfs, cgroup, devpts, mqueue) mounted in a running container are archived as empty directories.
import * as fs from 'node:fs';
import * as tar from 'tar-stream';
import { at, O_PATH, type DirFrame, type FdWalker } from './fd-walk';

const { O_RDONLY, O_NOFOLLOW } = fs.constants;
const CHUNK = 64 * 1024;
// statfs magic numbers of pseudo filesystems whose files are not data.
const PSEUDO_FS = new Set([0x9fa0, 0x62656572, 0x27e0eb, 0x63677270, 0x1cd1, 0x19800202, 0x73636673, 0x64626720, 0x74726163, 0xcafe4a11]);

function major(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
}

function minor(rdev: number): number {
  return Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
}

/** An entry's body stream in tar-stream 3 (a streamx Writable). */
type EntrySink = ReturnType<tar.Pack['entry']>;

function write(stream: EntrySink, data: Buffer): Promise<void> {
  return stream.write(data) ? Promise.resolve() : new Promise((resolve) => stream.once('drain', () => resolve()));
}

function headerOf(name: string, st: fs.Stats): Partial<tar.Header> & { name: string } {
  return { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0 };
}

async function addFile(w: FdWalker, pack: tar.Pack, host: string, name: string): Promise<void> {
  // O_NONBLOCK (the walker's): a fifo swapped in after the lstat does not hang the open. Held by the walker,
  // so a copy the client gave up on still closes it.
  const fd = w.open(host, O_RDONLY | O_NOFOLLOW);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return;
    let entry!: EntrySink;
    const done = new Promise<void>((resolve, reject) => {
      entry = pack.entry({ ...headerOf(name, st), type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
    });
    const buf = Buffer.allocUnsafe(CHUNK);
    let left = st.size;
    while (left > 0) {
      const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, left), null);
      // A file cut short meanwhile: pad, so the header's size stays true.
      if (n === 0) {
        await write(entry, Buffer.alloc(Math.min(CHUNK, left)));
        left -= Math.min(CHUNK, left);
        continue;
      }
      await write(entry, Buffer.from(buf.subarray(0, n)));
      left -= n;
    }
    entry.end(undefined);
    await done;
  } finally {
    w.release(fd);
  }
}

function addSimple(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
}

/** Adds the entry at `host` (the child `name` of `parent`, or `parent` itself when name is empty) and below. */
/** The first entry name of each multiply linked file, so its other names become hard link entries. */
type Inodes = Map<string, string>;

async function addTree(w: FdWalker, pack: tar.Pack, inodes: Inodes, parent: DirFrame, name: string, host: string, entryName: string): Promise<number> {
  let st: fs.Stats;
  try {
    // No name: `parent` itself, reached through its /proc/self/fd link.
    st = name ? fs.lstatSync(host) : fs.statSync(host);
  } catch {
    return 0; // gone meanwhile
  }
  if (st.isDirectory()) {
    const frame = name ? w.childDir(parent, name, O_PATH) : parent;
    if (!frame) return 0;
    try {
      await addSimple(pack, { ...headerOf(entryName + '/', st), type: 'directory' });
      let n = 1;
      if (PSEUDO_FS.has(Number(fs.statfsSync(at(frame.fd)).type))) return n;
      for (const child of fs.readdirSync(at(frame.fd)).sort()) n += await addTree(w, pack, inodes, frame, child, w.childPath(frame, child), `${entryName}/${child}`);
      return n;
    } finally {
      if (frame !== parent) w.release(frame.fd);
    }
  }
  if (st.isSymbolicLink()) {
    await addSimple(pack, { ...headerOf(entryName, st), type: 'symlink', linkname: fs.readlinkSync(host) });
    return 1;
  }
  if (st.isFile()) {
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = inodes.get(key);
      if (first) {
        await addSimple(pack, { ...headerOf(entryName, st), type: 'link', linkname: first });
        return 1;
      }
      inodes.set(key, entryName);
    }
    await addFile(w, pack, host, entryName);
    return 1;
  }
  const type = st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'character-device' : st.isBlockDevice() ? 'block-device' : undefined;
  if (!type) return 0; // sockets are not archived
  await addSimple(pack, { ...headerOf(entryName, st), type, devmajor: major(st.rdev), devminor: minor(st.rdev) });
  return 1;
}

/**
 * Streams the tar of one resolved leaf (`host` reaching it, `parent`/`name` where it is) to `onChunk`, its
 * top entry named `topName`; chunks are gathered up to 64 KiB. Returns the entry count.
 */
export async function streamTar(
  w: FdWalker,
  parent: DirFrame,
  name: string,
  host: string,
  topName: string,
  onChunk: (b: Buffer) => Promise<void>,
): Promise<number> {
  const pack = tar.pack();
  let count = 0;
  const producing = (async () => {
    try {
      count = await addTree(w, pack, new Map(), parent, name, host, topName);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
      throw err;
    }
  })();
  // Failure is reported by whichever side saw it first; the other side's rejection is then only its echo.
  producing.catch(() => undefined);
  let pending: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of pack as AsyncIterable<Buffer>) {
      pending.push(chunk);
      size += chunk.length;
      if (size >= CHUNK) {
        const out = Buffer.concat(pending);
        pending = [];
        size = 0;
        await onChunk(out);
      }
    }
  } catch (err) {
    // The producer may wait for a drain that never comes: its descriptors are the walker's, closed by the
    // caller, so it holds nothing.
    pack.destroy();
    throw err;
  }
  await producing;
  if (size) await onChunk(Buffer.concat(pending));
  return count;
}
