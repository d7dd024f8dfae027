// The health check's own error: a bad field of ContainerConfig.healthcheck, refused at create.
import { InvalidConfigError } from '../errors';

export class InvalidHealthcheckError extends InvalidConfigError {
  constructor(field: string, why: string) {
    super(`invalid healthcheck ${field}: ${why}`);
  }
}
