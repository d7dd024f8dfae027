// Pull: resolve a reference in a registry to its linux/amd64 manifest, fetch the config and the layers
// (at most 3 at a time, each through the content store's verified, resumable write; blobs already stored
// are skipped), check every layer's uncompressed digest against the config, then record the name.
// Progress is yielded to the caller; a failed pull removes the blobs it committed (its lease), while the
// partial bytes of a broken download stay under their ref so the next pull resumes them.
import * as fs from 'node:fs';
import { isIndexMediaType, parseReference, sha256Digest, type Descriptor } from '@berth/oci';
import type { ContentStore, Lease } from '../content/content-store';
import { ArchiveDigestError, DigestMismatchError, InvalidArchiveError } from '../errors';
import { normaliseName, type ImageRecord, type Images } from '../images/images';
import { documentMediaType, formatPlatform, parseConfig, parseJson, parseIndex, parseManifest, parsePlatform, selectPlatform } from '../images/manifests';
import type { MetaDb } from '../meta-db';
import { LayerFacts } from '../archive/layer-facts';
import { EventQueue } from './event-queue';
import { RegistryClient, type RegistryClientOptions } from './registry-client';

export const PULL_CONCURRENCY = 3;
const PROGRESS_EVERY_BYTES = 1 << 20;

export type PullEvent =
  | { type: 'resolved'; manifest: Descriptor; blobs: Descriptor[] }
  | { type: 'blob'; digest: string; offset: number; total: number; status: 'downloading' | 'exists' | 'verifying' | 'done' }
  | { type: 'done'; image: ImageRecord };

export interface PullOptions {
  insecureRegistries?: string[];
  username?: string;
  password?: string;
  platform?: string;
  /** Aborts the pull (the caller went away): downloads stop, the lease is released. */
  signal?: AbortSignal;
}

export class Puller {
  /** Downloads in flight by digest, so concurrent pulls of one layer fetch it once. */
  private readonly inflight = new Map<string, Promise<{ diffId: string; size: number } | undefined>>();

  constructor(
    private readonly content: ContentStore,
    private readonly images: Images,
    private readonly db: MetaDb,
  ) {}

  async *pull(reference: string, opts: PullOptions = {}): AsyncGenerator<PullEvent> {
    const name = normaliseName(reference);
    const ref = parseReference(name);
    const platform = parsePlatform(opts.platform);
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) abort.abort();
    const clientOpts: RegistryClientOptions = { signal: abort.signal };
    if (opts.insecureRegistries) clientOpts.insecureRegistries = opts.insecureRegistries;
    if (opts.username !== undefined) clientOpts.username = opts.username;
    if (opts.password !== undefined) clientOpts.password = opts.password;
    const client = new RegistryClient(ref, clientOpts);
    const lease = this.content.lease();
    const tasks: Promise<unknown>[] = [];
    try {
      const wanted = ref.digest ?? ref.tag!;
      const top = await client.manifest(wanted, name);
      const topDigest = sha256Digest(top.data);
      if (ref.digest && topDigest !== ref.digest) throw new ArchiveDigestError(`manifest of ${name}: digest mismatch: expected ${ref.digest}, got ${topDigest}`);
      const topDoc = parseJson(`manifest of ${name}`, top.data);
      if (typeof topDoc !== 'object' || topDoc === null || Array.isArray(topDoc)) throw new InvalidArchiveError(`manifest of ${name} is not a JSON object`);
      const topType = documentMediaType(topDoc as Record<string, unknown>, top.mediaType || undefined);
      const target: Descriptor = { mediaType: topType, digest: topDigest, size: top.data.length };
      let manifestDesc = target;
      let manifestData = top.data;
      if (isIndexMediaType(topType)) {
        const index = parseIndex(`index of ${name}`, top.data);
        manifestDesc = selectPlatform(`index of ${name}`, index, platform);
        const m = await client.manifest(manifestDesc.digest, `${name} (${manifestDesc.digest})`);
        if (sha256Digest(m.data) !== manifestDesc.digest) throw new ArchiveDigestError(`manifest ${manifestDesc.digest}: digest mismatch`);
        manifestData = m.data;
      }
      const manifest = parseManifest(`manifest of ${name}`, manifestData);
      // Store the documents first: they are small and the lease keeps them until the record is written.
      await this.content.writeStream([top.data], { expectedDigest: topDigest, expectedSize: top.data.length, lease });
      if (manifestDesc !== target) await this.content.writeStream([manifestData], { expectedDigest: manifestDesc.digest, expectedSize: manifestData.length, lease });
      yield { type: 'resolved', manifest: { mediaType: manifestDesc.mediaType, digest: manifestDesc.digest, size: manifestDesc.size }, blobs: [manifest.config, ...manifest.layers] };

      const queue = new EventQueue<PullEvent>();
      const diffIds = new Map<string, { diffId: string; size: number }>();
      const blobs = [manifest.config, ...manifest.layers];
      let next = 0;
      const worker = async () => {
        while (next < blobs.length) {
          const d = blobs[next++]!;
          const facts = await this.fetchBlob(client, d, lease, queue, d !== manifest.config);
          if (facts) diffIds.set(d.digest, facts);
        }
      };
      for (let i = 0; i < Math.min(PULL_CONCURRENCY, blobs.length); i++) tasks.push(worker());
      const all = Promise.all(tasks);
      yield* queue.drainUntil(all);
      await all;

      const configJson = this.content.readAll(manifest.config.digest);
      const config = parseConfig(`config of ${name}`, configJson, manifest.layers.length);
      for (const [i, l] of manifest.layers.entries()) {
        const f = diffIds.get(l.digest) ?? this.knownDiffId(l.digest);
        if (f && f.diffId !== config.rootfs.diff_ids[i]) {
          throw new ArchiveDigestError(`layer ${l.digest} of ${name}: uncompressed digest ${f.diffId} does not match diff id ${config.rootfs.diff_ids[i]}`);
        }
      }
      this.db.tx(() => {
        for (const [digest, f] of diffIds) this.db.putLayerInfo(digest, f.diffId, f.size);
      });
      const image = this.images.record(name, target, { resolution: this.images.resolve(target, formatPlatform(platform)) });
      yield { type: 'done', image };
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      abort.abort();
      await Promise.allSettled(tasks);
      lease.release();
    }
  }

  private knownDiffId(digest: string): { diffId: string; size: number } | undefined {
    const row = this.db.getLayerInfo(digest);
    return row ? { diffId: row.diff_id, size: row.uncompressed_size } : undefined;
  }

  /** Downloads one blob unless stored or already being fetched by another pull. */
  private async fetchBlob(client: RegistryClient, d: Descriptor, lease: Lease, queue: EventQueue<PullEvent>, isLayer: boolean): Promise<{ diffId: string; size: number } | undefined> {
    const running = this.inflight.get(d.digest);
    if (running) {
      const facts = await running;
      lease.add(d.digest, false);
      queue.push({ type: 'blob', digest: d.digest, offset: d.size, total: d.size, status: 'exists' });
      return facts;
    }
    const p = this.download(client, d, lease, queue, isLayer);
    this.inflight.set(d.digest, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(d.digest);
    }
  }

  /** Downloads one blob unless stored; returns the layer facts learnt on the way. */
  private async download(client: RegistryClient, d: Descriptor, lease: Lease, queue: EventQueue<PullEvent>, isLayer: boolean): Promise<{ diffId: string; size: number } | undefined> {
    if (this.content.has(d.digest)) {
      lease.add(d.digest, false);
      queue.push({ type: 'blob', digest: d.digest, offset: d.size, total: d.size, status: 'exists' });
      return undefined;
    }
    const ref = `pull-${d.digest}`;
    let offset = 0;
    try {
      offset = this.content.status(ref).offset;
    } catch {
      offset = 0;
    }
    if (offset >= d.size) offset = 0;
    const { body, resumed } = await client.blob(d.digest, offset);
    if (!resumed) offset = 0;
    const w = await this.content.openWriter({ ref, expectedDigest: d.digest, expectedSize: d.size, offset });
    const facts = isLayer ? new LayerFacts() : undefined;
    try {
      if (facts && offset > 0) {
        for await (const c of fs.createReadStream(`${this.content.ingestPath(ref)}/data`, { end: offset - 1 }) as AsyncIterable<Buffer>) await facts.push(c);
      }
      let reported = offset;
      queue.push({ type: 'blob', digest: d.digest, offset, total: d.size, status: 'downloading' });
      for await (const c of body) {
        await w.write(c);
        if (facts) await facts.push(c);
        if (w.offset - reported >= PROGRESS_EVERY_BYTES) {
          reported = w.offset;
          queue.push({ type: 'blob', digest: d.digest, offset: w.offset, total: d.size, status: 'downloading' });
        }
      }
    } catch (err) {
      // Keep the bytes so the next pull resumes here; an empty start is not worth keeping.
      if (w.offset > 0) await w.suspend();
      else await w.discard();
      throw err;
    }
    queue.push({ type: 'blob', digest: d.digest, offset: w.offset, total: d.size, status: 'verifying' });
    let res;
    try {
      res = await w.commit(`blob ${d.digest}`);
    } catch (err) {
      if (err instanceof DigestMismatchError) throw new ArchiveDigestError(err.message);
      throw err;
    }
    lease.add(res.digest, !res.alreadyExisted);
    queue.push({ type: 'blob', digest: d.digest, offset: res.size, total: d.size, status: 'done' });
    if (!facts) return undefined;
    const f = await facts.finish(d.digest);
    if (!f.diffId) throw new InvalidArchiveError(`layer ${d.digest} does not decompress: ${f.error ?? 'unknown error'}`);
    return { diffId: f.diffId, size: f.uncompressedSize! };
  }
}
