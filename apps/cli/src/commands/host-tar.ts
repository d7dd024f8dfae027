// The host side of `berth cp`: a tar of a host path (what PutArchive extracts in the container) and the
// extraction of GetArchive's tar onto the host, with docker's rules: owners are not changed on the host
// (docker's NoLchown), a directory is never replaced by a file or the reverse, and nothing is written
// through a link (an entry whose parent is a link on the host is refused).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliError } from '../cli-error';
import { encodeHeader, readTar, TAR_END, tarPadding, TarFormatError, type TarHeader } from './tar-format';

const CHUNK = 64 * 1024;

export class CopyError extends CliError {
  constructor(message: string) {
    super(message, 1);
  }
}

async function* fileBody(host: string, size: number): AsyncGenerator<Buffer> {
  const fd = fs.openSync(host, 'r');
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      // Cut short meanwhile: pad, so the header's size stays true.
      const part = n ? buf.subarray(0, n) : Buffer.alloc(buf.length);
      left -= part.length;
      yield part;
    }
  } finally {
    fs.closeSync(fd);
  }
  yield tarPadding(size);
}

/**
 * A tar of the host path `src` (its top entry named `topName`, or only its children when `contentsOnly`),
 * links archived as links except `src` itself with `followTop`.
 */
export async function* packHostPath(src: string, topName: string, contentsOnly: boolean, followTop: boolean): AsyncGenerator<Buffer> {
  const inodes = new Map<string, string>();
  async function* add(host: string, name: string, top: boolean): AsyncGenerator<Buffer> {
    const st = top && followTop ? fs.statSync(host) : fs.lstatSync(host);
    const base: TarHeader = { name, type: 'file', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0, linkname: '' };
    if (st.isDirectory()) {
      if (!(top && contentsOnly)) yield encodeHeader({ ...base, name: name + '/', type: 'directory' });
      for (const c of fs.readdirSync(host).sort()) yield* add(path.join(host, c), top && contentsOnly ? c : `${name}/${c}`, false);
    } else if (st.isSymbolicLink()) {
      yield encodeHeader({ ...base, type: 'symlink', linkname: fs.readlinkSync(host) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? inodes.get(key) : undefined;
      if (first) {
        yield encodeHeader({ ...base, type: 'link', linkname: first });
        return;
      }
      if (st.nlink > 1) inodes.set(key, name);
      yield encodeHeader({ ...base, size: st.size });
      yield* fileBody(host, st.size);
    } else if (st.isFIFO()) {
      yield encodeHeader({ ...base, type: 'fifo' });
    }
    // Devices and sockets are not copied.
  }
  yield* add(src, topName, true);
  yield TAR_END;
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
  const handle = async (h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> => {
    const mapped = rename(h.name.replace(/\/+$/, ''));
    const parts = mapped === undefined ? [] : mapped.split('/').filter((c) => c && c !== '.');
    if (mapped === undefined || !parts.length || parts.includes('..')) return;
    checkParents(destDir, parts.slice(0, -1), h.name);
    const target = path.join(destDir, ...parts);
    const existing = fs.lstatSync(target, { throwIfNoEntry: false });
    const isDir = h.type === 'directory';
    if (existing?.isDirectory() && !isDir) throw new CopyError(`cannot overwrite directory "${target}" with non-directory "${h.name}"`);
    if (existing && !existing.isDirectory() && isDir) throw new CopyError(`cannot overwrite non-directory "${target}" with directory "${h.name}"`);
    if (existing && !isDir) fs.unlinkSync(target);
    const mode = h.mode & 0o7777;
    switch (h.type) {
      case 'directory':
        if (!existing) fs.mkdirSync(target, { mode: 0o700 });
        fs.chmodSync(target, mode);
        dirTimes.push([target, h.mtime]);
        return;
      case 'symlink':
        fs.symlinkSync(h.linkname, target);
        fs.lutimesSync(target, h.mtime, h.mtime);
        return;
      case 'link': {
        const to = rename(h.linkname);
        if (to === undefined) throw new CopyError(`hard link "${h.name}" names "${h.linkname}", outside what is copied`);
        fs.linkSync(path.join(destDir, ...to.split('/').filter((c) => c && c !== '.' && c !== '..')), target);
        return;
      }
      case 'file': {
        const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        try {
          for await (const c of body) {
            let off = 0;
            while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off);
            bytes += c.length;
          }
          fs.fchmodSync(fd, mode);
          fs.futimesSync(fd, h.mtime, h.mtime);
        } finally {
          fs.closeSync(fd);
        }
        return;
      }
      default:
        // fifos and devices are not made on the host (docker's client makes them only as root)
        return;
    }
  };
  try {
    await readTar(data, handle);
  } catch (err) {
    if (err instanceof TarFormatError) throw new CopyError(`invalid tar from the container: ${err.message}`);
    throw err;
  }
  for (const [d, t] of dirTimes.reverse()) fs.utimesSync(d, t, t);
  return bytes;
}
