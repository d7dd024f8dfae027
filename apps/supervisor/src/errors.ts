// One error class per condition the supervisor reports; each maps to the gRPC status that fits.
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
} from '@berth/service-kit';

export class ContainerNotFoundError extends NotFoundError {
  constructor(ref: string) {
    super(`no such container: ${ref}`);
  }
}
export class AmbiguousContainerRefError extends FailedPreconditionError {
  constructor(ref: string, candidates: string[]) {
    super(`container reference "${ref}" is ambiguous: it matches ${candidates.join(', ')}`);
  }
}
export class NameInUseError extends AlreadyExistsError {
  constructor(name: string, id: string) {
    super(`the container name "${name}" is already in use by container ${id}; remove or rename that container first`);
  }
}
export class IdInUseError extends AlreadyExistsError {
  constructor(id: string) {
    super(`a container with id ${id} exists already`);
  }
}
export class InvalidNameError extends InvalidArgumentError {
  constructor(name: string) {
    super(`invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-]+ are allowed`);
  }
}
export class InvalidIdError extends InvalidArgumentError {
  constructor(id: string) {
    super(`invalid container id "${id}": it must be 64 lowercase hex characters`);
  }
}
export class InvalidConfigError extends InvalidArgumentError {}
export class VolumeSourceMissingError extends InvalidArgumentError {
  constructor(source: string) {
    super(`invalid volume: bind source path does not exist: ${source}`);
  }
}
export class MemoryTooLowError extends InvalidArgumentError {
  constructor(bytes: number) {
    super(`memory limit ${bytes} bytes is too low: the minimum allowed is 6MB (6291456 bytes)`);
  }
}
export class InvalidSignalError extends InvalidArgumentError {
  constructor(sig: string) {
    super(`invalid signal "${sig}": give a name (TERM, SIGKILL) or a number (1-64)`);
  }
}
export class NotRunningError extends FailedPreconditionError {
  constructor(id: string, status: string) {
    super(`container ${id} is not running (state ${status})`);
  }
}
export class AlreadyRunningError extends FailedPreconditionError {
  constructor(id: string) {
    super(`container ${id} is already running`);
  }
}
export class PausedError extends FailedPreconditionError {
  constructor(id: string) {
    super(`container ${id} is paused; resume it first`);
  }
}
export class NotPausedError extends FailedPreconditionError {
  constructor(id: string) {
    super(`container ${id} is not paused`);
  }
}
export class RunningDeleteError extends FailedPreconditionError {
  constructor(id: string) {
    super(`cannot remove container ${id}: it is running; stop it first or use force`);
  }
}
/** The runtime could not start PID 1 (a missing command, a bad working directory, ...). */
export class StartFailedError extends FailedPreconditionError {
  constructor(
    id: string,
    readonly runtimeMessage: string,
    readonly exitCode: number,
  ) {
    super(`cannot start container ${id}: ${runtimeMessage}`);
  }
}
/** The runtime refused new limits for a running container (for example a memory limit below its usage). */
export class UpdateRefusedError extends FailedPreconditionError {
  constructor(id: string, runtimeMessage: string) {
    super(`cannot update container ${id}: ${runtimeMessage}`);
  }
}
/** crun or conmon failed in a way that is not the caller's fault. */
export class RuntimeError extends InternalError {}
export class InvalidWaitConditionError extends InvalidArgumentError {
  constructor(cond: string) {
    super(`invalid wait condition "${cond}": use not-running, next-exit or removed`);
  }
}
export class NoTerminalError extends FailedPreconditionError {
  constructor(id: string) {
    super(`container ${id} has no terminal to resize`);
  }
}
export class ExecNotFoundError extends NotFoundError {
  constructor(id: string) {
    super(`no such exec session: ${id}`);
  }
}
/** Logs of a container whose log driver keeps nothing. */
export class NoLogError extends FailedPreconditionError {
  constructor(name: string) {
    super(`configured logging driver does not support reading: container ${name} logs to "none"`);
  }
}
