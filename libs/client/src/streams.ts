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

/** Writes to a client stream with backpressure. */
export function writeMessage<T>(call: ClientWritableStream<T> | { write(m: T): boolean; once(e: 'drain', f: () => void): unknown }, msg: T): Promise<void> {
  if ((call as { write(m: T): boolean }).write(msg)) return Promise.resolve();
  return new Promise((r) => (call as { once(e: 'drain', f: () => void): unknown }).once('drain', () => r()));
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
