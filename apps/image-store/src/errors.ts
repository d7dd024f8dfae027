// One error class per condition the image-store reports; each maps to the gRPC status that fits it.
import {
  AbortedError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  OutOfRangeError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
} from '@berth/service-kit';

export class BlobNotFoundError extends NotFoundError {
  constructor(digest: string) {
    super(`blob ${digest} not found`);
  }
}
export class InvalidDigestArgumentError extends InvalidArgumentError {
  constructor(what: string, value: string) {
    super(`${what} "${value}" is not a valid digest (expected sha256:<64 hex characters>)`);
  }
}
export class DigestMismatchError extends FailedPreconditionError {
  constructor(what: string, expected: string, actual: string) {
    super(`${what}: digest mismatch: expected ${expected}, got ${actual}`);
  }
}
export class SizeMismatchError extends FailedPreconditionError {
  constructor(what: string, expected: number, actual: number) {
    super(`${what}: size mismatch: expected ${expected} bytes, got ${actual}`);
  }
}
export class WriteNotFoundError extends NotFoundError {
  constructor(ref: string) {
    super(`no unfinished write with ref "${ref}"`);
  }
}
export class WriteLockedError extends AbortedError {
  constructor(ref: string) {
    super(`write "${ref}" is in progress in another call`);
  }
}
export class WriteOffsetError extends OutOfRangeError {
  constructor(ref: string, offset: number, held: number) {
    super(`write "${ref}": offset ${offset} is past the ${held} bytes held`);
  }
}
export class ReadOffsetError extends OutOfRangeError {
  constructor(digest: string, offset: number, size: number) {
    super(`offset ${offset} is past the end of blob ${digest} (${size} bytes)`);
  }
}
export class InvalidWriteError extends InvalidArgumentError {}
export class BlobInUseError extends FailedPreconditionError {
  constructor(digest: string, names: string[]) {
    super(`blob ${digest} is in use by ${names.join(', ')}`);
  }
}

export class ImageNotFoundError extends NotFoundError {
  constructor(reference: string) {
    super(`no such image: ${reference}`);
  }
}
export class AmbiguousImageError extends FailedPreconditionError {
  constructor(reference: string, count: number) {
    super(`image id prefix "${reference}" matches ${count} images; give more characters`);
  }
}
export class InvalidImageReferenceError extends InvalidArgumentError {}
export class ImageInUseByNamesError extends FailedPreconditionError {
  constructor(reference: string, names: string[]) {
    super(`image ${reference} is referenced by ${names.length} names (${names.join(', ')}); remove them by name or use force`);
  }
}
export class UnsupportedMediaTypeError extends InvalidArgumentError {
  constructor(what: string, mediaType: string) {
    super(`${what}: unsupported media type "${mediaType}"`);
  }
}
export class NoMatchingPlatformError extends NotFoundError {
  constructor(what: string, platform: string) {
    super(`${what}: no manifest for platform ${platform}`);
  }
}

/** Anything wrong with an archive's contents or structure. */
export class InvalidArchiveError extends InvalidArgumentError {}
export class ArchiveDigestError extends InvalidArgumentError {}
export class MissingBlobError extends InvalidArgumentError {}
export class DescriptorSizeError extends InvalidArgumentError {
  constructor(what: string, digest: string, said: number, actual: number) {
    super(`${what} ${digest}: its descriptor says ${said} bytes, the blob has ${actual}`);
  }
}
export class JsonTooLargeError extends InvalidArgumentError {
  constructor(what: string, size: number, cap: number) {
    super(`${what} is ${size} bytes, larger than the ${cap}-byte cap`);
  }
}
export class UnsafeArchivePathError extends InvalidArgumentError {
  constructor(name: string, why: string) {
    super(`archive entry "${name}" refused: ${why}`);
  }
}
export class InvalidChangeError extends InvalidArgumentError {}

export class RegistryUnreachableError extends UnavailableError {}
export class RegistryError extends UnavailableError {}
/** The registry (or its token service) wants credentials we lack, or refused the ones given (401). */
export class RegistryAuthError extends UnauthenticatedError {}
/** The registry knows who we are and refuses the repository or the action (403). */
export class RegistryDeniedError extends PermissionDeniedError {}
export class RemoteNotFoundError extends NotFoundError {}
export class InsecureRegistryError extends FailedPreconditionError {}

// Push.
/** The registry answered a push request with a 4xx other than 401/403/404 (bad digest, bad manifest...). */
export class RegistryRejectedError extends FailedPreconditionError {}

/** A stored blob no longer hashes to its name (or has the wrong size): it is not sent. */
export class StoredBlobCorruptError extends FailedPreconditionError {
  constructor(what: string, digest: string, actual: string, size: number, expectedSize: number) {
    super(
      actual === digest
        ? `${what} ${digest} in the store has ${size} bytes, its descriptor says ${expectedSize}; not pushed`
        : `${what} ${digest} in the store is corrupt (its bytes hash to ${actual}); not pushed`,
    );
  }
}

/** What to push to is not a tag or digest reference the push can use. */
export class PushTargetError extends InvalidArgumentError {}
