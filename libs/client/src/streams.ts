// Helpers over grpc-js streaming calls: errors become SDK errors, client streams are awaited as promises.
import type { ClientReadableStream, ClientWritableStream, ServiceError } from '@grpc/grpc-js';
import { fromServiceError } from './errors';

/** Iterates a server stream, turning its failure into an SDK error. */
export async function* readStream<T>(call: ClientReadableStream<T>, method: string, target = ''): AsyncGenerator<T> {
  try {
    for await (const m of call as AsyncIterable<T>) yield m;
  } catch (err) {
    throw fromServiceError(err, method, target);
  } finally {
    call.cancel();
  }
}

/** Calls whose status arrived: the server ended them (e.g. refused the upload), so no 'drain' will come. */
const ended = new WeakSet<object>();
const watched = new WeakSet<object>();

/**
 * Writes to a client stream with backpressure. Rejects once the server has ended the call, which otherwise
 * would leave the writer waiting for a 'drain' forever; the call's response then carries the server's error.
 */
export function writeMessage<T>(call: ClientWritableStream<T> | { write(m: T): boolean; once(e: 'drain', f: () => void): unknown }, msg: T): Promise<void> {
  const c = call as unknown as { once(e: string, f: (...a: unknown[]) => void): unknown; off?(e: string, f: (...a: unknown[]) => void): unknown };
  const callEnded = () => new Error('the call ended before the whole request was sent');
  if (ended.has(call)) return Promise.reject(callEnded());
  if (c.off && !watched.has(call)) {
    watched.add(call);
    c.once('status', () => ended.add(call));
  }
  if ((call as { write(m: T): boolean }).write(msg)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      c.off?.('status', onStatus);
      resolve();
    };
    const onStatus = () => {
      c.off?.('drain', onDrain);
      reject(callEnded());
    };
    c.once('drain', onDrain);
    if (c.off) c.once('status', onStatus);
  });
}

/** Starts a client-streaming call and returns it with a promise of its response. */
export function clientStream<Req, Res>(
  start: (cb: (err: ServiceError | null, res: Res) => void) => ClientWritableStream<Req>,
  method: string,
  target = '',
): { call: ClientWritableStream<Req>; response: Promise<Res> } {
  let call!: ClientWritableStream<Req>;
  const response = new Promise<Res>((resolve, reject) => {
    call = start((err, res) => (err ? reject(fromServiceError(err, method, target)) : resolve(res)));
  });
  response.catch(() => undefined);
  return { call, response };
}
