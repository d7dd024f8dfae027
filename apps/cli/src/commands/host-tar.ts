// The host side of `berth cp`: a tar of a host path (what PutArchive extracts in the container) and the
// extraction of GetArchive's tar onto the host, with docker's rules: owners are not changed on the host
// (docker's NoLchown), a directory is never replaced by a file or the reverse, and nothing is written
// through a link (an entry whose parent is a link on the host is refused).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { CliError } from '../cli-error';

const CHUNK = 64 * 1024;

export class CopyError extends CliError {
  constructor(message: string) {
    super(message, 1);
  }
}

function waitDrain(s: NodeJS.WritableStream, data: Buffer): Promise<void> {
  return s.write(data) ? Promise.resolve() : new Promise((r) => s.once('drain', () => r()));
}

function simple(pack: tar.Pack, h: tar.Headers): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(h, (err) => (err ? reject(err) : resolve())));
}

async function addFile(pack: tar.Pack, host: string, h: tar.Headers): Promise<void> {
  const fd = fs.openSync(host, 'r');
  try {
    let entry!: NodeJS.WritableStream & { end(): void };
    const done = new Promise<void>((resolve, reject) => {
      entry = pack.entry(h, (err) => (err ? reject(err) : resolve()));
    });
    const buf = Buffer.allocUnsafe(CHUNK);
    let left = h.size ?? 0;
    while (left > 0) {
      const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, left), null);
      const part = n ? Buffer.from(buf.subarray(0, n)) : Buffer.alloc(Math.min(CHUNK, left)); // cut short meanwhile: pad
      await waitDrain(entry, part);
      left -= part.length;
    }
    entry.end();
    await done;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A tar of the host path `src` (its top entry named `topName`, or only its children when `contentsOnly`),
 * links archived as links except `src` itself with `followTop`.
 */
export function packHostPath(src: string, topName: string, contentsOnly: boolean, followTop: boolean): AsyncIterable<Buffer> {
  const pack = tar.pack();
  const inodes = new Map<string, string>();
  const add = async (host: string, name: string, top: boolean): Promise<void> => {
    const st = top && followTop ? fs.statSync(host) : fs.lstatSync(host);
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      if (!(top && contentsOnly)) await simple(pack, { ...base, name: name + '/', type: 'directory' });
      for (const c of fs.readdirSync(host).sort()) await add(path.join(host, c), top && contentsOnly ? c : `${name}/${c}`, false);
    } else if (st.isSymbolicLink()) {
      await simple(pack, { ...base, name, type: 'symlink', linkname: fs.readlinkSync(host) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? inodes.get(key) : undefined;
      if (first) return simple(pack, { ...base, name, type: 'link', linkname: first });
      if (st.nlink > 1) inodes.set(key, name);
      await addFile(pack, host, { ...base, name, type: 'file', size: st.size });
    } else if (st.isFIFO()) {
      await simple(pack, { ...base, name, type: 'fifo' });
    }
    // Devices and sockets are not copied.
  };
  void add(src, topName, true).then(
    () => pack.finalize(),
    (err: Error) => pack.destroy(err),
  );
  return pack as AsyncIterable<Buffer>;
}

/** Iterates an async iterable of buffers as a readable tar's input. */
function drain(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
    stream.resume();
  });
}

/** Checks that no part of `rel` below `root` is a link (or a file): nothing is written through one. */
function checkParents(root: string, parts: string[], entry: string): void {
  let cur = root;
  for (const p of parts) {
    cur = path.join(cur, p);
    const st = fs.lstatSync(cur, { throwIfNoEntry: false });
    if (!st) {
      fs.mkdirSync(cur, { mode: 0o755 });
      continue;
    }
    if (st.isSymbolicLink()) throw new CopyError(`refusing to write "${entry}" through the link ${cur}`);
    if (!st.isDirectory()) throw new CopyError(`cannot extract "${entry}": ${cur} is not a directory`);
  }
}

/**
 * Extracts a tar onto the host under `destDir`; `rename` maps each entry name (undefined skips it). Returns
 * the bytes of file content written.
 */
export async function extractToHost(data: AsyncIterable<Buffer>, destDir: string, rename: (name: string) => string | undefined): Promise<number> {
  let bytes = 0;
  const dirTimes: [string, Date][] = [];
  const handle = async (h: tar.Headers, stream: Readable): Promise<void> => {
    const mapped = rename(h.name.replace(/\/+$/, ''));
    const parts = mapped === undefined ? [] : mapped.split('/').filter((c) => c && c !== '.');
    if (mapped === undefined || !parts.length || parts.includes('..') || h.type === 'pax-global-header') return drain(stream);
    checkParents(destDir, parts.slice(0, -1), h.name);
    const target = path.join(destDir, ...parts);
    const existing = fs.lstatSync(target, { throwIfNoEntry: false });
    const isDir = h.type === 'directory';
    if (existing?.isDirectory() && !isDir) throw new CopyError(`cannot overwrite directory "${target}" with non-directory "${h.name}"`);
    if (existing && !existing.isDirectory() && isDir) throw new CopyError(`cannot overwrite non-directory "${target}" with directory "${h.name}"`);
    if (existing && !isDir) fs.unlinkSync(target);
    const mode = (h.mode ?? 0o644) & 0o7777;
    const mtime = h.mtime ?? new Date();
    switch (h.type) {
      case 'directory':
        if (!existing) fs.mkdirSync(target, { mode: 0o700 });
        fs.chmodSync(target, mode);
        dirTimes.push([target, mtime]);
        return drain(stream);
      case 'symlink':
        fs.symlinkSync(h.linkname ?? '', target);
        fs.lutimesSync(target, mtime, mtime);
        return drain(stream);
      case 'link': {
        const to = rename(h.linkname ?? '');
        if (to === undefined) throw new CopyError(`hard link "${h.name}" names "${h.linkname}", outside what is copied`);
        fs.linkSync(path.join(destDir, ...to.split('/').filter((c) => c && c !== '.' && c !== '..')), target);
        return drain(stream);
      }
      case 'fifo':
        throw new CopyError(`"${h.name}" is a fifo, which is not copied to the host`);
      case 'file':
      case 'contiguous-file':
      default: {
        const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        try {
          for await (const c of stream as AsyncIterable<Buffer>) {
            let off = 0;
            while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off);
            bytes += c.length;
          }
          fs.fchmodSync(fd, mode);
          fs.futimesSync(fd, mtime, mtime);
        } finally {
          fs.closeSync(fd);
        }
      }
    }
  };
  const ex = tar.extract();
  const finished = new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  finished.catch(() => undefined);
  ex.on('entry', (h: tar.Headers, stream: Readable, next: () => void) => {
    handle(h, stream).then(next, (err: Error) => {
      stream.resume();
      ex.destroy(err);
    });
  });
  for await (const c of data) {
    if (!ex.write(c)) await Promise.race([new Promise((r) => ex.once('drain', r)), finished]);
  }
  ex.end();
  await finished;
  for (const [d, t] of dirTimes.reverse()) fs.utimesSync(d, t, t);
  return bytes;
}
