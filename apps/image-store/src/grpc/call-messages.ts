// The messages of a client stream, ending with an error when the client cancels: grpc-js does not end
// the iterator on a cancel, which would leave a write locked or an import's lease held forever.
import type { ServerReadableStream } from '@grpc/grpc-js';
import { AbortedError } from '@berth/service-kit';

export class CallCancelledError extends AbortedError {}

export async function* callMessages<Req, Res>(call: ServerReadableStream<Req, Res>, what: string): AsyncGenerator<Req> {
  let onCancel: (() => void) | undefined;
  const cancelled = new Promise<never>((_, reject) => {
    onCancel = () => reject(new CallCancelledError(`${what} was cancelled by the client`));
    call.once('cancelled', onCancel);
  });
  cancelled.catch(() => undefined);
  try {
    if (call.cancelled) throw new CallCancelledError(`${what} was cancelled by the client`);
    const it = call[Symbol.asyncIterator]() as AsyncIterator<Req>;
    for (;;) {
      const next = await Promise.race([it.next(), cancelled]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    call.removeListener('cancelled', onCancel!);
  }
}
