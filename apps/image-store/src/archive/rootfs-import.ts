// `docker import`: a plain root filesystem tarball (uncompressed, gzip or zstd) becomes a one-layer image
// with a fresh config (Dockerfile-style changes applied) and an OCI manifest.
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MediaType, sha256Digest, type Compression, type ImageConfig, type ImageManifest } from '@berth/oci';
import * as tar from 'tar-stream';
import type { ContentStore, Lease } from '../content/content-store';
import { InvalidArchiveError, InvalidImageReferenceError, UnsafeArchivePathError } from '../errors';
import { normaliseName, type Images } from '../images/images';
import { applyChanges } from './config-changes';
import type { ImageCandidate } from './image-candidate';
import { decompressor, LayerFacts } from './layer-facts';

const LAYER_TYPE: Record<Compression, string> = { none: MediaType.OciLayer, gzip: MediaType.OciLayerGzip, zstd: MediaType.OciLayerZstd };
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RootfsImportOptions {
  name: string;
  changes: string[];
  message: string;
}

/** Reads the stored layer back as a tar: it must parse, and no entry may climb out with "..". */
async function checkLayerTar(path: string, compression: Compression): Promise<void> {
  const extract = tar.extract();
  const d = decompressor(compression);
  const feeding = (d ? pipeline(fs.createReadStream(path), d, extract) : pipeline(fs.createReadStream(path), extract)).catch((err: unknown) => err);
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      if (name.split('/').includes('..')) throw new UnsafeArchivePathError(name, 'path traversal ("..")');
      const link = entry.header.linkname;
      if (entry.header.type === 'link' && link && link.split('/').includes('..')) throw new UnsafeArchivePathError(name, `hard link to "${link}" climbs out of the root`);
      entry.resume();
    }
  } catch (err) {
    extract.destroy();
    await feeding;
    if (err instanceof UnsafeArchivePathError) throw err;
    throw new InvalidArchiveError(`root filesystem tarball is truncated or not a tar: ${(err as Error).message}`);
  }
  const err = await feeding;
  if (err) throw new InvalidArchiveError(`root filesystem tarball is truncated or not a tar: ${(err as Error).message}`);
}

export async function importRootfs(
  source: AsyncIterable<Buffer>,
  content: ContentStore,
  images: Images,
  lease: Lease,
  opts: RootfsImportOptions,
): Promise<{ candidate: ImageCandidate; bytesRead: number }> {
  if (!opts.name) throw new InvalidImageReferenceError('a root filesystem import needs a name for the image');
  const name = normaliseName(opts.name);
  const execution = applyChanges({ Env: [DEFAULT_PATH] }, opts.changes);
  const facts = new LayerFacts();
  let bytesRead = 0;
  async function* tee(): AsyncGenerator<Buffer> {
    for await (const c of source) {
      bytesRead += c.length;
      await facts.push(c);
      yield c;
    }
  }
  const layer = await content.writeStream(Readable.from(tee()), { lease, what: 'root filesystem tarball' });
  const f = await facts.finish(layer.digest);
  if (!f.diffId) throw new InvalidArchiveError(`root filesystem tarball does not decompress: ${f.error ?? 'unknown error'}`);
  await checkLayerTar(content.blobPath(layer.digest), f.compression);
  const created = new Date().toISOString();
  const config: ImageConfig = {
    created,
    architecture: 'amd64',
    os: 'linux',
    config: execution,
    rootfs: { type: 'layers', diff_ids: [f.diffId] },
    history: [{ created, created_by: 'berth import', ...(opts.message ? { comment: opts.message } : {}) }],
  };
  const configJson = Buffer.from(JSON.stringify(config));
  await content.writeStream([configJson], { expectedDigest: sha256Digest(configJson), expectedSize: configJson.length, lease });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: sha256Digest(configJson), size: configJson.length },
    layers: [{ mediaType: LAYER_TYPE[f.compression], digest: layer.digest, size: layer.size }],
  };
  const manifestJson = Buffer.from(JSON.stringify(manifest));
  const digest = sha256Digest(manifestJson);
  await content.writeStream([manifestJson], { expectedDigest: digest, expectedSize: manifestJson.length, lease });
  const target = { mediaType: MediaType.OciManifest, digest, size: manifestJson.length };
  return {
    candidate: { names: [name], target, resolution: images.resolve(target), layerInfo: [{ digest: layer.digest, diffId: f.diffId, uncompressedSize: f.uncompressedSize! }] },
    bytesRead,
  };
}
