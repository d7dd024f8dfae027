// Push: send a stored image to a registry as docker push does. The stored manifest and config go
// byte-for-byte (so the registry's digest is the one `berth images --digests` and RepoDigests show), layers
// as the stored compressed blobs. Blobs the registry has (HEAD) are skipped; blobs another repository of the
// same registry holds are mounted; every blob that will be sent is re-hashed first, so a corrupt store is
// refused before a byte goes out. The manifest goes last, once every blob it names is there.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { parseReference, sha256Digest, type Descriptor, type ImageReference } from '@berth/oci';
import type { ContentStore } from '../content/content-store';
import { imageEvent, NO_EVENTS, type EventSink } from '../events';
import { danglingName, normaliseName, type Images } from '../images/images';
import type { MetaDb } from '../meta-db';
import { EventQueue } from '../pull/event-queue';
import { RegistryClient, type RegistryClientOptions } from '../pull/registry-client';
import { PushTargetError, StoredBlobCorruptError } from '../errors';

export const PUSH_CONCURRENCY = 3;
const PROGRESS_EVERY_BYTES = 1 << 20;

export type PushBlobStatus = 'exists' | 'mounted' | 'uploading' | 'pushed';

export type PushEvent =
  | { type: 'resolved'; manifest: Descriptor; blobs: Descriptor[] }
  | { type: 'blob'; digest: string; offset: number; total: number; status: PushBlobStatus; mountedFrom?: string }
  | { type: 'done'; reference: string; digest: string; size: number; mediaType: string };

export interface PushOptions {
  insecureRegistries?: string[];
  username?: string;
  password?: string;
  /** Where to push; empty: the image's own name. */
  target?: string;
  /** Aborts the uploads (the caller went away). */
  signal?: AbortSignal;
}

/** Runs `fn` over items at most `n` at a time; the first failure aborts the rest (they see `signal`). */
async function eachLimited<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

export class Pusher {
  constructor(
    private readonly content: ContentStore,
    private readonly images: Images,
    private readonly db: MetaDb,
    private readonly events: EventSink = NO_EVENTS,
  ) {}

  async *push(reference: string, opts: PushOptions = {}): AsyncGenerator<PushEvent> {
    const detail = this.images.get(reference);
    const dest = this.destination(reference, detail.byName === true ? detail.image.name : undefined, opts.target);
    const r = detail.resolved;
    const manifestDesc = r.manifest;
    if (dest.digest && dest.digest !== manifestDesc.digest) {
      throw new PushTargetError(`cannot push ${reference} as ${formatDest(dest)}: its manifest is ${manifestDesc.digest}`);
    }
    const lease = this.content.lease();
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) abort.abort();
    const blobs = [r.config, ...r.layers.filter((l, i, all) => all.findIndex((o) => o.digest === l.digest) === i)];
    try {
      for (const d of [manifestDesc.digest, ...blobs.map((b) => b.digest)]) lease.add(d, false);
      // The documents are small: read and check them whole; the manifest is sent exactly as stored.
      const manifestData = this.images.readDocument('manifest', manifestDesc);
      const configData = this.images.readDocument('config', r.config);
      checkDigest('manifest', manifestDesc, manifestData);
      checkDigest('config', r.config, configData);
      yield { type: 'resolved', manifest: manifestDesc, blobs: [r.config, ...r.layers] };

      const mountFrom = new Map<string, string>();
      for (const b of blobs) {
        const from = this.mountSource(b.digest, dest);
        if (from) mountFrom.set(b.digest, from);
      }
      const clientOpts: RegistryClientOptions = { signal: abort.signal, push: true, mountFrom: [...new Set(mountFrom.values())] };
      if (opts.insecureRegistries) clientOpts.insecureRegistries = opts.insecureRegistries;
      if (opts.username !== undefined) clientOpts.username = opts.username;
      if (opts.password !== undefined) clientOpts.password = opts.password;
      const client = new RegistryClient({ domain: dest.domain, path: dest.path }, clientOpts);

      // 1. What the registry already has: skipped. Sequential HEADs first also settle the auth once.
      const missing: Descriptor[] = [];
      for (const b of blobs) {
        if (await client.hasBlob(b.digest)) yield { type: 'blob', digest: b.digest, offset: b.size, total: b.size, status: 'exists' };
        else missing.push(b);
      }
      // 2. Every blob that will be sent is checked against its digest before anything is sent.
      for (const b of missing) {
        if (b.digest === r.config.digest) continue;
        await this.verifyBlob(b);
      }
      // 3. Mount or upload, a few at a time.
      const progress = new EventQueue<PushEvent>();
      const work = eachLimited(missing, PUSH_CONCURRENCY, (b) => this.sendBlob(client, b, b.digest === r.config.digest ? configData : undefined, mountFrom.get(b.digest), progress));
      yield* progress.drainUntil(work);
      await work;

      // 4. The manifest last: the registry checks that every blob it names is there.
      const answered = await client.putManifest(dest.tag ?? manifestDesc.digest, manifestDesc.mediaType, manifestData);
      const digest = sha256Digest(manifestData);
      if (answered && answered !== digest) throw new PushTargetError(`registry ${dest.domain} stored manifest ${digest} as ${answered}`);
      const pushed = formatDest(dest);
      this.recordRepoDigest(dest, manifestDesc, r.names);
      this.events.publish({ ...imageEvent('image.push', pushed, digest), attributes: { name: pushed, target: digest, source: detail.image.name } });
      yield { type: 'done', reference: pushed, digest, size: manifestData.length, mediaType: manifestDesc.mediaType };
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      abort.abort();
      lease.release();
    }
  }

  /** The repository and tag to push to: the target, else the name the reference gave. */
  private destination(reference: string, name: string | undefined, target: string | undefined): ImageReference {
    if (target) return parseReference(normaliseName(target));
    if (!name) throw new PushTargetError(`${reference} is an image id: give a name to push it as (tag it first, or set a target)`);
    if (name.startsWith(danglingName(''))) throw new PushTargetError(`${reference} has no name: tag it first`);
    return parseReference(name);
  }

  /** Another repository of the same registry that a local name says holds this blob, to mount from. */
  private mountSource(digest: string, dest: ImageReference): string | undefined {
    for (const user of this.db.blobUsers(digest)) {
      let ref: ImageReference;
      try {
        ref = parseReference(user);
      } catch {
        continue;
      }
      if (ref.domain === dest.domain && ref.path !== dest.path) return ref.path;
    }
    return undefined;
  }

  /** Re-hashes a stored blob: a file that no longer matches its name is not sent. */
  private async verifyBlob(b: Descriptor): Promise<void> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const c of fs.createReadStream(this.content.blobPath(b.digest), { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      hash.update(c);
      size += c.length;
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== b.digest || size !== b.size) throw new StoredBlobCorruptError('layer', b.digest, actual, size, b.size);
  }

  private async sendBlob(client: RegistryClient, b: Descriptor, data: Buffer | undefined, from: string | undefined, progress: EventQueue<PushEvent>): Promise<void> {
    const started = await client.startUpload(from ? { digest: b.digest, from } : undefined);
    if (started.mounted) {
      progress.push({ type: 'blob', digest: b.digest, offset: b.size, total: b.size, status: 'mounted', mountedFrom: from! });
      return;
    }
    progress.push({ type: 'blob', digest: b.digest, offset: 0, total: b.size, status: 'uploading' });
    const file = this.content.blobPath(b.digest);
    const body = data
      ? () => data
      : () =>
          (async function* () {
            let sent = 0;
            let reported = 0;
            for await (const c of fs.createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
              yield c;
              sent += c.length;
              if (sent - reported >= PROGRESS_EVERY_BYTES) {
                reported = sent;
                progress.push({ type: 'blob', digest: b.digest, offset: sent, total: b.size, status: 'uploading' });
              }
            }
          })();
    await client.putBlob(started.location, b.digest, b.size, body);
    progress.push({ type: 'blob', digest: b.digest, offset: b.size, total: b.size, status: 'pushed' });
  }

  /**
   * RepoDigests come from the names pointing at the manifest: a push to a repository none of them is in
   * records `repo@digest` (as a pull by digest does), so the image shows where it now is.
   */
  private recordRepoDigest(dest: ImageReference, manifest: Descriptor, names: string[]): void {
    const repo = `${dest.domain}/${dest.path}`;
    if (names.some((n) => n.startsWith(`${repo}:`) || n.startsWith(`${repo}@`))) return;
    this.images.record(`${repo}@${manifest.digest}`, { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size });
  }
}

function checkDigest(what: string, d: Descriptor, data: Buffer): void {
  const actual = sha256Digest(data);
  if (actual !== d.digest) throw new StoredBlobCorruptError(what, d.digest, actual, data.length, d.size);
}

function formatDest(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}${ref.tag ? `:${ref.tag}` : ''}${ref.digest && !ref.tag ? `@${ref.digest}` : ''}`;
}
