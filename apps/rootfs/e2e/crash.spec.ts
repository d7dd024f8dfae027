// A rootfs process killed (SIGKILL) in the middle of an Unpack: after a restart nothing half made looks
// whole, the interrupted extraction and its directory are gone, and the same Unpack then succeeds.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { snapshotsV1 } from '@berth/api';
import { spawnService, startNatsServer, tempBerthDirs, waitHealthy, type NatsServerHandle } from '@berth/testing';

function call<Req, Res>(client: snapshotsV1.SnapshotsClient, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void>)[method]!.call(client, req, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

describe('rootfs killed during Unpack', () => {
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

  test('restart removes the interrupted extraction; Unpack then completes', async () => {
    // A 96 MiB layer (a few seconds to write) stored where the same-host fast path finds it.
    const src = path.join(dirs.root, 'src');
    fs.mkdirSync(src);
    execFileSync('truncate', ['-s', '96M', path.join(src, 'big')]);
    const tarFile = path.join(dirs.root, 'layer.tar');
    execFileSync('tar', ['--numeric-owner', '-C', src, '-cf', tarFile, 'big']);
    fs.rmSync(src, { recursive: true });
    const digest = 'sha256:' + execFileSync('sha256sum', [tarFile]).toString().split(' ')[0];
    const blobs = path.join(dirs.root, 'image-store', 'blobs', 'sha256');
    fs.mkdirSync(blobs, { recursive: true });
    fs.renameSync(tarFile, path.join(blobs, digest.slice(7)));
    const req = { layers: [{ blob: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: 96 << 20, annotations: {} }, diffId: digest }], image: 'big:1' };

    const first = spawnService({ service: 'rootfs', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
    const c1 = new snapshotsV1.SnapshotsClient(first.target, grpc.credentials.createInsecure());
    try {
      await waitHealthy(first);
      const unpacking = call(c1, 'unpack', req).catch((e: unknown) => e);
      // Kill it once the extraction snapshot exists and its file is being written.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const list = await call<snapshotsV1.ListSnapshotsRequest, snapshotsV1.ListSnapshotsResponse>(c1, 'list', { parent: '' });
        const extracting = list.snapshots.find((s) => s.labels['berth.unpacking']);
        if (extracting && fs.existsSync(path.join(extracting.layerDir, 'big'))) break;
        if (Date.now() > deadline) throw new Error('the extraction never started');
        await new Promise((r) => setTimeout(r, 10));
      }
      first.child.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      expect(await unpacking).toBeInstanceOf(Error);
    } finally {
      c1.close();
      await first.stop();
    }
    const snaps = path.join(dirs.root, 'rootfs', 'snapshots');
    expect(fs.readdirSync(snaps).length).toBe(1);

    const second = spawnService({ service: 'rootfs', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
    const c2 = new snapshotsV1.SnapshotsClient(second.target, grpc.credentials.createInsecure());
    try {
      await waitHealthy(second);
      expect((await call<snapshotsV1.ListSnapshotsRequest, snapshotsV1.ListSnapshotsResponse>(c2, 'list', { parent: '' })).snapshots).toEqual([]);
      expect(fs.readdirSync(snaps)).toEqual([]);
      const res = await call<snapshotsV1.UnpackRequest, snapshotsV1.UnpackResponse>(c2, 'unpack', req);
      expect(res).toEqual({ chainId: digest, unpacked: 1 });
      const info = await call<snapshotsV1.StatRequest, snapshotsV1.SnapshotInfo>(c2, 'stat', { key: digest });
      expect(fs.statSync(path.join(info.layerDir, 'big')).size).toBe(96 << 20);
    } finally {
      c2.close();
      await second.stop();
    }
  });
});
