// Writes one message of a server stream, waiting for 'drain' when the buffer is full, but never past the
// call's end: a client that cancels while the buffer is full must not leave the handler (and the lease or
// file it holds) waiting for a drain that will not come.
import type { ServerWritableStream } from '@grpc/grpc-js';
import { CallCancelledError } from './call-messages';

export async function sendMessage<Req, Res>(call: ServerWritableStream<Req, Res>, msg: Res, what: string): Promise<void> {
  if (call.cancelled) throw new CallCancelledError(`${what} was cancelled by the client`);
  if (call.write(msg)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      call.removeListener('drain', done);
      call.removeListener('cancelled', done);
      call.removeListener('close', done);
      resolve();
    };
    call.once('drain', done);
    call.once('cancelled', done);
    call.once('close', done);
  });
  if (call.cancelled) throw new CallCancelledError(`${what} was cancelled by the client`);
}
