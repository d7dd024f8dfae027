// One error class per condition of the archive calls (docker's messages where docker has one).
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@berth/service-kit';

export class PathNotFoundError extends NotFoundError {
  constructor(path: string, container: string) {
    super(`Could not find the file ${path} in container ${container}`);
  }
}

export class NotADirectoryError extends FailedPreconditionError {
  constructor(path: string) {
    super(`${path} is not a directory`);
  }
}

export class LinkLoopError extends InvalidArgumentError {
  constructor(path: string) {
    super(`too many levels of symbolic links resolving ${path}`);
  }
}

export class BadTarError extends InvalidArgumentError {
  constructor(detail: string) {
    super(`invalid tar archive: ${detail}`);
  }
}

/** An entry whose name would put it outside the target (absolute, "..", through a link). */
export class EntryEscapeError extends InvalidArgumentError {
  constructor(entry: string, why: string) {
    super(`tar entry "${entry}" ${why}: refused`);
  }
}

export class UnsupportedEntryError extends InvalidArgumentError {
  constructor(entry: string, type: string) {
    super(`tar entry "${entry}" has an unsupported type (${type})`);
  }
}

export class ReadOnlyRootfsError extends FailedPreconditionError {
  constructor() {
    super('container rootfs is marked read-only');
  }
}

export class ReadOnlyVolumeError extends FailedPreconditionError {
  constructor(destination: string) {
    super(`mounted volume is marked read-only (${destination})`);
  }
}

/** no_overwrite_dir_non_dir: a directory would replace a non-directory or the reverse. */
export class OverwriteKindError extends FailedPreconditionError {
  constructor(path: string, dirOverFile: boolean) {
    super(dirOverFile ? `cannot overwrite non-directory "${path}" with directory` : `cannot overwrite directory "${path}" with non-directory`);
  }
}

export class RootfsUnavailableError extends FailedPreconditionError {
  constructor(container: string, why: string) {
    super(`the filesystem of container ${container} cannot be reached: ${why}`);
  }
}

export class MissingTargetMessageError extends InvalidArgumentError {
  constructor() {
    super('PutArchive: the first message must be the target');
  }
}

export class InvalidPathError extends InvalidArgumentError {
  constructor(path: string, why: string) {
    super(`invalid path ${JSON.stringify(path)}: ${why}`);
  }
}
