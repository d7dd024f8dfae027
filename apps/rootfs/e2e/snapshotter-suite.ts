// The conformance suite every snapshotter passes (after containerd's core/snapshots/testsuite): layers
// unpacked from real tar blobs, the returned mount specs mounted for real, then looked at from outside.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import { buildLayer, busyboxLayerEntries, sha256, type BuiltLayer, type LayerEntry } from '@berth/testing';
import { chainIds } from '@berth/oci';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@berth/service-kit';
import { IN_USE_LABEL } from '../src/snapshots';
import { exists, makeFixture, snapshotDirs, treeDigest, type Fixture } from './helpers';

const appEntries: LayerEntry[] = [
  { type: 'dir', path: 'etc/' },
  { type: 'file', path: 'etc/app.conf', content: 'v1\n' },
  { type: 'dir', path: 'srv/' },
  { type: 'dir', path: 'srv/data/' },
  { type: 'dir', path: 'srv/data/old/' },
  { type: 'file', path: 'srv/data/old/a', content: 'a' },
  { type: 'file', path: 'srv/data/b', content: 'b' },
];
const whiteoutEntries: LayerEntry[] = [
  { type: 'dir', path: 'etc/' },
  { type: 'file', path: 'etc/.wh.app.conf', content: '' },
  { type: 'dir', path: 'var/' },
  { type: 'dir', path: 'var/www/' },
  { type: 'file', path: 'var/www/.wh.index.html', content: '' },
];
const opaqueEntries: LayerEntry[] = [
  { type: 'dir', path: 'srv/' },
  { type: 'dir', path: 'srv/data/' },
  { type: 'file', path: 'srv/data/.wh..wh..opq', content: '' },
  { type: 'file', path: 'srv/data/new', content: 'n' },
];

/** A raw tar header (hostile or unusual entries); tar-stream fills the fields left out. */
function raw(header: Record<string, unknown> & { name: string }, content?: Buffer): LayerEntry {
  return (content ? { type: 'raw', header, content } : { type: 'raw', header }) as unknown as LayerEntry;
}

function zstdLayer(l: BuiltLayer): BuiltLayer {
  const blob = zstdCompress(l.tar);
  return { ...l, blob, digest: sha256(blob), mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' };
}

export function snapshotterConformance(driver: 'overlay' | 'copy'): void {
  describe(`${driver} snapshotter conformance`, () => {
    let f: Fixture;
    let busybox: BuiltLayer;
    let app: BuiltLayer;
    let whiteout: BuiltLayer;
    let opaque: BuiltLayer;

    beforeAll(async () => {
      busybox = await buildLayer(busyboxLayerEntries(), 'gzip');
      app = zstdLayer(await buildLayer(appEntries));
      whiteout = await buildLayer(whiteoutEntries, 'gzip');
      opaque = await buildLayer(opaqueEntries);
    });
    beforeEach(() => {
      f = makeFixture(driver);
    });
    afterEach(() => f.cleanup());

    /** Unpacks busybox + app (+ more) and returns the top chain id. */
    async function image(...more: BuiltLayer[]): Promise<string> {
      const layers = [busybox, app, ...more].map((l) => f.addLayer(l));
      return (await f.unpacker.unpack(layers, 'test:latest')).chainId;
    }

    function layerDirs(): Map<string, string> {
      return new Map(fs.readdirSync(path.join(f.stateDir, 'snapshots')).map((id) => [id, treeDigest(path.join(f.stateDir, 'snapshots', id, 'fs'))]));
    }

    test('unpack makes one committed snapshot per layer, keyed by chain id, gzip/zstd/plain sniffed', async () => {
      const top = await image(whiteout);
      const chain = chainIds([busybox.diffId, app.diffId, whiteout.diffId]);
      expect(top).toBe(chain[2]);
      const infos = await f.sn.list();
      expect(infos.map((i) => [i.key, i.kind, i.parent])).toEqual([
        [chain[0], 'committed', ''],
        [chain[1], 'committed', chain[0]],
        [chain[2], 'committed', chain[1]],
      ]);
      expect(f.blobs.localReads).toBe(3);
      // A second image sharing the first two layers unpacks only its own.
      const again = await f.unpacker.unpack([busybox, app, opaque].map((l) => f.addLayer(l)));
      expect(again.unpacked).toBe(1);
      expect((await f.sn.list()).length).toBe(4);
    });

    test('files from lower layers are visible in a prepared root', async () => {
      const top = await image();
      const mounts = await f.sn.prepare('c1', top);
      const root = f.mount(mounts);
      expect(execFileSync(path.join(root, 'bin/busybox'), ['echo', 'hello']).toString()).toBe('hello\n');
      expect(fs.readlinkSync(path.join(root, 'bin/sh'))).toBe('busybox');
      expect(fs.readFileSync(path.join(root, 'etc/app.conf'), 'utf8')).toBe('v1\n');
      expect(fs.readFileSync(path.join(root, 'var/www/index.html'), 'utf8')).toBe('hello from berth\n');
      expect((fs.statSync(path.join(root, 'tmp')).mode & 0o7777).toString(8)).toBe('1777');
      expect(await f.sn.mounts('c1')).toEqual(mounts);
    });

    test('a write lands in the writable layer only; layer directories stay unchanged', async () => {
      const top = await image();
      const before = layerDirs();
      const root = f.mount(await f.sn.prepare('c1', top));
      fs.writeFileSync(path.join(root, 'new-file'), 'x');
      fs.appendFileSync(path.join(root, 'etc/passwd'), 'app:x:1000:1000::/:/bin/sh\n');
      fs.rmSync(path.join(root, 'var/www/index.html'));
      f.unmount(root);
      const after = layerDirs();
      const info = await f.sn.stat('c1');
      const own = path.basename(path.dirname(info.layerDir));
      for (const [id, digest] of before) expect([id, after.get(id)]).toEqual([id, digest]);
      expect(after.get(own)).not.toBe(undefined);
      expect(fs.readFileSync(path.join(info.layerDir, 'new-file'), 'utf8')).toBe('x');
      expect(fs.readFileSync(path.join(info.layerDir, 'etc/passwd'), 'utf8')).toContain('app:x:1000');
      expect(await f.sn.changes('c1')).toEqual([
        { kind: 'C', path: '/etc' },
        { kind: 'C', path: '/etc/passwd' },
        { kind: 'A', path: '/new-file' },
        { kind: 'C', path: '/var' },
        { kind: 'C', path: '/var/www' },
        { kind: 'D', path: '/var/www/index.html' },
      ]);
    });

    test('two containers from one image do not see each other’s writes', async () => {
      const top = await image();
      const a = f.mount(await f.sn.prepare('a', top));
      const b = f.mount(await f.sn.prepare('b', top));
      fs.writeFileSync(path.join(a, 'etc/app.conf'), 'from a\n');
      fs.writeFileSync(path.join(b, 'only-b'), 'b');
      expect(fs.readFileSync(path.join(b, 'etc/app.conf'), 'utf8')).toBe('v1\n');
      expect(exists(path.join(a, 'only-b'))).toBe(false);
      expect(await f.sn.changes('a')).toEqual([
        { kind: 'C', path: '/etc' },
        { kind: 'C', path: '/etc/app.conf' },
      ]);
      expect(await f.sn.changes('b')).toEqual([{ kind: 'A', path: '/only-b' }]);
    });

    test('whiteouts hide files of lower layers', async () => {
      const top = await image(whiteout);
      const root = f.mount(await f.sn.view('v1', top));
      expect(exists(path.join(root, 'etc/app.conf'))).toBe(false);
      expect(exists(path.join(root, 'var/www/index.html'))).toBe(false);
      expect(exists(path.join(root, 'etc/passwd'))).toBe(true);
      expect(exists(path.join(root, 'etc/.wh.app.conf'))).toBe(false);
      if (driver === 'overlay') {
        // In the layer itself the whiteout is an overlay whiteout: a 0:0 character device.
        const st = fs.lstatSync(path.join((await f.sn.stat(top)).layerDir, 'etc/app.conf'));
        expect([st.isCharacterDevice(), st.rdev]).toEqual([true, 0]);
      }
    });

    test('opaque directories hide whole trees of lower layers', async () => {
      const top = await image(opaque);
      const root = f.mount(await f.sn.prepare('c1', top));
      expect(fs.readdirSync(path.join(root, 'srv/data'))).toEqual(['new']);
      expect(await f.sn.changes('c1')).toEqual([]);
      fs.rmSync(path.join(root, 'srv/data/new'));
      fs.writeFileSync(path.join(root, 'srv/data/mine'), 'm');
      expect(fs.readdirSync(path.join(root, 'srv/data'))).toEqual(['mine']);
      expect(await f.sn.changes('c1')).toEqual([
        { kind: 'C', path: '/srv' },
        { kind: 'C', path: '/srv/data' },
        { kind: 'A', path: '/srv/data/mine' },
        { kind: 'D', path: '/srv/data/new' },
      ]);
    });

    test('a view is read-only', async () => {
      const top = await image();
      const root = f.mount(await f.sn.view('v', top));
      expect(() => fs.writeFileSync(path.join(root, 'x'), 'x')).toThrow(/EROFS|read-only/);
      await expect(f.sn.commit('n', 'v')).rejects.toBeInstanceOf(FailedPreconditionError);
    });

    test('ownership, modes, times, hard links, symlinks, devices, FIFOs and xattrs are kept', async () => {
      const mtime = new Date('2020-02-02T02:02:02Z');
      const meta = await buildLayer([
        raw({ name: 'opt/', type: 'directory', mode: 0o750, uid: 7, gid: 8, mtime }),
        raw({ name: 'opt/tool', type: 'file', mode: 0o4755, uid: 1000, gid: 1001, mtime, pax: { 'SCHILY.xattr.user.berth': 'yes' } }, Buffer.from('tool')),
        { type: 'hardlink', path: 'opt/tool-again', target: 'opt/tool' },
        raw({ name: 'opt/link', type: 'symlink', linkname: '../bin/busybox', uid: 5, gid: 6, mtime }),
        raw({ name: 'opt/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, mtime }),
        raw({ name: 'opt/loop9', type: 'block-device', devmajor: 7, devminor: 9, mode: 0o660, mtime }),
        raw({ name: 'opt/pipe', type: 'fifo', mode: 0o640, mtime }),
      ]);
      const top = await image(meta);
      const root = f.mount(await f.sn.view('v', top));
      const p = (n: string) => path.join(root, n);
      const tool = fs.lstatSync(p('opt/tool'));
      expect([tool.uid, tool.gid, (tool.mode & 0o7777).toString(8), tool.mtime.toISOString(), tool.nlink]).toEqual([1000, 1001, '4755', mtime.toISOString(), 2]);
      expect(fs.lstatSync(p('opt/tool-again')).ino).toBe(tool.ino);
      const opt = fs.lstatSync(p('opt'));
      expect([opt.uid, opt.gid, (opt.mode & 0o7777).toString(8), opt.mtime.toISOString()]).toEqual([7, 8, '750', mtime.toISOString()]);
      const link = fs.lstatSync(p('opt/link'));
      expect([fs.readlinkSync(p('opt/link')), link.uid, link.gid, link.mtime.toISOString()]).toEqual(['../bin/busybox', 5, 6, mtime.toISOString()]);
      const nul = fs.lstatSync(p('opt/null'));
      expect([nul.isCharacterDevice(), nul.rdev, (nul.mode & 0o7777).toString(8)]).toEqual([true, 0x103, '666']);
      const loop = fs.lstatSync(p('opt/loop9'));
      expect([loop.isBlockDevice(), loop.rdev, (loop.mode & 0o7777).toString(8)]).toEqual([true, 0x709, '660']);
      expect(fs.lstatSync(p('opt/pipe')).isFIFO()).toBe(true);
      expect(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.berth', p('opt/tool')]).toString()).toBe('yes');
    });

    test('binary xattrs (file capabilities) from a GNU tar layer survive unpack', async () => {
      const src = fs.mkdtempSync(path.join(f.base, 'gnu-'));
      fs.writeFileSync(path.join(src, 'ping'), 'not really ping', { mode: 0o755 });
      execFileSync('setcap', ['cap_net_raw+ep', path.join(src, 'ping')]);
      execFileSync('setfattr', ['-n', 'user.bin', '-v', '0xff00c3fe80', path.join(src, 'ping')]);
      const t = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-C', src, '-cf', '-', './ping']);
      const layer: BuiltLayer = { tar: t, diffId: sha256(t), blob: t, digest: sha256(t), mediaType: 'application/vnd.oci.image.layer.v1.tar' };
      const top = await image(layer);
      const root = f.mount(await f.sn.view('v', top));
      const attrs = execFileSync('getfattr', ['--absolute-names', '-e', 'hex', '-d', '-m', '^(security.capability|user.bin)$', path.join(root, 'ping')]).toString();
      expect(attrs).toContain('user.bin=0xff00c3fe80');
      expect(attrs).toContain('security.capability=0x');
      expect(execFileSync('getcap', [path.join(root, 'ping')]).toString()).toContain('cap_net_raw=ep');
    });

    describe('hostile archives are refused, leaving nothing behind', () => {
      const outside = `/tmp/berth-hostile-${process.pid}-${driver}`;
      afterEach(() => fs.rmSync(outside, { recursive: true, force: true }));
      const cases: [string, () => LayerEntry[]][] = [
        ['a "../" name', () => [raw({ name: `../../../../../../..${outside}`, type: 'file' }, Buffer.from('x'))]],
        ['an absolute name', () => [raw({ name: outside, type: 'file' }, Buffer.from('x'))]],
        ['a write through a symlink that escapes', () => [
          { type: 'file', path: 'ok', content: 'fine' },
          { type: 'symlink', path: 'evil', target: `../../../../../../../../..${path.dirname(outside)}` },
          raw({ name: `evil/${path.basename(outside)}`, type: 'file' }, Buffer.from('x')),
        ]],
        ['a hard link to a file outside', () => [{ type: 'hardlink', path: 'passwd', target: '../../../../../../../../etc/passwd' }]],
        ['a hard link with an absolute target', () => [{ type: 'hardlink', path: 'passwd', target: '/etc/passwd' }]],
        ['a symlink loop', () => [
          { type: 'symlink', path: 'a', target: 'b' },
          { type: 'symlink', path: 'b', target: 'a' },
          raw({ name: 'a/x', type: 'file' }, Buffer.from('x')),
        ]],
        ['a hard link through a symlink that escapes', () => [
          { type: 'symlink', path: 'up', target: '../../../../../../../../..' },
          { type: 'hardlink', path: 'passwd', target: 'up/etc/passwd' },
        ]],
      ];
      for (const [what, entries] of cases) {
        test(what, async () => {
          const base = await image();
          const snapshots = await f.sn.list();
          const dirs = snapshotDirs(f.stateDir);
          const hostile = await buildLayer(entries(), 'gzip');
          const err = await f.unpacker.unpack([busybox, app, hostile].map((l) => f.addLayer(l))).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(InvalidArgumentError);
          expect((err as Error).message).toMatch(/layer archive refused: entry/);
          expect(await f.sn.list()).toEqual(snapshots);
          expect(snapshotDirs(f.stateDir)).toEqual(dirs);
          expect(exists(outside)).toBe(false);
          expect(fs.readFileSync('/etc/passwd', 'utf8')).toMatch(/^root:/);
          expect((await f.sn.stat(base)).kind).toBe('committed');
        });
      }

      test('an absolute symlink target is the layer root, never the host', async () => {
        const layer = await buildLayer([
          { type: 'symlink', path: 'abs', target: path.dirname(outside) },
          raw({ name: `abs/${path.basename(outside)}`, type: 'file' }, Buffer.from('x')),
        ]);
        const top = await image(layer);
        expect(exists(outside)).toBe(false);
        expect(fs.readFileSync(path.join((await f.sn.stat(top)).layerDir, outside), 'utf8')).toBe('x');
      });

      test('a layer whose content does not match its diff_id commits nothing', async () => {
        await image();
        const dirs = snapshotDirs(f.stateDir);
        const l = await buildLayer([{ type: 'file', path: 'x', content: 'x' }], 'gzip');
        const ref = f.addLayer(l);
        const err = await f.unpacker.unpack([busybox, app].map((x) => f.addLayer(x)).concat([{ ...ref, diffId: sha256('other') }])).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InvalidArgumentError);
        expect((err as Error).message).toMatch(/diff_id/);
        expect((await f.sn.list()).length).toBe(2);
        expect(snapshotDirs(f.stateDir)).toEqual(dirs);
      });

      test('a corrupt blob commits nothing', async () => {
        const l = await buildLayer([{ type: 'file', path: 'x', content: 'x'.repeat(10000) }], 'gzip');
        const ref = f.addLayer(l);
        const file = path.join(f.blobsDir, l.digest.slice(7));
        fs.writeFileSync(file, zlib.gzipSync(Buffer.from('not a tar at all, but long enough to be read'.repeat(20))));
        await expect(f.unpacker.unpack([ref])).rejects.toBeInstanceOf(InvalidArgumentError);
        expect(await f.sn.list()).toEqual([]);
        expect(snapshotDirs(f.stateDir)).toEqual([]);
      });
    });

    test('usage counts the snapshot’s own layer only', async () => {
      const top = await image();
      await f.sn.prepare('c1', top);
      const empty = await f.sn.usage('c1');
      if (driver === 'overlay') {
        // Nothing copied: an empty upper dir.
        expect(empty).toEqual({ size: 4096, inodes: 1 });
      } else {
        // A full copy of the image: the busybox binary at least.
        expect(empty.size).toBeGreaterThan(fs.statSync('/bin/busybox').size);
      }
      const root = f.mount(await f.sn.mounts('c1'));
      fs.writeFileSync(path.join(root, 'big'), Buffer.alloc(1 << 20, 1));
      const grown = await f.sn.usage('c1');
      expect(grown.size - empty.size).toBeGreaterThanOrEqual(1 << 20);
      expect(grown.inodes).toBe(empty.inodes + 1);
    });

    test('remove is refused while a snapshot has children or is in use, unless its owner or force', async () => {
      const top = await image();
      await f.sn.prepare('c1', top, { [IN_USE_LABEL]: 'supervisor' });
      await expect(f.sn.remove(top)).rejects.toThrow(/parent of 1 snapshot/);
      await expect(f.sn.remove('c1')).rejects.toThrow(/in use by supervisor/);
      await expect(f.sn.remove('c1', { owner: 'someone-else' })).rejects.toBeInstanceOf(FailedPreconditionError);
      await f.sn.remove('c1', { owner: 'supervisor' });
      await f.sn.prepare('c2', top, { [IN_USE_LABEL]: 'supervisor' });
      await f.sn.remove('c2', { force: true });
      await expect(f.sn.stat('c2')).rejects.toBeInstanceOf(NotFoundError);
      await f.sn.remove(top);
      expect((await f.sn.list()).map((s) => s.key)).toEqual([chainIds([busybox.diffId])[0]]);
      expect(snapshotDirs(f.stateDir).length).toBe(1);
    });

    test('a snapshot whose directory vanished can still be removed', async () => {
      const top = await image();
      await f.sn.prepare('c1', top);
      fs.rmSync(path.dirname((await f.sn.stat('c1')).layerDir), { recursive: true });
      await f.sn.remove('c1');
      await expect(f.sn.stat('c1')).rejects.toBeInstanceOf(NotFoundError);
    });

    test('prepare refuses a taken key, an unknown parent and an active parent', async () => {
      const top = await image();
      await f.sn.prepare('c1', top);
      await expect(f.sn.prepare('c1', top)).rejects.toThrow(/already exists/);
      await expect(f.sn.prepare('c2', 'sha256:' + '0'.repeat(64))).rejects.toBeInstanceOf(NotFoundError);
      await expect(f.sn.prepare('c3', 'c1')).rejects.toThrow(/not committed/);
      await expect(f.sn.prepare('', top)).rejects.toBeInstanceOf(InvalidArgumentError);
      expect((await f.sn.list()).map((s) => s.key).sort()).toEqual([...chainIds([busybox.diffId, app.diffId]), 'c1'].sort());
    });

    test('commit turns an active snapshot into a parent', async () => {
      const top = await image();
      const root = f.mount(await f.sn.prepare('c1', top));
      fs.writeFileSync(path.join(root, 'committed-file'), 'c');
      f.unmount(root);
      await f.sn.commit('my-layer', 'c1');
      await expect(f.sn.stat('c1')).rejects.toBeInstanceOf(NotFoundError);
      const child = f.mount(await f.sn.prepare('c2', 'my-layer'));
      expect(fs.readFileSync(path.join(child, 'committed-file'), 'utf8')).toBe('c');
      expect(fs.readFileSync(path.join(child, 'etc/app.conf'), 'utf8')).toBe('v1\n');
    });

    test('start-up removes orphaned directories and interrupted unpacks', async () => {
      const top = await image();
      await f.sn.prepare('keep', top);
      await f.sn.prepare('extract-dead', top, { 'berth.unpacking': 'sha256:x' });
      const snaps = path.join(f.stateDir, 'snapshots');
      fs.mkdirSync(path.join(snaps, 'new-0123/fs'), { recursive: true });
      fs.mkdirSync(path.join(snaps, '999/fs'), { recursive: true });
      fs.mkdirSync(path.join(snaps, 'rm-4-abcd/fs'), { recursive: true });
      f.reopen();
      expect(await f.unpacker.removeInterrupted()).toBe(1);
      expect((await f.sn.list()).map((s) => s.key)).toEqual([...chainIds([busybox.diffId, app.diffId]), 'keep']);
      expect(snapshotDirs(f.stateDir)).toEqual(['1', '2', '3']);
    });

    test('concurrent unpacks of the same layers extract each layer once', async () => {
      const layers = [busybox, app].map((l) => f.addLayer(l));
      const results = await Promise.all([1, 2, 3].map(() => f.unpacker.unpack(layers)));
      expect(results.map((r) => r.chainId)).toEqual(Array(3).fill(chainIds([busybox.diffId, app.diffId])[1]));
      expect(results.reduce((n, r) => n + r.unpacked, 0)).toBe(2);
      expect((await f.sn.list()).length).toBe(2);
      expect(snapshotDirs(f.stateDir).length).toBe(2);
    });
  });
}
