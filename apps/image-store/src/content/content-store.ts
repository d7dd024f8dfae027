// The content store: blobs by sha256 digest under <stateDir>/blobs/sha256/<hex>. Writes land in
// <stateDir>/ingest/<sha256(ref)>/data, are hashed while streaming, fsynced, checked against the expected
// digest and size, and only then renamed into place, so no file under blobs/ ever mismatches its name.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDigest } from '@berth/oci';
import {
  BlobInUseError,
  BlobNotFoundError,
  InvalidDigestArgumentError,
  InvalidWriteError,
  ReadOffsetError,
  WriteLockedError,
  WriteNotFoundError,
  WriteOffsetError,
} from '../errors';
import { contentEvent, NO_EVENTS, type EventSink } from '../events';
import type { MetaDb } from '../meta-db';
import { ContentWriter } from './content-writer';
import { Lease } from './lease';

export { ContentWriter } from './content-writer';
export { Lease } from './lease';

export const READ_CHUNK = 64 * 1024;

export interface BlobInfo {
  digest: string;
  size: number;
  createdAt: Date;
  /** Number of image names keeping the blob alive. */
  references: number;
}

export interface WriteStatus {
  ref: string;
  offset: number;
  expectedDigest: string;
  expectedSize: number;
  startedAt: Date;
}

export interface OpenWriterOptions {
  ref: string;
  /** Expected digest; undefined only for in-process writes whose digest is learnt from the bytes. */
  expectedDigest?: string;
  /** Expected size, -1 when unknown. */
  expectedSize?: number;
  /** Where the data starts: 0 for a new write, status(ref).offset to resume. */
  offset?: number;
}

export interface CommitResult {
  digest: string;
  size: number;
  alreadyExisted: boolean;
}

interface IngestMeta {
  ref: string;
  expectedDigest: string;
  expectedSize: number;
  startedAt: number;
}

export function refKey(ref: string): string {
  return createHash('sha256').update(ref).digest('hex');
}

export class ContentStore {
  readonly blobsDir: string;
  readonly ingestDir: string;
  private readonly activeRefs = new Set<string>();
  private readonly leases = new Map<string, number>();
  private readonly pendingGc = new Set<string>();

  constructor(
    readonly stateDir: string,
    readonly db: MetaDb,
    private readonly events: EventSink = NO_EVENTS,
  ) {
    this.blobsDir = path.join(stateDir, 'blobs', 'sha256');
    this.ingestDir = path.join(stateDir, 'ingest');
    fs.mkdirSync(this.blobsDir, { recursive: true });
    fs.mkdirSync(this.ingestDir, { recursive: true });
    this.reconcile();
  }

  /** Drops unfinished writes nobody resumed for maxAgeMs (a pull or upload that was given up). */
  pruneIngests(maxAgeMs: number, now = Date.now()): string[] {
    const removed: string[] = [];
    for (const key of fs.readdirSync(this.ingestDir)) {
      const dir = path.join(this.ingestDir, key);
      let mtime = 0;
      for (const f of ['meta.json', 'data']) {
        try {
          mtime = Math.max(mtime, fs.statSync(path.join(dir, f)).mtimeMs);
        } catch {
          // missing part
        }
      }
      if (now - mtime > maxAgeMs) {
        fs.rmSync(dir, { recursive: true, force: true });
        removed.push(key);
      }
    }
    return removed;
  }

  /** The local file of a committed blob (rootfs on the same host may read it directly). */
  blobPath(digest: string): string {
    if (!isDigest(digest)) throw new InvalidDigestArgumentError('digest', digest);
    return path.join(this.blobsDir, digest.slice(7));
  }

  has(digest: string): boolean {
    return isDigest(digest) && fs.existsSync(this.blobPath(digest));
  }

  info(digest: string): BlobInfo {
    const row = this.db.getBlob(this.checkDigest(digest));
    if (!row || !fs.existsSync(this.blobPath(digest))) throw new BlobNotFoundError(digest);
    return { digest, size: row.size, createdAt: new Date(row.created_at), references: this.db.blobUsers(digest).length };
  }

  list(): BlobInfo[] {
    const counts = this.db.referenceCounts();
    return this.db.listBlobs().map((r) => ({ digest: r.digest, size: r.size, createdAt: new Date(r.created_at), references: counts.get(r.digest) ?? 0 }));
  }

  /** Streams a blob from offset, at most size bytes (0 = to the end), in chunks of at most 64 KiB. */
  async *read(digest: string, offset = 0, size = 0): AsyncGenerator<{ offset: number; data: Buffer }> {
    const { size: total } = this.info(digest);
    if (offset < 0 || offset > total) throw new ReadOffsetError(digest, offset, total);
    const end = size > 0 ? Math.min(total, offset + size) : total;
    if (end === offset) return;
    const stream = fs.createReadStream(this.blobPath(digest), { start: offset, end: end - 1, highWaterMark: READ_CHUNK });
    let at = offset;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      yield { offset: at, data: chunk };
      at += chunk.length;
    }
  }

  /** The whole blob, for small JSON documents only (callers cap the size first). */
  readAll(digest: string): Buffer {
    if (!this.has(digest)) throw new BlobNotFoundError(digest);
    return fs.readFileSync(this.blobPath(digest));
  }

  status(ref: string): WriteStatus {
    const dir = this.ingestPath(ref);
    let meta: IngestMeta;
    try {
      meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as IngestMeta;
    } catch {
      throw new WriteNotFoundError(ref);
    }
    let offset = 0;
    try {
      offset = fs.statSync(path.join(dir, 'data')).size;
    } catch {
      // nothing written yet
    }
    return { ref: meta.ref, offset, expectedDigest: meta.expectedDigest, expectedSize: meta.expectedSize, startedAt: new Date(meta.startedAt) };
  }

  abort(ref: string): void {
    if (this.activeRefs.has(ref)) throw new WriteLockedError(ref);
    const dir = this.ingestPath(ref);
    if (!fs.existsSync(dir)) throw new WriteNotFoundError(ref);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  /** Opens (or resumes) a write. Only one call may hold a ref at a time. */
  async openWriter(opts: OpenWriterOptions): Promise<ContentWriter> {
    if (!opts.ref) throw new InvalidWriteError('write needs a ref');
    if (opts.expectedDigest !== undefined && !isDigest(opts.expectedDigest)) throw new InvalidDigestArgumentError('expected digest', opts.expectedDigest);
    const expectedSize = opts.expectedSize ?? -1;
    const offset = opts.offset ?? 0;
    if (offset < 0) throw new InvalidWriteError(`write "${opts.ref}": negative offset ${offset}`);
    if (expectedSize >= 0 && offset > expectedSize) throw new WriteOffsetError(opts.ref, offset, expectedSize);
    if (this.activeRefs.has(opts.ref)) throw new WriteLockedError(opts.ref);
    this.activeRefs.add(opts.ref);
    try {
      const dir = this.ingestPath(opts.ref);
      if (opts.expectedDigest && this.has(opts.expectedDigest)) {
        // Nothing to store: the caller's bytes are read and dropped.
        fs.rmSync(dir, { recursive: true, force: true });
        return new ContentWriter(this, opts.ref, dir, undefined, createHash('sha256'), 0, opts.expectedDigest, expectedSize, true);
      }
      const metaFile = path.join(dir, 'meta.json');
      const dataFile = path.join(dir, 'data');
      let held = 0;
      let meta: IngestMeta | undefined;
      try {
        meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as IngestMeta;
        held = fs.statSync(dataFile).size;
      } catch {
        meta = undefined;
        held = 0;
      }
      if (meta && opts.expectedDigest && meta.expectedDigest && meta.expectedDigest !== opts.expectedDigest) {
        // The ref was used for other content: start over.
        meta = undefined;
        held = 0;
      }
      if (offset > held) throw new WriteOffsetError(opts.ref, offset, held);
      if (!meta || offset === 0) {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir, { recursive: true });
        meta = { ref: opts.ref, expectedDigest: opts.expectedDigest ?? '', expectedSize, startedAt: Date.now() };
        fs.writeFileSync(metaFile, JSON.stringify(meta));
      }
      const fh = await fs.promises.open(dataFile, fs.existsSync(dataFile) ? 'r+' : 'w+');
      try {
        await fh.truncate(offset);
        // Node cannot persist a hash state: resuming re-hashes the bytes already held.
        const hash = createHash('sha256');
        if (offset > 0) {
          for await (const chunk of fs.createReadStream(dataFile, { start: 0, end: offset - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) hash.update(chunk);
        }
        return new ContentWriter(this, opts.ref, dir, fh, hash, offset, opts.expectedDigest, expectedSize, false);
      } catch (err) {
        await fh.close();
        throw err;
      }
    } catch (err) {
      this.activeRefs.delete(opts.ref);
      throw err;
    }
  }

  /** Writes a whole stream under a fresh ref and commits it; expectedDigest undefined = learn it from the bytes. */
  async writeStream(source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>, opts: Omit<OpenWriterOptions, 'ref' | 'offset'> & { ref?: string; lease?: Lease; what?: string }): Promise<CommitResult> {
    const ref = opts.ref ?? `tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const open: OpenWriterOptions = { ref };
    if (opts.expectedDigest !== undefined) open.expectedDigest = opts.expectedDigest;
    if (opts.expectedSize !== undefined) open.expectedSize = opts.expectedSize;
    const w = await this.openWriter(open);
    // Hold a stored blob from the moment it is seen, so no GC can take it before the image is recorded.
    if (w.exists) opts.lease?.add(w.expectedDigest!, false);
    try {
      for await (const chunk of source) await w.write(chunk);
      const res = await w.commit(opts.what);
      opts.lease?.add(res.digest, !res.alreadyExisted);
      return res;
    } catch (err) {
      await w.discard();
      throw err;
    }
  }

  /** Removes a blob no image references. */
  delete(digest: string): void {
    this.checkDigest(digest);
    const users = this.db.blobUsers(digest);
    if (users.length) throw new BlobInUseError(digest, users);
    if (this.leases.has(digest)) throw new BlobInUseError(digest, ['an import or pull in progress']);
    if (!this.has(digest)) throw new BlobNotFoundError(digest);
    this.removeBlob(digest);
  }

  lease(): Lease {
    return new Lease(this);
  }

  /** Removes each candidate that no image references and no lease holds; returns what was removed. */
  collect(candidates: Iterable<string>): string[] {
    const removed: string[] = [];
    for (const d of new Set(candidates)) {
      if (this.db.blobUsers(d).length) continue;
      if (this.leases.has(d)) {
        this.pendingGc.add(d);
        continue;
      }
      if (this.has(d)) {
        this.removeBlob(d);
        removed.push(d);
      } else this.db.deleteBlob(d);
    }
    return removed;
  }

  /** @internal */ holdLease(d: string): void {
    this.leases.set(d, (this.leases.get(d) ?? 0) + 1);
  }
  /** @internal */ dropLease(d: string): void {
    const n = (this.leases.get(d) ?? 1) - 1;
    if (n <= 0) this.leases.delete(d);
    else this.leases.set(d, n);
  }
  /** @internal */ takePending(digests: Iterable<string>): string[] {
    const out: string[] = [];
    for (const d of digests) if (this.pendingGc.delete(d)) out.push(d);
    return out;
  }

  /** @internal Called by a writer once its verified data is in place. */
  finishCommit(ref: string, digest: string, size: number, created: boolean): void {
    this.activeRefs.delete(ref);
    if (created) {
      this.db.putBlob(digest, size);
      this.events.publish(contentEvent('content.create', digest, size));
    }
  }
  /** @internal */ releaseRef(ref: string): void {
    this.activeRefs.delete(ref);
  }

  ingestPath(ref: string): string {
    return path.join(this.ingestDir, refKey(ref));
  }

  private removeBlob(digest: string): void {
    const row = this.db.getBlob(digest);
    let size = row?.size ?? 0;
    try {
      size = fs.statSync(this.blobPath(digest)).size;
    } catch {
      // already gone
    }
    fs.rmSync(this.blobPath(digest), { force: true });
    this.db.deleteBlob(digest);
    this.events.publish(contentEvent('content.delete', digest, size));
  }

  private checkDigest(digest: string): string {
    if (!isDigest(digest)) throw new InvalidDigestArgumentError('digest', digest);
    return digest;
  }

  /** After a crash: a renamed blob whose row was not written gets its row; rows without a file go. */
  private reconcile(): void {
    const files = new Set(fs.readdirSync(this.blobsDir).filter((f) => /^[a-f0-9]{64}$/.test(f)));
    this.db.tx(() => {
      for (const row of this.db.listBlobs()) {
        if (!files.has(row.digest.slice(7))) this.db.deleteBlob(row.digest);
        files.delete(row.digest.slice(7));
      }
      for (const hex of files) this.db.putBlob('sha256:' + hex, fs.statSync(path.join(this.blobsDir, hex)).size);
    });
    for (const f of fs.readdirSync(this.blobsDir)) if (f.includes('.tmp')) fs.rmSync(path.join(this.blobsDir, f), { force: true });
  }
}

