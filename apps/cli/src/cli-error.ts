// The CLI's own failure: printed as one line "Error: <message>" on stderr, exit code as docker's.
export const EXIT_BERTH_FAILED = 125;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_BERTH_FAILED,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A bad flag value or argument. */
export class UsageError extends CliError {}
