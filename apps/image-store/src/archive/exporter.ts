// Export (docker save): a docker-archive (manifest.json, <config>.json, uncompressed <diffid>.tar layers,
// as docker load and skopeo read) or an OCI image layout archive (oci-layout, index.json, blobs as
// stored). Blobs stream from disk through the tar packer; nothing is held whole in memory.
import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { familiarName, MediaType, parseReference, type Descriptor } from '@berth/oci';
import * as tar from 'tar-stream';
import type { ContentStore } from '../content/content-store';
import { InvalidArchiveError } from '../errors';
import type { ImageDetail, Images } from '../images/images';
import type { MetaDb } from '../meta-db';
import { decompressor, LayerFacts } from './layer-facts';
import { sniffCompression } from '@berth/oci';

const FIXED_MTIME = new Date('1970-01-01T00:00:00Z');

export type ExportFormat = 'docker-archive' | 'oci-archive';

export function parseExportFormat(f: string): ExportFormat {
  if (!f || f === 'docker-archive' || f === 'docker') return 'docker-archive';
  if (f === 'oci-archive' || f === 'oci') return 'oci-archive';
  throw new InvalidArchiveError(`export format "${f}" is not "docker-archive" or "oci-archive"`);
}

export class Exporter {
  constructor(
    private readonly content: ContentStore,
    private readonly images: Images,
    private readonly db: MetaDb,
  ) {}

  /** Resolves every reference first (so a bad one fails before any byte is sent), then streams the tar. */
  export(references: string[], format: ExportFormat): AsyncGenerator<Buffer> {
    if (!references.length) throw new InvalidArchiveError('export needs at least one image reference');
    const details = references.map((r) => ({ ref: r, detail: this.images.get(r) }));
    return this.stream(details, format);
  }

  private async *stream(details: { ref: string; detail: ImageDetail }[], format: ExportFormat): AsyncGenerator<Buffer> {
    const pack = tar.pack();
    const producing = (format === 'oci-archive' ? this.writeOci(pack, details) : this.writeDocker(pack, details)).then(
      () => pack.finalize(),
      (err: unknown) => pack.destroy(err as Error),
    );
    for await (const chunk of pack as AsyncIterable<Buffer>) yield chunk;
    await producing;
  }

  private async addBuffer(pack: tar.Pack, name: string, data: Buffer): Promise<void> {
    await new Promise<void>((resolve, reject) => pack.entry({ name, size: data.length, mode: 0o644, mtime: FIXED_MTIME }, data, (err) => (err ? reject(err) : resolve())));
  }

  private async addBlob(pack: tar.Pack, name: string, digest: string, size: number, uncompress = false): Promise<void> {
    const path = this.content.blobPath(digest);
    const compression = uncompress ? await this.compressionOf(path) : 'none';
    const d = decompressor(compression);
    const entrySize = d ? await this.uncompressedSize(digest, path) : size;
    const entry = pack.entry({ name, size: entrySize, mode: 0o644, mtime: FIXED_MTIME });
    if (d) await pipeline(fs.createReadStream(path), d, entry);
    else await pipeline(fs.createReadStream(path), entry);
  }

  private async compressionOf(path: string): Promise<ReturnType<typeof sniffCompression>> {
    const fh = await fs.promises.open(path, 'r');
    try {
      const buf = Buffer.alloc(4);
      const { bytesRead } = await fh.read(buf, 0, 4, 0);
      return sniffCompression(buf.subarray(0, bytesRead));
    } finally {
      await fh.close();
    }
  }

  /** The uncompressed size of a layer: remembered at import/pull, else learnt by one pass over the blob. */
  private async uncompressedSize(digest: string, path: string): Promise<number> {
    const known = this.db.getLayerInfo(digest);
    if (known) return known.uncompressed_size;
    const facts = new LayerFacts();
    for await (const c of fs.createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) await facts.push(c);
    const f = await facts.finish(digest);
    if (!f.diffId) throw new InvalidArchiveError(`layer ${digest} does not decompress: ${f.error ?? 'unknown error'}`);
    this.db.putLayerInfo(digest, f.diffId, f.uncompressedSize!);
    return f.uncompressedSize!;
  }

  private async writeDocker(pack: tar.Pack, details: { ref: string; detail: ImageDetail }[]): Promise<void> {
    const written = new Set<string>();
    const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    for (const { detail } of details) {
      const r = detail.resolved;
      const configName = `${r.config.digest.slice(7)}.json`;
      if (!written.has(configName)) {
        written.add(configName);
        await this.addBuffer(pack, configName, r.configJson);
      }
      const layers: string[] = [];
      for (const [i, l] of r.layers.entries()) {
        const name = `${r.diffIds[i]!.slice(7)}.tar`;
        layers.push(name);
        if (written.has(name)) continue;
        written.add(name);
        await this.addBlob(pack, name, l.digest, l.size, true);
      }
      // An export by id carries every name of the image; an export by name carries that name.
      const byName = detail.byName === true;
      const tags = (byName ? [detail.image.name] : r.names).filter((n) => !parseReference(n).digest).map(familiarName);
      manifest.push({ Config: configName, RepoTags: tags, Layers: layers });
    }
    await this.addBuffer(pack, 'manifest.json', Buffer.from(JSON.stringify(manifest)));
  }

  private async writeOci(pack: tar.Pack, details: { ref: string; detail: ImageDetail }[]): Promise<void> {
    await this.addBuffer(pack, 'oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    const written = new Set<string>();
    const manifests: Descriptor[] = [];
    for (const { detail } of details) {
      const blobs = [detail.image.target, detail.resolved.manifest, detail.resolved.config, ...detail.resolved.layers];
      for (const b of blobs) {
        if (written.has(b.digest)) continue;
        written.add(b.digest);
        await this.addBlob(pack, `blobs/sha256/${b.digest.slice(7)}`, b.digest, b.size);
      }
      const names = detail.byName ? [detail.image.name] : detail.resolved.names;
      for (const n of names) {
        const parsed = parseReference(n);
        const annotations: Record<string, string> = { 'io.containerd.image.name': n };
        if (parsed.tag) annotations['org.opencontainers.image.ref.name'] = parsed.tag;
        const t = detail.image.target;
        manifests.push({ mediaType: t.mediaType, digest: t.digest, size: t.size, annotations });
      }
    }
    const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
    await this.addBuffer(pack, 'index.json', Buffer.from(JSON.stringify(index)));
  }
}
