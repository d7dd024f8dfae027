// CommitToLayer, then Unpack of the layer it made: the new image shows what the container showed.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { buildLayer, busyboxLayerEntries, type BuiltLayer } from '@berth/testing';
import { commitToLayer } from '../src/commit/commit-to-layer';
import { GrpcBlobSink } from '../src/commit/content-writer';
import { startFakeContentServer, type FakeContentServer } from './fake-content-server';
import { exists, makeFixture, treeDigest, type Fixture } from './helpers';

async function tarNames(gz: Buffer): Promise<string[]> {
  const names: string[] = [];
  const ex = tar.extract();
  ex.end(zlib.gunzipSync(gz));
  for await (const e of ex) {
    names.push(e.header.name);
    e.resume();
  }
  return names;
}

for (const driver of ['overlay', 'copy'] as const) {
  describe(`CommitToLayer (${driver})`, () => {
    let f: Fixture;
    let content: FakeContentServer;
    let sink: GrpcBlobSink;
    let busybox: BuiltLayer;
    let app: BuiltLayer;

    beforeAll(async () => {
      busybox = await buildLayer(busyboxLayerEntries(), 'gzip');
      app = await buildLayer([
        { type: 'dir', path: 'srv/' },
        { type: 'dir', path: 'srv/data/' },
        { type: 'file', path: 'srv/data/old', content: 'old' },
        { type: 'file', path: 'srv/data/b', content: 'b' },
        { type: 'dir', path: 'srv/keep/' },
        { type: 'file', path: 'srv/keep/k', content: 'k' },
      ]);
    });
    beforeEach(async () => {
      f = makeFixture(driver);
      content = await startFakeContentServer(path.join(f.base, 'content.sock'));
      sink = GrpcBlobSink.connect(content.target);
    });
    afterEach(async () => {
      sink.close();
      await content.close();
      f.cleanup();
    });

    test('the layer holds the container’s changes, whiteouts in OCI form, and unpacks to the same root', async () => {
      const base = await f.unpacker.unpack([busybox, app].map((l) => f.addLayer(l)));
      const root = f.mount(await f.sn.prepare('c1', base.chainId));
      fs.writeFileSync(path.join(root, 'etc/motd'), 'welcome\n');
      fs.appendFileSync(path.join(root, 'etc/passwd'), 'app:x:1000:1000::/:/bin/sh\n');
      fs.rmSync(path.join(root, 'var/www/index.html'));
      fs.rmSync(path.join(root, 'srv/keep'), { recursive: true });
      // Removing a lower directory and making it again: overlay marks the new one opaque.
      fs.rmSync(path.join(root, 'srv/data'), { recursive: true });
      fs.mkdirSync(path.join(root, 'srv/data'));
      fs.writeFileSync(path.join(root, 'srv/data/new'), 'new');
      fs.writeFileSync(path.join(root, 'hard1'), 'linked');
      fs.linkSync(path.join(root, 'hard1'), path.join(root, 'hard2'));
      fs.symlinkSync('/etc/motd', path.join(root, 'motd-link'));
      fs.writeFileSync(path.join(root, 'ping'), 'not really ping', { mode: 0o755 });
      execFileSync('setcap', ['cap_net_raw+ep', path.join(root, 'ping')]);
      execFileSync('setfattr', ['-n', 'user.bin', '-v', '0xff00c3fe80', path.join(root, 'ping')]);
      // Tar keeps whole seconds of mtime; directories' times change as whiteouts are made.
      const expected = treeDigest(root, { dirTimes: false, wholeSeconds: true });

      const layer = await commitToLayer(f.sn, 'c1', sink, path.join(f.stateDir, 'tmp'));
      expect(layer.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
      const blob = content.blobs.get(layer.digest)!;
      expect(blob.length).toBe(layer.size);
      expect(fs.readdirSync(path.join(f.stateDir, 'tmp'))).toEqual([]);
      const names = await tarNames(blob);
      expect(names).toEqual(expect.arrayContaining(['etc/', 'etc/motd', 'etc/passwd', 'var/www/.wh.index.html', 'srv/.wh.keep', 'srv/data/new', 'hard1', 'hard2', 'motd-link']));
      if (driver === 'overlay') expect(names).toContain('srv/data/.wh..wh..opq');
      else expect(names).toEqual(expect.arrayContaining(['srv/data/.wh.old', 'srv/data/.wh.b']));
      expect(names).not.toContain('bin/busybox');

      fs.writeFileSync(path.join(f.blobsDir, layer.digest.slice(7)), blob);
      const next = await f.unpacker.unpack([
        ...[busybox, app].map((l) => f.addLayer(l)),
        { digest: layer.digest, diffId: layer.diffId },
      ]);
      expect(next.unpacked).toBe(1);
      const view = f.mount(await f.sn.view('v', next.chainId));
      expect(treeDigest(view, { dirTimes: false, wholeSeconds: true })).toBe(expected);
      expect(exists(path.join(view, 'srv/data/old'))).toBe(false);
      expect(fs.lstatSync(path.join(view, 'hard2')).ino).toBe(fs.lstatSync(path.join(view, 'hard1')).ino);
      const attrs = execFileSync('getfattr', ['--absolute-names', '-e', 'hex', '-d', '-m', '-', path.join(view, 'ping')]).toString();
      expect(attrs).toContain('user.bin=0xff00c3fe80');
      expect(execFileSync('getcap', [path.join(view, 'ping')]).toString()).toContain('cap_net_raw=ep');
      expect(attrs).not.toContain('trusted.overlay');
    });

    test('an unchanged container makes an empty layer', async () => {
      const base = await f.unpacker.unpack([busybox].map((l) => f.addLayer(l)));
      await f.sn.prepare('c1', base.chainId);
      const layer = await commitToLayer(f.sn, 'c1', sink, path.join(f.stateDir, 'tmp'));
      expect(await tarNames(content.blobs.get(layer.digest)!)).toEqual([]);
    });
  });
}
