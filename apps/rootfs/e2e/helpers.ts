// Shared by the rootfs e2e specs: temp state, blobs in an image-store layout, real mounts, tree digests.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mountSpecs, unmountAll, type BuiltLayer, type MountLike } from '@berth/testing';
import { createSnapshotter, type Snapshotter } from '../src/snapshots';
import { LocalBlobSource, type BlobSource } from '../src/unpack/blob-source';
import { Unpacker, type LayerRef } from '../src/unpack/unpacker';

export interface Fixture {
  base: string;
  stateDir: string;
  blobsDir: string;
  sn: Snapshotter;
  unpacker: Unpacker;
  blobs: LocalBlobSource;
  /** Stores a layer blob under blobs/sha256/<hex>, returns its reference. */
  addLayer(l: BuiltLayer): LayerRef;
  /** Mounts specs on a new directory, unmounted at cleanup (or by unmount). */
  mount(specs: MountLike[]): string;
  unmount(dir: string): void;
  /** Closes and opens the snapshotter again on the same state (a restart). */
  reopen(): void;
  cleanup(): void;
}

export function makeFixture(driver: 'overlay' | 'copy', fallback?: BlobSource): Fixture {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `berth-rootfs-${driver}-`));
  const stateDir = path.join(base, 'rootfs');
  const blobsDir = path.join(base, 'image-store', 'blobs', 'sha256');
  fs.mkdirSync(blobsDir, { recursive: true });
  const mounted = new Set<string>();
  const f: Fixture = {
    base,
    stateDir,
    blobsDir,
    sn: createSnapshotter(driver, stateDir),
    blobs: new LocalBlobSource(blobsDir, fallback),
    unpacker: undefined as unknown as Unpacker,
    addLayer(l) {
      fs.writeFileSync(path.join(blobsDir, l.digest.slice(7)), l.blob);
      return { digest: l.digest, diffId: l.diffId };
    },
    mount(specs) {
      const dir = fs.mkdtempSync(path.join(base, 'mnt-'));
      mountSpecs(specs, dir);
      mounted.add(dir);
      return dir;
    },
    unmount(dir) {
      unmountAll(dir);
      mounted.delete(dir);
    },
    reopen() {
      f.sn.close();
      f.sn = createSnapshotter(driver, stateDir);
      f.unpacker = new Unpacker(f.sn, f.blobs);
    },
    cleanup() {
      for (const dir of mounted) unmountAll(dir);
      f.sn.close();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
  f.unpacker = new Unpacker(f.sn, f.blobs);
  return f;
}

/** A digest of everything about a tree: names, types, owners, modes, times, link targets, contents. */
export function treeDigest(dir: string, opts: { dirTimes?: boolean; wholeSeconds?: boolean } = {}): string {
  const h = createHash('sha256');
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      const p = path.join(dir, r);
      const st = fs.lstatSync(p);
      const times = st.isDirectory() && opts.dirTimes === false ? '' : `${opts.wholeSeconds ? Math.floor(st.mtimeMs / 1000) : st.mtimeMs}\0${st.nlink}`;
      h.update(`${r}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.isDirectory() ? 0 : st.size}\0${times}\0${st.rdev}\0`);
      if (st.isSymbolicLink()) h.update(fs.readlinkSync(p));
      else if (st.isFile()) h.update(fs.readFileSync(p));
      else if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return h.digest('hex');
}

/** Names of the snapshot directories on disk (ids and anything else). */
export function snapshotDirs(stateDir: string): string[] {
  return fs.readdirSync(path.join(stateDir, 'snapshots')).sort();
}

export function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
