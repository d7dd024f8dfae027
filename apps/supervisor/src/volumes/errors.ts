// One error class per volume condition, each in the category (gRPC status) that fits it.
import { FailedPreconditionError, InternalError, InvalidArgumentError, NotFoundError } from '@berth/service-kit';

/** No volume has that name. */
export class VolumeNotFoundError extends NotFoundError {
  constructor(name: string) {
    super(`no such volume: ${name}`);
  }
}

/** A volume name docker would refuse. */
export class InvalidVolumeNameError extends InvalidArgumentError {
  constructor(name: string) {
    super(`invalid volume name "${name.length > 80 ? `${name.slice(0, 80)}...` : name}": only [a-zA-Z0-9][a-zA-Z0-9_.-]+ are allowed (2 to 255 characters)`);
  }
}

/** A driver other than "local". */
export class UnknownVolumeDriverError extends InvalidArgumentError {
  constructor(driver: string) {
    super(`unknown volume driver "${driver}": only "local" is supported`);
  }
}

/** Driver options, which the local driver does not take. */
export class VolumeOptionsError extends InvalidArgumentError {
  constructor(keys: string[]) {
    super(`the local volume driver takes no options (got ${keys.join(', ')})`);
  }
}

/** A list filter that is malformed (dangling=maybe). */
export class InvalidVolumeFilterError extends InvalidArgumentError {}

/** The volume is used by containers (running or not). */
export class VolumeInUseError extends FailedPreconditionError {
  constructor(name: string, containers: string[]) {
    super(`volume ${name} is in use by container(s) ${containers.join(', ')}; remove them first`);
  }
}

/** A container mount (bind, volume or tmpfs) that cannot be used as given. */
export class InvalidMountError extends InvalidArgumentError {}

/** Copying the image's content into a new volume failed. */
export class VolumeCopyUpError extends InternalError {}
