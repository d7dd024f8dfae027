// The conditions a push reports beyond the registry client's shared ones (errors.ts).
import { FailedPreconditionError, InvalidArgumentError } from '@berth/service-kit';

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
