// Typed SDK errors. A failed gRPC call becomes one of these, carrying the gRPC status code and the server's
// own message, so callers branch on the class (or `code`) and show people the message as the service wrote it.
import { status, type ServiceError } from '@grpc/grpc-js';

export class BerthClientError extends Error {
  constructor(
    message: string,
    /** gRPC status code (status.UNKNOWN for errors made by the SDK itself that have no better fit). */
    readonly code: status = status.UNKNOWN,
    /** "berth.containers.v1.Containers/Create" when it came from a call. */
    readonly method = '',
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends BerthClientError {}
export class AlreadyExistsError extends BerthClientError {}
export class InvalidArgumentError extends BerthClientError {}
export class FailedPreconditionError extends BerthClientError {}
export class OutOfRangeError extends BerthClientError {}
export class ResourceExhaustedError extends BerthClientError {}
export class AbortedError extends BerthClientError {}
export class InternalError extends BerthClientError {}
export class CancelledError extends BerthClientError {}
/** The service is not running or cannot be reached at its address. */
export class UnavailableError extends BerthClientError {}
/** The service runs but does not implement the call (an older or unfinished service). */
export class UnimplementedError extends BerthClientError {}

// SDK-side conditions.
/** The image is not stored and pulling was not asked for. */
export class NoSuchImageError extends NotFoundError {
  constructor(ref: string) {
    super(`no such image: ${ref} (load it with "berth load -i FILE" or pull it)`, status.NOT_FOUND);
  }
}
/** Neither the image nor the request gives a command. */
export class NoCommandError extends InvalidArgumentError {
  constructor(image: string) {
    super(`no command specified: image ${image} has no Cmd or Entrypoint; give a command`, status.INVALID_ARGUMENT);
  }
}
/** The image config blob is not valid JSON or not an image config. */
export class BadImageConfigError extends InvalidArgumentError {
  constructor(image: string, why: string) {
    super(`image ${image} has an unreadable config: ${why}`, status.INVALID_ARGUMENT);
  }
}
/** PID 1 could not be started; exitCode is docker's (126 cannot invoke, 127 not found). */
export class StartFailedError extends FailedPreconditionError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message, status.FAILED_PRECONDITION);
  }
}

const BY_CODE: Partial<Record<status, new (m: string, c: status, meth: string) => BerthClientError>> = {
  [status.NOT_FOUND]: NotFoundError,
  [status.ALREADY_EXISTS]: AlreadyExistsError,
  [status.INVALID_ARGUMENT]: InvalidArgumentError,
  [status.FAILED_PRECONDITION]: FailedPreconditionError,
  [status.OUT_OF_RANGE]: OutOfRangeError,
  [status.RESOURCE_EXHAUSTED]: ResourceExhaustedError,
  [status.ABORTED]: AbortedError,
  [status.INTERNAL]: InternalError,
  [status.CANCELLED]: CancelledError,
  [status.UNAVAILABLE]: UnavailableError,
  [status.UNIMPLEMENTED]: UnimplementedError,
};

/** The service a fully qualified method belongs to, as people name it. */
export function serviceLabel(method: string): string {
  if (method.includes('containers.v1')) return 'supervisor';
  if (method.includes('images.v1')) return 'image-store';
  if (method.includes('snapshots.v1')) return 'rootfs';
  if (method.includes('inspector.v1')) return 'inspector';
  return 'berth';
}

/** Turns a grpc-js error into the SDK error class of its status code, keeping the server's message. */
export function fromServiceError(err: unknown, method: string, target = ''): BerthClientError {
  if (err instanceof BerthClientError) return err;
  const se = err as Partial<ServiceError>;
  if (typeof se?.code !== 'number') return new BerthClientError(err instanceof Error ? err.message : String(err), status.UNKNOWN, method);
  const details = se.details || se.message || 'unknown error';
  const svc = serviceLabel(method);
  let message = details;
  if (se.code === status.UNAVAILABLE) {
    // grpc-js wraps the socket error in "No connection established. Last error: ... Resolution note: ...".
    const why = /Last error: (?:Error: )?(.*?)(?:\. Resolution note:.*)?$/s.exec(details)?.[1] ?? details;
    message = `cannot reach the ${svc} service${target ? ` at ${target}` : ''}: is it running? (${why.trim()})`;
  } else if (se.code === status.UNIMPLEMENTED) {
    message = `the ${svc} service does not serve ${method.replace(/^\//, '')} yet`;
  }
  const Cls = BY_CODE[se.code] ?? BerthClientError;
  return new Cls(message, se.code, method);
}
