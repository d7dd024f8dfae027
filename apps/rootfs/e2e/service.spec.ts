// The built rootfs service as its own process: gRPC calls end to end, events on NATS.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { snapshotsV1 } from '@berth/api';
import { EventBus, type Envelope } from '@berth/events';
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
import { startFakeContentServer, type FakeContentServer } from './fake-content-server';

type Client = snapshotsV1.SnapshotsClient;

function call<Req, Res>(client: Client, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void>)[method]!.call(client, req, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('rootfs service process', () => {
  let nats: NatsServerHandle;
  let dirs: ReturnType<typeof tempBerthDirs>;
  let content: FakeContentServer;
  let proc: ServiceProcess;
  let client: Client;
  let bus: EventBus;
  const events: Envelope[] = [];
  let busybox: BuiltLayer;
  let app: BuiltLayer;
  let mnt: string | undefined;

  beforeAll(async () => {
    busybox = await buildLayer(busyboxLayerEntries(), 'gzip');
    app = await buildLayer([{ type: 'file', path: 'etc/app.conf', content: 'v1\n' }], 'gzip');
    nats = await startNatsServer();
    dirs = tempBerthDirs();
    // busybox is on this host (fast path); app only in the image-store (gRPC).
    const blobs = path.join(dirs.root, 'image-store', 'blobs', 'sha256');
    fs.mkdirSync(blobs, { recursive: true });
    fs.writeFileSync(path.join(blobs, busybox.digest.slice(7)), busybox.blob);
    content = await startFakeContentServer(path.join(dirs.runDir, 'image-store.sock'));
    content.blobs.set(app.digest, app.blob);
    bus = await EventBus.connect({ url: nats.url, source: 'test', node: 'test' });
    bus.subscribe('snapshot.>', (ev) => events.push(ev));
    proc = spawnService({ service: 'rootfs', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
    await waitHealthy(proc);
    client = new snapshotsV1.SnapshotsClient(proc.target, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    if (mnt) unmountAll(mnt);
    client?.close();
    await proc?.stop();
    await bus?.close();
    await content?.close();
    await nats?.dispose();
    dirs?.cleanup();
  });

  test('Unpack, Prepare, Mounts, Stat, Changes, Usage, Remove over gRPC, with events', async () => {
    const layers = [busybox, app].map((l) => ({ blob: { mediaType: l.mediaType, digest: l.digest, size: l.blob.length, annotations: {} }, diffId: l.diffId }));
    const unpacked = await call<snapshotsV1.UnpackRequest, snapshotsV1.UnpackResponse>(client, 'unpack', { layers, image: 'test:1' });
    expect(unpacked.unpacked).toBe(2);
    expect(content.reads).toEqual([app.digest]);
    const again = await call<snapshotsV1.UnpackRequest, snapshotsV1.UnpackResponse>(client, 'unpack', { layers, image: 'test:2' });
    expect(again).toEqual({ chainId: unpacked.chainId, unpacked: 0 });

    const prepared = await call<snapshotsV1.PrepareRequest, snapshotsV1.MountsResponse>(client, 'prepare', {
      key: 'c1',
      parent: unpacked.chainId,
      labels: { 'berth.in-use': 'supervisor' },
    });
    const snaps = path.join(dirs.root, 'rootfs', 'snapshots');
    expect(prepared.mounts).toEqual([
      {
        type: 'overlay',
        source: 'overlay',
        target: '',
        options: ['index=off', `workdir=${snaps}/3/work`, `upperdir=${snaps}/3/fs`, `lowerdir=${snaps}/2/fs:${snaps}/1/fs`],
      },
    ]);
    mnt = fs.mkdtempSync(path.join(dirs.root, 'mnt-'));
    mountSpecs(prepared.mounts, mnt);
    expect(fs.readFileSync(path.join(mnt, 'etc/app.conf'), 'utf8')).toBe('v1\n');
    fs.writeFileSync(path.join(mnt, 'hello'), 'world');
    expect(await call(client, 'mounts', { key: 'c1' })).toEqual(prepared);

    const info = await call<snapshotsV1.StatRequest, snapshotsV1.SnapshotInfo>(client, 'stat', { key: 'c1' });
    expect(info).toMatchObject({ key: 'c1', parent: unpacked.chainId, kind: snapshotsV1.Kind.KIND_ACTIVE, labels: { 'berth.in-use': 'supervisor' }, layerDir: `${snaps}/3/fs` });
    const list = await call<snapshotsV1.ListSnapshotsRequest, snapshotsV1.ListSnapshotsResponse>(client, 'list', { parent: unpacked.chainId });
    expect(list.snapshots.map((s) => s.key)).toEqual(['c1']);
    expect(await call(client, 'changes', { key: 'c1' })).toEqual({ changes: [{ kind: 'A', path: '/hello' }] });
    const usage = await call<snapshotsV1.UsageRequest, snapshotsV1.UsageResponse>(client, 'usage', { key: 'c1' });
    expect(usage.inodes).toBe(2);

    unmountAll(mnt);
    mnt = undefined;
    const refused = await call(client, 'remove', { key: 'c1', force: false, owner: '' }).catch((e: grpc.ServiceError) => e);
    expect((refused as grpc.ServiceError).code).toBe(grpc.status.FAILED_PRECONDITION);
    expect((refused as grpc.ServiceError).details).toMatch(/in use by supervisor/);
    await call(client, 'remove', { key: 'c1', force: false, owner: 'supervisor' });
    const gone = await call(client, 'stat', { key: 'c1' }).catch((e: grpc.ServiceError) => e);
    expect((gone as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);

    const seen = await until('four snapshot events', () => (events.length >= 4 ? events : undefined));
    expect(seen.map((e) => [e.topic, e.subjectId, e.source])).toEqual([
      // The first layer's chain id is its diff id.
      ['snapshot.unpack', busybox.diffId, 'rootfs'],
      ['snapshot.unpack', unpacked.chainId, 'rootfs'],
      ['snapshot.prepare', 'c1', 'rootfs'],
      ['snapshot.remove', 'c1', 'rootfs'],
    ]);
    expect(seen[1]!.body).toEqual({ $case: 'snapshot', value: { key: unpacked.chainId, parent: busybox.diffId, kind: 'committed' } });
    expect(seen[1]!.attributes).toMatchObject({ image: 'test:1', diffId: app.diffId });
  });

  test('bad requests get a status that fits and a message naming what was wrong', async () => {
    const bad = await call(client, 'unpack', { layers: [{ blob: { mediaType: '', digest: 'sha256:nope', size: 0, annotations: {} }, diffId: busybox.diffId }], image: '' }).catch(
      (e: grpc.ServiceError) => e,
    );
    expect([(bad as grpc.ServiceError).code, (bad as grpc.ServiceError).details]).toEqual([grpc.status.INVALID_ARGUMENT, 'layer 0: blob digest "sha256:nope" is not sha256:<64 hex>']);
    const unknown = await call(client, 'prepare', { key: 'c2', parent: 'sha256:' + 'a'.repeat(64), labels: {} }).catch((e: grpc.ServiceError) => e);
    expect((unknown as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    const taken = await call(client, 'view', { key: busybox.diffId, parent: '', labels: {} }).catch((e: grpc.ServiceError) => e);
    expect((taken as grpc.ServiceError).code).toBe(grpc.status.ALREADY_EXISTS);
  });

  test('CommitToLayer stores the writable layer in the image-store', async () => {
    const top = (await call<snapshotsV1.ListSnapshotsRequest, snapshotsV1.ListSnapshotsResponse>(client, 'list', { parent: busybox.diffId })).snapshots[0]!.key;
    const prepared = await call<snapshotsV1.PrepareRequest, snapshotsV1.MountsResponse>(client, 'prepare', { key: 'c3', parent: top, labels: {} });
    mnt = fs.mkdtempSync(path.join(dirs.root, 'mnt-'));
    mountSpecs(prepared.mounts, mnt);
    fs.writeFileSync(path.join(mnt, 'etc/app.conf'), 'v2\n');
    unmountAll(mnt);
    mnt = undefined;
    const res = await call<snapshotsV1.CommitToLayerRequest, snapshotsV1.CommitToLayerResponse>(client, 'commitToLayer', { key: 'c3' });
    expect(res.blob!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(content.blobs.get(res.blob!.digest)?.length).toBe(res.blob!.size);
    expect(res.diffId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('rootfs service drivers', () => {
  let nats: NatsServerHandle;
  let dirs: ReturnType<typeof tempBerthDirs>;

  beforeAll(async () => {
    nats = await startNatsServer();
    dirs = tempBerthDirs();
  });
  afterAll(async () => {
    await nats?.dispose();
    dirs?.cleanup();
  });

  test('BERTH_ROOTFS_DRIVER=copy serves bind mounts of full copies', async () => {
    const proc = spawnService({ service: 'rootfs', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url, env: { BERTH_ROOTFS_DRIVER: 'copy' } });
    const client = new snapshotsV1.SnapshotsClient(proc.target, grpc.credentials.createInsecure());
    try {
      await waitHealthy(proc);
      const res = await call<snapshotsV1.PrepareRequest, snapshotsV1.MountsResponse>(client, 'prepare', { key: 'c1', parent: '', labels: {} });
      expect(res.mounts).toEqual([{ type: 'bind', source: path.join(dirs.root, 'rootfs', 'snapshots', '1', 'fs'), target: '', options: ['rbind', 'rw'] }]);
    } finally {
      client.close();
      await proc.stop();
    }
  });

  test('an unknown driver stops start-up with a message naming the setting', async () => {
    const proc = spawnService({ service: 'rootfs', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url, env: { BERTH_ROOTFS_DRIVER: 'zfs' } });
    const exit = await proc.exited;
    expect(exit.code).toBe(1);
    expect(proc.output()).toContain('berth rootfs: error: unknown snapshot driver "zfs" (BERTH_ROOTFS_DRIVER): use "overlay" or "copy"');
  });
});
