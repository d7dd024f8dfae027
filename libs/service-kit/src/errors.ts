// Typed errors: every condition a service reports is a subclass of one of these categories, each mapped
// to the gRPC status that fits it. Messages are for people: they name what was wrong.
import { status, type ServiceError, Metadata } from '@grpc/grpc-js';

export abstract class BerthError extends Error {
  abstract readonly grpcCode: status;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The object asked for does not exist. */
export class NotFoundError extends BerthError {
  readonly grpcCode = status.NOT_FOUND;
}
/** The object to create exists already. */
export class AlreadyExistsError extends BerthError {
  readonly grpcCode = status.ALREADY_EXISTS;
}
/** The request itself is malformed: a bad name, flag, digest or archive. */
export class InvalidArgumentError extends BerthError {
  readonly grpcCode = status.INVALID_ARGUMENT;
}
/** The request is valid but the system is not in a state that allows it. */
export class FailedPreconditionError extends BerthError {
  readonly grpcCode = status.FAILED_PRECONDITION;
}
/** An offset or size past the end of the object. */
export class OutOfRangeError extends BerthError {
  readonly grpcCode = status.OUT_OF_RANGE;
}
/** Out of disk, memory or another quota. */
export class ResourceExhaustedError extends BerthError {
  readonly grpcCode = status.RESOURCE_EXHAUSTED;
}
/** A dependency (another service, NATS, a registry) cannot be reached now; retrying may work. */
export class UnavailableError extends BerthError {
  readonly grpcCode = status.UNAVAILABLE;
}
/** A concurrent change got in the way; retrying may work. */
/** Credentials are missing or were refused. */
export class UnauthenticatedError extends BerthError {
  readonly grpcCode = status.UNAUTHENTICATED;
}

/** Known credentials, refused for this action. */
export class PermissionDeniedError extends BerthError {
  readonly grpcCode = status.PERMISSION_DENIED;
}

export class AbortedError extends BerthError {
  readonly grpcCode = status.ABORTED;
}
/** A bug or an unexpected failure of the host. */
export class InternalError extends BerthError {
  readonly grpcCode = status.INTERNAL;
}

/** Node system errors (and SQLite's) that mean the disk is full or a quota is reached. */
const EXHAUSTION_CODES = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'SQLITE_FULL']);

/** Turns any thrown value into a gRPC ServiceError with a status that fits and a readable message. */
export function toServiceError(err: unknown): ServiceError {
  const e = err instanceof Error ? err : new Error(String(err));
  let code = status.INTERNAL;
  if (e instanceof BerthError) code = e.grpcCode;
  else if (EXHAUSTION_CODES.has((e as NodeJS.ErrnoException).code ?? '')) code = status.RESOURCE_EXHAUSTED;
  const out = Object.assign(new Error(e.message), { code, details: e.message, metadata: new Metadata() });
  return out as ServiceError;
}

/** True for errors that are the caller's fault or expected conditions (logged at info, not error). */
export function isExpected(err: unknown): boolean {
  return err instanceof BerthError && !(err instanceof InternalError);
}
