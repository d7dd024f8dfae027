// rootfs against the real image-store process (apps/image-store/dist): blobs written through its
// Content.Write, unpacked by the rootfs process from the blob files (same host) and, in-process, over
// Content.Read; CommitToLayer's blob lands in the image-store.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { contentV1, snapshotsV1 } from '@berth/api';
import {
  buildLayer,
  busyboxLayerEntries,
  mountSpecs,
  spawnService,
  startNatsServer,
  tempBerthDirs,
  unmountAll,
  waitHealthy,
  type BuiltLayer,
  type NatsServerHandle,
  type ServiceProcess,
} from '@berth/testing';
import { GrpcBlobSink } from '../src/commit/content-writer';
import { createSnapshotter, type Snapshotter } from '../src/snapshots';
import { GrpcBlobSource, LocalBlobSource } from '../src/unpack/blob-source';
import { Unpacker } from '../src/unpack/unpacker';

function unaryCall<Req, Res>(client: grpc.Client, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void>)[method]!.call(client, req, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

describe('rootfs with the real image-store', () => {
  let nats: NatsServerHandle;
  let dirs: ReturnType<typeof tempBerthDirs>;
  let store: ServiceProcess;
  let rootfs: ServiceProcess;
  let content: contentV1.ContentClient;
  let snapshots: snapshotsV1.SnapshotsClient;
  let busybox: BuiltLayer;
  let app: BuiltLayer;
  const mounts: string[] = [];

  beforeAll(async () => {
    busybox = await buildLayer(busyboxLayerEntries(), 'gzip');
    app = await buildLayer([{ type: 'file', path: 'etc/app.conf', content: 'from the image-store\n' }], 'gzip');
    nats = await startNatsServer();
    dirs = tempBerthDirs();
    store = spawnService({ service: 'image-store', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
    rootfs = spawnService({ service: 'rootfs', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
    await Promise.all([waitHealthy(store), waitHealthy(rootfs)]);
    content = new contentV1.ContentClient(store.target, grpc.credentials.createInsecure());
    snapshots = new snapshotsV1.SnapshotsClient(rootfs.target, grpc.credentials.createInsecure());
    // Upload both layers through Content.Write, as a pull or an import would store them.
    const sink = new GrpcBlobSink(content);
    for (const l of [busybox, app]) {
      const file = path.join(dirs.root, `upload-${l.digest.slice(7, 19)}`);
      fs.writeFileSync(file, l.blob);
      await sink.put(file, l.digest, l.blob.length);
      fs.rmSync(file);
    }
  });

  afterAll(async () => {
    for (const m of mounts) unmountAll(m);
    snapshots?.close();
    content?.close();
    await rootfs?.stop();
    await store?.stop();
    await nats?.dispose();
    dirs?.cleanup();
  });

  test('the rootfs process unpacks layers the image-store stored, prepares a root, and commits a layer back', async () => {
    expect(fs.existsSync(path.join(dirs.root, 'image-store', 'blobs', 'sha256', busybox.digest.slice(7)))).toBe(true);
    const layers = [busybox, app].map((l) => ({ blob: { mediaType: l.mediaType, digest: l.digest, size: l.blob.length, annotations: {} }, diffId: l.diffId }));
    const res = await unaryCall<snapshotsV1.UnpackRequest, snapshotsV1.UnpackResponse>(snapshots, 'unpack', { layers, image: 'app:1' });
    expect(res.unpacked).toBe(2);
    const prepared = await unaryCall<snapshotsV1.PrepareRequest, snapshotsV1.MountsResponse>(snapshots, 'prepare', { key: 'c1', parent: res.chainId, labels: {} });
    const mnt = fs.mkdtempSync(path.join(dirs.root, 'mnt-'));
    mountSpecs(prepared.mounts, mnt);
    mounts.push(mnt);
    expect(fs.readFileSync(path.join(mnt, 'etc/app.conf'), 'utf8')).toBe('from the image-store\n');
    fs.writeFileSync(path.join(mnt, 'etc/app.conf'), 'changed\n');

    const layer = await unaryCall<snapshotsV1.CommitToLayerRequest, snapshotsV1.CommitToLayerResponse>(snapshots, 'commitToLayer', { key: 'c1' });
    const info = await unaryCall<contentV1.InfoRequest, contentV1.InfoResponse>(content, 'info', { digest: layer.blob!.digest });
    expect(info.info!.size).toBe(layer.blob!.size);
  });

  test('Content.Read streams the same layers to an unpacker without the files', async () => {
    const base = fs.mkdtempSync(path.join(dirs.root, 'inproc-'));
    const remote = new GrpcBlobSource(store.target);
    const local = new LocalBlobSource(path.join(base, 'no-blobs-here'), remote);
    const sn: Snapshotter = createSnapshotter('overlay', path.join(base, 'rootfs'));
    try {
      const res = await new Unpacker(sn, local).unpack([busybox, app].map((l) => ({ digest: l.digest, diffId: l.diffId })));
      expect([res.unpacked, local.localReads]).toEqual([2, 0]);
      const mnt = fs.mkdtempSync(path.join(dirs.root, 'mnt-'));
      mountSpecs(await sn.view('v', res.chainId), mnt);
      mounts.push(mnt);
      expect(fs.readFileSync(path.join(mnt, 'etc/app.conf'), 'utf8')).toBe('from the image-store\n');
    } finally {
      sn.close();
      remote.close();
    }
  });
});
