// One write into the content store: bytes appended to the ingest file while hashed; commit checks size and
// digest, fsyncs and renames into blobs/; suspend keeps the bytes for a resume; discard drops them.
import type { Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DigestMismatchError, InvalidWriteError, SizeMismatchError } from '../errors';
import type { CommitResult, ContentStore } from './content-store';

export class ContentWriter {
  private done = false;

  constructor(
    private readonly store: ContentStore,
    readonly ref: string,
    private readonly dir: string,
    private readonly fh: fs.promises.FileHandle | undefined,
    private readonly hash: Hash,
    public offset: number,
    readonly expectedDigest: string | undefined,
    readonly expectedSize: number,
    /** True when the blob is stored already: data is read and dropped. */
    readonly exists: boolean,
  ) {}

  async write(chunk: Buffer | Uint8Array): Promise<void> {
    if (this.done) throw new InvalidWriteError(`write "${this.ref}" is finished`);
    if (this.exists) {
      this.offset += chunk.length;
      return;
    }
    if (this.expectedSize >= 0 && this.offset + chunk.length > this.expectedSize) {
      const got = this.offset + chunk.length;
      await this.discard();
      throw new SizeMismatchError(`write "${this.ref}"`, this.expectedSize, got);
    }
    this.hash.update(chunk);
    let written = 0;
    while (written < chunk.length) {
      const { bytesWritten } = await this.fh!.write(chunk, written, chunk.length - written, this.offset + written);
      written += bytesWritten;
    }
    this.offset += chunk.length;
  }

  /** Verifies and publishes the blob. On a mismatch the ingest is removed and nothing is stored. */
  async commit(what = `write "${this.ref}"`): Promise<CommitResult> {
    if (this.done) throw new InvalidWriteError(`write "${this.ref}" is finished`);
    if (this.exists) {
      this.done = true;
      this.store.releaseRef(this.ref);
      const size = this.store.info(this.expectedDigest!).size;
      return { digest: this.expectedDigest!, size, alreadyExisted: true };
    }
    const fh = this.fh!;
    const size = this.offset;
    const digest = 'sha256:' + this.hash.digest('hex');
    try {
      if (this.expectedSize >= 0 && size !== this.expectedSize) throw new SizeMismatchError(what, this.expectedSize, size);
      if (this.expectedDigest && digest !== this.expectedDigest) throw new DigestMismatchError(what, this.expectedDigest, digest);
      await fh.sync();
    } catch (err) {
      await this.discard();
      throw err;
    }
    await fh.close();
    this.done = true;
    const target = this.store.blobPath(digest);
    let created = false;
    try {
      if (!fs.existsSync(target)) {
        fs.renameSync(path.join(this.dir, 'data'), target);
        syncDir(path.dirname(target));
        created = true;
      }
      fs.rmSync(this.dir, { recursive: true, force: true });
    } catch (err) {
      // Out of disk or similar: nothing half-done may stay under the digest or the ref.
      if (created) fs.rmSync(target, { force: true });
      fs.rmSync(this.dir, { recursive: true, force: true });
      this.store.releaseRef(this.ref);
      throw err;
    }
    this.store.finishCommit(this.ref, digest, size, created);
    return { digest, size, alreadyExisted: !created };
  }

  /** Ends the call but keeps the bytes under the ref so the write can resume. */
  async suspend(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.fh) {
      await this.fh.sync().catch(() => undefined);
      await this.fh.close().catch(() => undefined);
    }
    this.store.releaseRef(this.ref);
  }

  /** Ends the write and drops its bytes. */
  async discard(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.fh?.close().catch(() => undefined);
      this.store.releaseRef(this.ref);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
