// A small in-test berth.images.v1.Content server: Read streams blobs held in memory, Write verifies the
// digest and size and keeps the blob. Enough of the image-store to test rootfs's side of the contract.
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { contentV1 } from '@berth/api';

export interface FakeContentServer {
  target: string;
  blobs: Map<string, Buffer>;
  reads: string[];
  close(): Promise<void>;
}

function fail(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

export async function startFakeContentServer(socketPath: string): Promise<FakeContentServer> {
  const blobs = new Map<string, Buffer>();
  const reads: string[] = [];
  const unimplemented = (_call: unknown, cb: grpc.sendUnaryData<never>) => cb(fail(grpc.status.UNIMPLEMENTED, 'not in the fake'), null);
  const impl: contentV1.ContentServer = {
    info: unimplemented,
    list: unimplemented,
    status: unimplemented,
    abort: unimplemented,
    delete: unimplemented,
    read: (call) => {
      const blob = blobs.get(call.request.digest);
      if (!blob) {
        call.emit('error', fail(grpc.status.NOT_FOUND, `blob ${call.request.digest} not found`));
        return;
      }
      reads.push(call.request.digest);
      // 64 KiB messages, as the real image-store sends them.
      for (let off = call.request.offset; off < blob.length; off += 65536) call.write({ offset: off, data: blob.subarray(off, off + 65536) });
      call.end();
    },
    write: (call, cb) => {
      let start: contentV1.WriteStart | undefined;
      const chunks: Buffer[] = [];
      call.on('data', (msg: contentV1.WriteContentRequest) => {
        if (msg.part?.$case === 'start') start = msg.part.value;
        else if (msg.part?.$case === 'data') chunks.push(Buffer.from(msg.part.value));
      });
      call.on('end', () => {
        const data = Buffer.concat(chunks);
        const digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
        if (!start) return cb(fail(grpc.status.INVALID_ARGUMENT, 'no start message'), null);
        if (digest !== start.expectedDigest || (start.expectedSize >= 0 && data.length !== start.expectedSize)) {
          return cb(fail(grpc.status.FAILED_PRECONDITION, `got ${digest}/${data.length}, expected ${start.expectedDigest}/${start.expectedSize}`), null);
        }
        const existed = blobs.has(digest);
        blobs.set(digest, data);
        cb(null, { digest, size: data.length, alreadyExisted: existed });
      });
    },
  };
  const server = new grpc.Server();
  server.addService(contentV1.ContentService, impl);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync('unix://' + socketPath, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return {
    target: 'unix://' + socketPath,
    blobs,
    reads,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
