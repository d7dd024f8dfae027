#!/usr/bin/env node
// Measures Prepare on the built rootfs code (run `tsc -b apps/rootfs/tsconfig.lib.json` first), as root:
//   node apps/rootfs/scripts/measure-prepare.js [count] [layer.tar|layer.tar.gz|dir]
// Unpacks one image (the busybox test image, or the given tar / directory, e.g. a debootstrap tree),
// then prepares `count` (default 50) containers from it and prints, per Prepare, its time and the disk
// used by its snapshot directory (du), first against last. Nothing is timed in CI: this is for the notes.
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { createSnapshotter } = require('../dist/snapshots');
const { LocalBlobSource } = require('../dist/unpack/blob-source');
const { Unpacker } = require('../dist/unpack/unpacker');
const { buildLayer, busyboxLayerEntries } = require('@berth/testing');

function du(p) {
  return Number(execFileSync('du', ['-s', '--block-size=1', p]).toString().split('\t')[0]);
}

async function main() {
  const count = Number(process.argv[2] ?? 50);
  const source = process.argv[3];
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-measure-'));
  const blobs = path.join(base, 'blobs');
  fs.mkdirSync(blobs);
  try {
    let tarFile;
    if (!source) {
      tarFile = path.join(base, 'layer.tar');
      fs.writeFileSync(tarFile, (await buildLayer(busyboxLayerEntries())).tar);
    } else if (fs.statSync(source).isDirectory()) {
      tarFile = path.join(base, 'layer.tar');
      execFileSync('tar', ['--numeric-owner', '--xattrs', '-C', source, '-cf', tarFile, '.']);
    } else tarFile = source;
    const bytes = fs.readFileSync(tarFile);
    const digest = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
    const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
    const diffId = gzipped ? 'sha256:' + createHash('sha256').update(zlib.gunzipSync(bytes)).digest('hex') : digest;
    fs.copyFileSync(tarFile, path.join(blobs, digest.slice(7)));
    const sn = createSnapshotter(process.env.BERTH_ROOTFS_DRIVER || 'overlay', path.join(base, 'rootfs'));
    const unpacker = new Unpacker(sn, new LocalBlobSource(blobs));
    let t = process.hrtime.bigint();
    const { chainId } = await unpacker.unpack([{ digest, diffId }]);
    const unpackMs = Number(process.hrtime.bigint() - t) / 1e6;
    const layerDir = (await sn.stat(chainId)).layerDir;
    console.log(`driver ${sn.driver}; image layer ${(fs.statSync(tarFile).size / 1e6).toFixed(1)} MB ${gzipped ? 'tar.gz' : 'tar'}, unpacked in ${unpackMs.toFixed(0)} ms, ${(du(layerDir) / 1e6).toFixed(1)} MB on disk`);
    const rows = [];
    const before = du(path.join(base, 'rootfs', 'snapshots'));
    for (let i = 0; i < count; i++) {
      t = process.hrtime.bigint();
      await sn.prepare(`c${i}`, chainId);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      const dir = path.dirname((await sn.stat(`c${i}`)).layerDir);
      rows.push({ i, ms, bytes: du(dir) });
    }
    const after = du(path.join(base, 'rootfs', 'snapshots'));
    const ms = rows.map((r) => r.ms).sort((a, b) => a - b);
    console.log(`prepare #1: ${rows[0].ms.toFixed(2)} ms, ${rows[0].bytes} bytes; prepare #${count}: ${rows[count - 1].ms.toFixed(2)} ms, ${rows[count - 1].bytes} bytes`);
    console.log(`median ${ms[Math.floor(count / 2)].toFixed(2)} ms, max ${ms[count - 1].toFixed(2)} ms; disk for all ${count}: ${after - before} bytes (${((after - before) / count / 1024).toFixed(1)} KiB each)`);
    // Prepare + mount + umount, as the supervisor will do it (mount(8) from @berth/testing's helper).
    const { mountSpecs, unmountAll } = require('@berth/testing');
    const mnt = path.join(base, 'mnt');
    fs.mkdirSync(mnt);
    const both = [];
    for (let i = 0; i < Math.min(count, 20); i++) {
      t = process.hrtime.bigint();
      const specs = await sn.prepare(`m${i}`, chainId);
      mountSpecs(specs, mnt);
      both.push(Number(process.hrtime.bigint() - t) / 1e6);
      unmountAll(mnt);
      await sn.remove(`m${i}`);
    }
    both.sort((a, b) => a - b);
    console.log(`prepare+mount (${both.length}x): median ${both[Math.floor(both.length / 2)].toFixed(2)} ms, max ${both[both.length - 1].toFixed(2)} ms`);
    for (let i = 0; i < count; i++) await sn.remove(`c${i}`);
    sn.close();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
