// Writes an active snapshot's changes as an OCI layer tar: added and changed entries as they are in the
// writable layer, deletions as `.wh.<name>`, overlay opaque dirs as `.wh..wh..opq`. Entries are streamed
// (file contents never held whole in memory); hard links within the layer stay hard links.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Pack } from 'tar-stream';
import { InternalError } from '@berth/service-kit';
import type { LayerChange } from '../snapshots/snapshotter';
import { installBinaryPaxXattrs, XATTR_PAX_PREFIX } from '../unpack/pax-xattrs';

type HeaderArg = Parameters<Pack['entry']>[0];

/** An entry without a body (an empty file still needs an empty one, or tar-stream waits for it). */
function addEntry(pack: Pack, header: HeaderArg): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
}

async function addFile(pack: Pack, header: HeaderArg, file: string): Promise<void> {
  let w!: ReturnType<Pack['entry']>;
  const done = new Promise<void>((resolve, reject) => {
    w = pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
  let written = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 256 * 1024 })) {
    const b = chunk as Buffer;
    written += b.length;
    // A file that grew while being read must not overflow its header's size.
    if (written > (header.size ?? 0)) throw new InternalError(`${file} changed while it was being committed`);
    if (!w.write(b)) await new Promise<void>((resolve) => w.once('drain', () => resolve()));
  }
  w.end(undefined as never);
  await done;
}

/** Xattrs of a path as PAX records (binary-safe, see pax-xattrs.ts); overlay's own are not content. */
function paxXattrs(attrs: Map<string, Buffer> | undefined): Record<string, string> | undefined {
  if (!attrs) return undefined;
  const pax: Record<string, string> = {};
  for (const [name, value] of attrs) if (!name.startsWith('trusted.overlay.')) pax[XATTR_PAX_PREFIX + name] = value.toString('latin1');
  return Object.keys(pax).length > 0 ? pax : undefined;
}

/**
 * Adds the entries for `changes` (sorted by path) from `src` to `pack`, then finalizes it. `xattrs` holds
 * the extended attributes of paths under src (absolute paths).
 */
export async function packChanges(pack: Pack, changes: LayerChange[], src: string, xattrs = new Map<string, Map<string, Buffer>>()): Promise<void> {
  installBinaryPaxXattrs();
  const links = new Map<string, string>();
  for (const c of changes) {
    const rel = c.path.slice(1);
    if (c.kind === 'D') {
      const name = path.posix.join(path.posix.dirname(rel), '.wh.' + path.posix.basename(rel));
      await addEntry(pack, { name, type: 'file', size: 0, mode: 0o600, mtime: new Date(0) });
      continue;
    }
    const p = path.join(src, rel);
    const st = fs.lstatSync(p);
    const base: HeaderArg = { name: rel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    const pax = paxXattrs(xattrs.get(p));
    if (pax) base.pax = pax;
    if (st.isDirectory()) {
      await addEntry(pack, { ...base, name: rel + '/', type: 'directory' });
      if (c.opaque) await addEntry(pack, { name: rel + '/.wh..wh..opq', type: 'file', size: 0, mode: 0o600, mtime: new Date(0) });
    } else if (st.isFile()) {
      const id = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(id) : undefined;
      if (first) await addEntry(pack, { ...base, type: 'link', linkname: first, size: 0 });
      else {
        if (st.nlink > 1) links.set(id, rel);
        await addFile(pack, { ...base, type: 'file', size: st.size }, p);
      }
    } else if (st.isSymbolicLink()) {
      await addEntry(pack, { ...base, type: 'symlink', linkname: fs.readlinkSync(p) });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const rdev = st.rdev;
      // Linux's dev_t: major in bits 8-19 (and 32+), minor in bits 0-7 and 20-31.
      const major = ((rdev >> 8) & 0xfff) | Math.floor(rdev / 2 ** 32) & ~0xfff;
      const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
      await addEntry(pack, { ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor });
    } else if (st.isFIFO()) {
      await addEntry(pack, { ...base, type: 'fifo' });
    }
    // Sockets are not part of a layer, as in docker and containerd.
  }
  pack.finalize();
}
