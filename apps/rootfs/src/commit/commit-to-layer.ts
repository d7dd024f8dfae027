// CommitToLayer: an active snapshot's changes → a gzip layer blob in the image-store, plus its diff id.
// The blob is made in a temporary file first (its digest must be known before the upload starts: the
// image-store stores nothing under a digest it did not check), then uploaded and the file removed.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { dumpXattrs } from '../fs/special-files';
import type { Snapshotter } from '../snapshots/snapshotter';
import type { BlobSink } from './content-writer';
import { packChanges } from './layer-tar';

export const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

export interface CommittedLayer {
  mediaType: string;
  digest: string;
  size: number;
  diffId: string;
}

function hashing(h: ReturnType<typeof createHash>, count?: { n: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      if (count) count.n += chunk.length;
      cb(null, chunk);
    },
  });
}

export async function commitToLayer(sn: Snapshotter, key: string, sink: BlobSink, tmpDir: string): Promise<CommittedLayer> {
  const changes = await sn.layerChanges(key);
  const src = await sn.contentDir(key);
  const xattrs = await dumpXattrs([src], '-');
  fs.mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  const tmp = path.join(tmpDir, `layer-${randomBytes(8).toString('hex')}.tar.gz`);
  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  const size = { n: 0 };
  try {
    const pack = tar.pack();
    const writing = pipeline(Readable.from(pack), hashing(diffHash), zlib.createGzip({ level: 6 }), hashing(blobHash, size), fs.createWriteStream(tmp, { mode: 0o600 }));
    writing.catch(() => undefined);
    try {
      await packChanges(pack, changes, src, xattrs);
    } catch (err) {
      pack.destroy(err as Error);
      throw err;
    }
    await writing;
    const digest = 'sha256:' + blobHash.digest('hex');
    await sink.put(tmp, digest, size.n);
    return { mediaType: LAYER_MEDIA_TYPE, digest, size: size.n, diffId: 'sha256:' + diffHash.digest('hex') };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
