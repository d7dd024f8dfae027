// One error class per condition the rootfs service reports; each maps to the gRPC status that fits.
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from '@berth/service-kit';

export class SnapshotNotFoundError extends NotFoundError {
  constructor(readonly key: string) {
    super(`snapshot "${key}" does not exist`);
  }
}

export class SnapshotExistsError extends AlreadyExistsError {
  constructor(readonly key: string) {
    super(`snapshot "${key}" already exists`);
  }
}

export class ParentNotCommittedError extends FailedPreconditionError {
  constructor(parent: string, kind: string) {
    super(`parent "${parent}" is ${kind}, not committed: only committed snapshots can be parents`);
  }
}

export class WrongKindError extends FailedPreconditionError {
  constructor(key: string, kind: string, wanted: string) {
    super(`snapshot "${key}" is ${kind}; this needs ${wanted}`);
  }
}

export class SnapshotHasChildrenError extends FailedPreconditionError {
  constructor(key: string, children: string[]) {
    super(`snapshot "${key}" is the parent of ${children.length} snapshot(s) (${children.slice(0, 3).join(', ')}); remove them first`);
  }
}

export class SnapshotInUseError extends FailedPreconditionError {
  constructor(key: string, owner: string) {
    super(`snapshot "${key}" is in use by ${owner}; remove it as that owner or with force`);
  }
}

export class InvalidKeyError extends InvalidArgumentError {
  constructor(key: string, why: string) {
    super(`invalid snapshot key "${key}": ${why}`);
  }
}

/** An archive entry, link or hard-link target that would land outside the layer directory. */
export class HostileArchiveError extends InvalidArgumentError {
  constructor(entry: string, why: string) {
    super(`layer archive refused: entry "${entry}" ${why}`);
  }
}

/** The layer's archive is not a tar we can read, or uses an entry type we do not support. */
export class BadArchiveError extends InvalidArgumentError {}

export class DiffIdMismatchError extends InvalidArgumentError {
  constructor(blob: string, expected: string, actual: string) {
    super(`layer ${blob}: uncompressed content has digest ${actual}, but the image says diff_id ${expected}`);
  }
}

export class BlobDigestMismatchError extends InvalidArgumentError {
  constructor(expected: string, actual: string) {
    super(`layer blob read for ${expected} has digest ${actual}`);
  }
}

export class BlobNotFoundError extends NotFoundError {
  constructor(digest: string, detail: string) {
    super(`layer blob ${digest} is not in the image-store: ${detail}`);
  }
}

export class ImageStoreUnavailableError extends UnavailableError {
  constructor(detail: string) {
    super(`image-store cannot be reached: ${detail}`);
  }
}

export class BadLayerRequestError extends InvalidArgumentError {}

/** mount(2) takes at most a page of options: an overlay over too many layers cannot be mounted. */
export class TooManyLayersError extends FailedPreconditionError {
  constructor(parent: string, layers: number, bytes: number) {
    super(`parent "${parent}" has ${layers} layers: their overlay options take ${bytes} bytes, more than mount(2) accepts (4096); flatten the image`);
  }
}
