// berth.images.v1.Content over gRPC: a thin adapter over ContentStore.
import type { ServerReadableStream } from '@grpc/grpc-js';
import { contentV1, Empty } from '@berth/api';
import { clientStream, FailedPreconditionError, serverStream, unary, type Logger, type ServiceRegistration } from '@berth/service-kit';
import type { BlobInfo, ContentStore } from '../content/content-store';
import { InvalidWriteError } from '../errors';
import { callMessages } from './call-messages';
import { sendMessage } from './send-message';

function toBlobInfo(b: BlobInfo): contentV1.BlobInfo {
  return { digest: b.digest, size: b.size, createdAt: b.createdAt, references: b.references };
}

class ShortWriteError extends FailedPreconditionError {}

async function write(store: ContentStore, call: ServerReadableStream<contentV1.WriteContentRequest, contentV1.WriteContentResponse>): Promise<contentV1.WriteContentResponse> {
  const it = callMessages(call, 'Content.Write');
  const first = await it.next();
  const start = first.done ? undefined : first.value.part;
  if (start?.$case !== 'start') throw new InvalidWriteError('the first Write message must be "start" with the ref and expected digest');
  const s = start.value;
  if (!s.expectedDigest) throw new InvalidWriteError(`write "${s.ref}": expected_digest is required`);
  const w = await store.openWriter({ ref: s.ref, expectedDigest: s.expectedDigest, expectedSize: s.expectedSize, offset: s.offset });
  try {
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      const part = next.value.part;
      if (part?.$case !== 'data') throw new InvalidWriteError(`write "${s.ref}": only data messages may follow start`);
      await w.write(part.value);
    }
  } catch (err) {
    // A broken call keeps its bytes for a resume; a bad message drops them.
    if (err instanceof InvalidWriteError) await w.discard();
    else await w.suspend();
    throw err;
  }
  // A short write whose size is known keeps its bytes so it can resume instead of failing the digest check.
  if (!w.exists && s.expectedSize >= 0 && w.offset < s.expectedSize) {
    const held = w.offset;
    await w.suspend();
    throw new ShortWriteError(`write "${s.ref}" ended after ${held} of ${s.expectedSize} bytes; resume from Status(ref).offset`);
  }
  const res = await w.commit();
  return { digest: res.digest, size: res.size, alreadyExisted: res.alreadyExisted };
}

export function contentService(store: ContentStore, log: Logger): ServiceRegistration {
  const impl: contentV1.ContentServer = {
    info: unary(log, 'Content.Info', async (req: contentV1.InfoRequest) => ({ info: toBlobInfo(store.info(req.digest)) })),
    list: unary(log, 'Content.List', async () => ({ blobs: store.list().map(toBlobInfo) })),
    read: serverStream(log, 'Content.Read', async (req: contentV1.ReadContentRequest, call) => {
      for await (const chunk of store.read(req.digest, req.offset, req.size)) await sendMessage(call, chunk, 'Content.Read');
    }),
    write: clientStream(log, 'Content.Write', (call) => write(store, call)),
    status: unary(log, 'Content.Status', async (req: contentV1.WriteStatusRequest) => {
      const s = store.status(req.ref);
      return { ref: s.ref, offset: s.offset, expectedDigest: s.expectedDigest, startedAt: s.startedAt };
    }),
    abort: unary(log, 'Content.Abort', async (req: contentV1.AbortWriteRequest): Promise<Empty> => {
      store.abort(req.ref);
      return {};
    }),
    delete: unary(log, 'Content.Delete', async (req: contentV1.DeleteContentRequest): Promise<Empty> => {
      store.delete(req.digest);
      return {};
    }),
  };
  return { name: 'berth.images.v1.Content', definition: contentV1.ContentService, implementation: impl };
}
