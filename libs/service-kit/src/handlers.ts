// Thin adapters from async domain functions to grpc-js handlers: every error becomes a status that fits
// (see errors.ts) and is logged once with the method name.
import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import type { Logger } from './logger';
import { isExpected, toServiceError } from './errors';

const ID_FIELDS = ['id', 'key', 'reference', 'digest', 'name', 'ref'] as const;

/** The ids a request names (container id, snapshot key, image reference, digest), for the log line. */
export function requestIds(req: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (req && typeof req === 'object') {
    for (const f of ID_FIELDS) {
      const v = (req as Record<string, unknown>)[f];
      if (typeof v === 'string' && v) out[f] = v;
    }
  }
  return out;
}

function logFailure(log: Logger, method: string, err: unknown, req?: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  if (isExpected(err)) log.info({ method, ...requestIds(req), err: msg }, 'call refused');
  else log.error({ method, ...requestIds(req), err }, 'call failed');
}

export function unary<Req, Res>(
  log: Logger,
  method: string,
  fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = process.hrtime.bigint();
    fn(call.request, call).then(
      (res) => {
        log.debug({ method, ...requestIds(call.request), ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'call done');
        callback(null, res);
      },
      (err) => {
        logFailure(log, method, err, call.request);
        callback(toServiceError(err));
      },
    );
  };
}

export function serverStream<Req, Res>(
  log: Logger,
  method: string,
  fn: (req: Req, call: ServerWritableStream<Req, Res>) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    fn(call.request, call).then(
      () => call.end(),
      (err) => {
        logFailure(log, method, err, call.request);
        call.emit('error', toServiceError(err));
      },
    );
  };
}

export function clientStream<Req, Res>(
  log: Logger,
  method: string,
  fn: (call: ServerReadableStream<Req, Res>) => Promise<Res>,
): handleClientStreamingCall<Req, Res> {
  return (call, callback) => {
    fn(call).then(
      (res) => callback(null, res),
      (err) => {
        logFailure(log, method, err);
        callback(toServiceError(err));
      },
    );
  };
}

export function bidiStream<Req, Res>(
  log: Logger,
  method: string,
  fn: (call: ServerDuplexStream<Req, Res>) => Promise<void>,
): handleBidiStreamingCall<Req, Res> {
  return (call) => {
    fn(call).then(
      () => call.end(),
      (err) => {
        logFailure(log, method, err);
        call.emit('error', toServiceError(err));
      },
    );
  };
}

/** Writes one message, waiting for the stream to drain when its buffer is full (bounded memory). */
export async function writeMessage<T>(call: { write(msg: T): boolean; once(ev: 'drain', cb: () => void): unknown }, msg: T): Promise<void> {
  if (!call.write(msg)) await new Promise<void>((resolve) => call.once('drain', resolve));
}
