// Stores a finished layer blob in the image-store through Content.Write (a client stream: `start`, then
// the bytes, then the end commits it there after its digest and size are checked).
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { contentV1 } from '@berth/api';
import { InternalError, writeMessage } from '@berth/service-kit';
import { ImageStoreUnavailableError } from '../errors';

export interface BlobSink {
  /** Uploads `file` as the blob `digest` of `size` bytes. */
  put(file: string, digest: string, size: number): Promise<void>;
}

export class ImageStoreRefusedError extends InternalError {}

export class GrpcBlobSink implements BlobSink {
  constructor(readonly client: contentV1.ContentClient) {}

  static connect(target: string): GrpcBlobSink {
    return new GrpcBlobSink(new contentV1.ContentClient(target, grpc.credentials.createInsecure()));
  }

  async put(file: string, digest: string, size: number): Promise<void> {
    let call!: grpc.ClientWritableStream<contentV1.WriteContentRequest>;
    const result = new Promise<contentV1.WriteContentResponse>((resolve, reject) => {
      call = this.client.write((err, res) => (err ? reject(err) : resolve(res!)));
    });
    result.catch(() => undefined);
    try {
      await writeMessage(call, { part: { $case: 'start', value: { ref: `rootfs-commit-${digest}`, expectedDigest: digest, expectedSize: size, offset: 0 } } });
      for await (const chunk of fs.createReadStream(file, { highWaterMark: 256 * 1024 })) {
        await writeMessage(call, { part: { $case: 'data', value: chunk as Buffer } });
      }
      call.end();
      await result;
    } catch (err) {
      call.cancel();
      const e = err as grpc.ServiceError;
      if (e.code === grpc.status.UNAVAILABLE) throw new ImageStoreUnavailableError(e.details || e.message);
      if (typeof e.code === 'number') throw new ImageStoreRefusedError(`image-store refused layer blob ${digest}: ${e.details || e.message}`);
      throw err;
    }
  }

  close(): void {
    this.client.close();
  }
}
