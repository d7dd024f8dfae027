// Where layer blobs come from: the image-store's Content.Read over gRPC, or, when both services share a
// host, the blob file itself (the fast path; its digest is still checked while unpacking).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { contentV1 } from '@berth/api';
import { digestHex } from '@berth/oci';
import { BlobNotFoundError, ImageStoreUnavailableError } from '../errors';

export interface BlobSource {
  /** The blob's bytes from the start, as a stream of chunks. */
  open(digest: string): AsyncIterable<Buffer>;
  close?(): void;
}

/** Content.Read, streamed: gRPC flow control keeps memory bounded. */
export class GrpcBlobSource implements BlobSource {
  readonly client: contentV1.ContentClient;

  constructor(target: string, client?: contentV1.ContentClient) {
    this.client = client ?? new contentV1.ContentClient(target, grpc.credentials.createInsecure());
  }

  async *open(digest: string): AsyncIterable<Buffer> {
    const call = this.client.read({ digest, offset: 0, size: 0 });
    try {
      for await (const msg of call as AsyncIterable<contentV1.ReadContentResponse>) yield Buffer.from(msg.data);
    } catch (err) {
      const e = err as grpc.ServiceError;
      if (e.code === grpc.status.NOT_FOUND) throw new BlobNotFoundError(digest, e.details || e.message);
      if (e.code === grpc.status.UNAVAILABLE) throw new ImageStoreUnavailableError(e.details || e.message);
      throw err;
    } finally {
      call.cancel();
    }
  }

  close(): void {
    this.client.close();
  }
}

/** Reads `<blobsDir>/<hex>` when it exists, else asks `fallback`. */
export class LocalBlobSource implements BlobSource {
  /** How many blobs were read from files (tests check the fast path was taken). */
  localReads = 0;

  constructor(
    private readonly blobsDir: string,
    private readonly fallback?: BlobSource,
  ) {}

  open(digest: string): AsyncIterable<Buffer> {
    const file = path.join(this.blobsDir, digestHex(digest));
    if (fs.existsSync(file)) {
      this.localReads++;
      return fs.createReadStream(file, { highWaterMark: 256 * 1024 });
    }
    if (!this.fallback) throw new BlobNotFoundError(digest, `no file ${file}`);
    return this.fallback.open(digest);
  }

  close(): void {
    this.fallback?.close?.();
  }
}
