// Layer blobs read over gRPC (Content.Read) when the blob file is not on this host.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildLayer, busyboxLayerEntries, type BuiltLayer } from '@berth/testing';
import { NotFoundError, UnavailableError } from '@berth/service-kit';
import { GrpcBlobSource } from '../src/unpack/blob-source';
import { startFakeContentServer, type FakeContentServer } from './fake-content-server';
import { makeFixture, snapshotDirs, type Fixture } from './helpers';

describe('unpack over gRPC Content.Read', () => {
  let f: Fixture;
  let content: FakeContentServer;
  let remote: GrpcBlobSource;
  let busybox: BuiltLayer;
  let extra: BuiltLayer;
  let sockDir: string;

  beforeAll(async () => {
    busybox = await buildLayer(busyboxLayerEntries(), 'gzip');
    extra = await buildLayer([{ type: 'file', path: 'etc/remote', content: 'over grpc\n' }]);
  });
  beforeEach(async () => {
    sockDir = fs.mkdtempSync('/tmp/br-');
    content = await startFakeContentServer(path.join(sockDir, 'c.sock'));
    remote = new GrpcBlobSource(content.target);
    f = makeFixture('overlay', remote);
  });
  afterEach(async () => {
    f.cleanup();
    remote.close();
    await content.close();
    fs.rmSync(sockDir, { recursive: true, force: true });
  });

  test('blobs absent from the host are streamed from the image-store', async () => {
    for (const l of [busybox, extra]) content.blobs.set(l.digest, l.blob);
    const res = await f.unpacker.unpack([busybox, extra].map((l) => ({ digest: l.digest, diffId: l.diffId })));
    expect(res.unpacked).toBe(2);
    expect(f.blobs.localReads).toBe(0);
    expect(content.reads).toEqual([busybox.digest, extra.digest]);
    const root = f.mount(await f.sn.prepare('c', res.chainId));
    expect(fs.readFileSync(path.join(root, 'etc/remote'), 'utf8')).toBe('over grpc\n');
    expect(fs.statSync(path.join(root, 'bin/busybox')).size).toBe(fs.statSync('/bin/busybox').size);
  });

  test('the local file wins when both have the blob', async () => {
    content.blobs.set(busybox.digest, busybox.blob);
    await f.unpacker.unpack([f.addLayer(busybox)]);
    expect([f.blobs.localReads, content.reads.length]).toEqual([1, 0]);
  });

  test('an image-store that cannot be reached is UNAVAILABLE, naming it, and leaves nothing', async () => {
    const away = new GrpcBlobSource('unix://' + path.join(sockDir, 'nobody-here.sock'));
    const g = makeFixture('overlay', away);
    try {
      const err = await g.unpacker.unpack([{ digest: extra.digest, diffId: extra.diffId }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as Error).message).toMatch(/^image-store cannot be reached: /);
      expect(await g.sn.list()).toEqual([]);
      expect(snapshotDirs(g.stateDir)).toEqual([]);
    } finally {
      g.cleanup();
      away.close();
    }
  });

  test('a blob neither has is NOT_FOUND and leaves nothing', async () => {
    const err = await f.unpacker.unpack([{ digest: extra.digest, diffId: extra.diffId }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toContain(extra.digest);
    expect(await f.sn.list()).toEqual([]);
    expect(snapshotDirs(f.stateDir)).toEqual([]);
  });
});
