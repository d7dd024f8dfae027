// The inspector's error conditions, one class per condition, each mapped to the gRPC status that fits.
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from '@berth/service-kit';

export class ContainerNotFoundError extends NotFoundError {
  constructor(ref: string) {
    super(`no such container: ${ref}`);
  }
}

export class AmbiguousContainerError extends FailedPreconditionError {
  constructor(ref: string, candidates: string[]) {
    super(`container reference "${ref}" is ambiguous: it matches ${candidates.join(', ')}; give more of the id or the name`);
  }
}

export class ContainerNotRunningError extends FailedPreconditionError {
  constructor(ref: string, status: string) {
    super(`container ${ref} is not running (it is ${status})`);
  }
}

export class ImageNotFoundError extends NotFoundError {
  constructor(ref: string) {
    super(`no such image: ${ref}`);
  }
}

export class InvalidFilterError extends InvalidArgumentError {
  constructor(message: string) {
    super(message);
  }
}

export class InvalidTimeError extends InvalidArgumentError {
  constructor(what: string, value: string) {
    super(`invalid ${what} time "${value}": give an RFC 3339 time, Unix seconds or a duration such as 10m`);
  }
}

export class InvalidPsArgsError extends InvalidArgumentError {
  constructor(message: string) {
    super(message);
  }
}

/** Another berth service could not be reached (or failed); retrying may work. */
export class UpstreamUnavailableError extends UnavailableError {
  constructor(service: string, target: string, detail: string) {
    super(`${service} at ${target} is unavailable: ${detail}`);
  }
}

/** NATS JetStream, where the events are kept, could not be read. */
export class EventStoreUnavailableError extends UnavailableError {
  constructor(detail: string) {
    super(`the event store (NATS JetStream) is unavailable: ${detail}`);
  }
}
