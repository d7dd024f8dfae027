// gRPC clients of a bench berth instance, and the load flow (import + unpack) as `berth load` does it.
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { imagesV1, snapshotsV1 } from '@berth/api';
import { serviceTarget } from '@berth/service-kit';

export interface Clients {
  images: imagesV1.ImagesClient;
  snapshots: snapshotsV1.SnapshotsClient;
  close(): void;
}

export function connectClients(env: NodeJS.ProcessEnv): Clients {
  const creds = grpc.credentials.createInsecure();
  const images = new imagesV1.ImagesClient(serviceTarget('image-store', env), creds);
  const snapshots = new snapshotsV1.SnapshotsClient(serviceTarget('rootfs', env), creds);
  return { images, snapshots, close: () => (images.close(), snapshots.close()) };
}

function unaryCall<Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res!))));
}

/** Streams an archive file into Images.Import, then unpacks every imported image: ready to run. */
export async function loadAndUnpack(c: Clients, archive: string): Promise<{ names: string[]; chainIds: string[]; importMs: number; unpackMs: number }> {
  const t0 = performance.now();
  const imported = await new Promise<imagesV1.ImportResponse>((resolve, reject) => {
    const call = c.images.import((err, res) => (err ? reject(err) : resolve(res!)));
    call.write({ part: { $case: 'options', value: { format: 'auto', name: '', changes: [], message: '' } } });
    const rs = fs.createReadStream(archive, { highWaterMark: 1 << 20 });
    rs.on('data', (chunk) => {
      if (!call.write({ part: { $case: 'data', value: chunk as Buffer } })) {
        rs.pause();
        call.once('drain', () => rs.resume());
      }
    });
    rs.on('end', () => call.end());
    rs.on('error', reject);
  });
  const names = imported.images.map((i) => i.name);
  const t1 = performance.now();
  const chainIds: string[] = [];
  for (const name of names) {
    const got = await unaryCall<imagesV1.GetImageRequest, imagesV1.GetImageResponse>((r, cb) => c.images.get(r, cb), { reference: name });
    const r = got.resolved!;
    const layers = r.layers.map((blob, i) => ({ blob, diffId: r.diffIds[i]! }));
    const res = await unaryCall<snapshotsV1.UnpackRequest, snapshotsV1.UnpackResponse>((r, cb) => c.snapshots.unpack(r, cb), { layers, image: name });
    chainIds.push(res.chainId);
  }
  return { names, chainIds, importMs: t1 - t0, unpackMs: performance.now() - t1 };
}

/** Removes the images and their committed snapshots again (top layer first). */
export async function unloadImage(c: Clients, names: string[]): Promise<void> {
  for (const name of names) {
    const got = await unaryCall<imagesV1.GetImageRequest, imagesV1.GetImageResponse>((r, cb) => c.images.get(r, cb), { reference: name }).catch(() => undefined);
    await unaryCall<imagesV1.DeleteImageRequest, imagesV1.DeleteImageResponse>((r, cb) => c.images.delete(r, cb), { reference: name, force: true }).catch(() => undefined);
    if (!got?.resolved) continue;
    const { chainIds } = await import('@berth/oci');
    for (const id of chainIds(got.resolved.diffIds).reverse()) {
      await unaryCall<snapshotsV1.RemoveRequest, unknown>((r, cb) => c.snapshots.remove(r, cb), snapshotsV1.RemoveRequest.fromPartial({ key: id })).catch(() => undefined);
    }
  }
}

export { unaryCall };
