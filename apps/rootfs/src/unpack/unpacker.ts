// Unpack: an image's layers become committed snapshots keyed by chain id, each layer once however many
// images share it. A layer is extracted into a fresh active snapshot, checked against its diff id and
// only then committed under its chain id: a failure leaves nothing that looks unpacked.
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { chainIds, isDigest } from '@berth/oci';
import { BerthError } from '@berth/service-kit';
import { BadArchiveError, BadLayerRequestError, BlobDigestMismatchError, DiffIdMismatchError, SnapshotExistsError } from '../errors';
import type { Snapshotter } from '../snapshots/snapshotter';
import { LayerApplier } from './apply-layer';
import type { BlobSource } from './blob-source';
import { decompressor, sniff } from './decompress';

/** Decoder failures (tar, gzip, zstd) mean a bad blob: say so with the layer's digest. */
function asArchiveError(layer: LayerRef, err: unknown): unknown {
  if (err instanceof BerthError || !(err instanceof Error)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code && !code.startsWith('Z_') && !code.startsWith('ERR_')) return err;
  return new BadArchiveError(`layer ${layer.digest} is not a readable layer archive: ${err.message}`);
}

export interface LayerRef {
  /** Digest of the (possibly compressed) blob in the image-store. */
  digest: string;
  /** Digest of the uncompressed tar. */
  diffId: string;
}

/** Label on the temporary snapshot a layer is extracted into; start-up removes any left by a crash. */
export const UNPACKING_LABEL = 'berth.unpacking';
export const DIFF_ID_LABEL = 'berth.layer.diff-id';
export const BLOB_LABEL = 'berth.layer.blob';

export interface UnpackedLayer {
  chainId: string;
  parent: string;
  layer: LayerRef;
  image: string;
}

export interface UnpackResult {
  chainId: string;
  /** Layers extracted by this call (0 when every one was there). */
  unpacked: number;
}

export class Unpacker {
  private readonly inflight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly snapshotter: Snapshotter,
    private readonly blobs: BlobSource,
    private readonly onUnpacked: (l: UnpackedLayer) => void = () => undefined,
  ) {}

  /** Removes extraction snapshots a crash left behind. */
  async removeInterrupted(): Promise<number> {
    let n = 0;
    for (const s of await this.snapshotter.list()) {
      if (s.kind === 'active' && s.labels[UNPACKING_LABEL]) {
        await this.snapshotter.remove(s.key, { force: true });
        n++;
      }
    }
    return n;
  }

  async unpack(layers: LayerRef[], image = ''): Promise<UnpackResult> {
    if (layers.length === 0) throw new BadLayerRequestError('unpack needs at least one layer');
    layers.forEach((l, i) => {
      if (!isDigest(l.digest)) throw new BadLayerRequestError(`layer ${i}: blob digest "${l.digest}" is not sha256:<64 hex>`);
      if (!isDigest(l.diffId)) throw new BadLayerRequestError(`layer ${i}: diff_id "${l.diffId}" is not sha256:<64 hex>`);
    });
    const chain = chainIds(layers.map((l) => l.diffId));
    let unpacked = 0;
    for (let i = 0; i < layers.length; i++) {
      const chainId = chain[i]!;
      if (await this.isCommitted(chainId)) continue;
      if (await this.once(chainId, () => this.unpackOne(layers[i]!, chainId, chain[i - 1] ?? '', image))) unpacked++;
    }
    return { chainId: chain[chain.length - 1]!, unpacked };
  }

  private async isCommitted(key: string): Promise<boolean> {
    try {
      return (await this.snapshotter.stat(key)).kind === 'committed';
    } catch {
      return false;
    }
  }

  /** Concurrent unpacks of one chain id share one extraction; the followers report it as not theirs. */
  private async once(chainId: string, fn: () => Promise<boolean>): Promise<boolean> {
    const running = this.inflight.get(chainId);
    if (running) {
      await running;
      return false;
    }
    const p = fn().finally(() => this.inflight.delete(chainId));
    this.inflight.set(chainId, p);
    return p;
  }

  private async unpackOne(layer: LayerRef, chainId: string, parent: string, image: string): Promise<boolean> {
    if (await this.isCommitted(chainId)) return false;
    const key = `extract-${randomBytes(6).toString('hex')}-${chainId}`;
    await this.snapshotter.prepare(key, parent, { [UNPACKING_LABEL]: chainId });
    try {
      await this.extract(layer, await this.snapshotter.contentDir(key));
      await this.snapshotter.commit(chainId, key, { [UNPACKING_LABEL]: '', [DIFF_ID_LABEL]: layer.diffId, [BLOB_LABEL]: layer.digest });
    } catch (err) {
      await this.snapshotter.remove(key, { force: true }).catch(() => undefined);
      // Another process committed the same layer first: it is there, which is all we wanted.
      if (err instanceof SnapshotExistsError && err.key === chainId) return false;
      throw err;
    }
    this.onUnpacked({ chainId, parent, layer, image });
    return true;
  }

  /** Streams the blob through decompression and tar extraction into dir, checking both digests. */
  async extract(layer: LayerRef, dir: string): Promise<void> {
    const blobHash = createHash('sha256');
    const diffHash = createHash('sha256');
    const { compression, stream } = await sniff(this.blobs.open(layer.digest), (b) => blobHash.update(b));
    const applier = new LayerApplier(dir, this.snapshotter.whiteoutMode);
    const extract = tar.extract();
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        diffHash.update(chunk);
        if (extract.write(chunk)) cb();
        else extract.once('drain', () => cb());
      },
      final(cb) {
        extract.end(undefined as never);
        cb();
      },
    });
    const feeding = pipeline(stream, decompressor(compression), sink);
    feeding.catch((err: Error) => extract.destroy(err));
    try {
      for await (const entry of extract) await applier.entry(entry.header, entry);
      await feeding;
    } catch (err) {
      stream.destroy();
      extract.destroy(err as Error);
      await feeding.catch(() => undefined);
      throw asArchiveError(layer, err);
    }
    const blobDigest = 'sha256:' + blobHash.digest('hex');
    if (blobDigest !== layer.digest) throw new BlobDigestMismatchError(layer.digest, blobDigest);
    const diffId = 'sha256:' + diffHash.digest('hex');
    if (diffId !== layer.diffId) throw new DiffIdMismatchError(layer.digest, layer.diffId, diffId);
    await applier.finish();
  }
}
