// The messages of a client stream, ending with an error when the client cancels, so a write never stays
// locked and an import never keeps its lease. (Racing each read against a "cancelled" promise would leak:
// every race leaves a reaction holding its message on the long-lived promise.)
import type { ServerReadableStream } from '@grpc/grpc-js';
import { AbortedError } from '@berth/service-kit';

export class CallCancelledError extends AbortedError {}

export async function* callMessages<Req, Res>(call: ServerReadableStream<Req, Res>, what: string): AsyncGenerator<Req> {
  const error = () => new CallCancelledError(`${what} was cancelled by the client`);
  const onCancel = () => call.destroy(error());
  call.once('cancelled', onCancel);
  try {
    if (call.cancelled) throw error();
    for await (const msg of call as AsyncIterable<Req>) yield msg;
    if (call.cancelled) throw error();
  } catch (err) {
    if (call.cancelled && !(err instanceof CallCancelledError)) throw error();
    throw err;
  } finally {
    call.removeListener('cancelled', onCancel);
  }
}
