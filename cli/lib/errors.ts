/**
 * Errors the CLI reports to a person; each carries the process exit code the entry file
 * uses (0 ok, 1 error, 2 usage, 3 not authenticated / not allowed, 4 not found).
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UserError extends CliError {
  constructor(message: string) {
    super(message, 1);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

export class AuthError extends CliError {
  constructor(message: string) {
    super(message, 3);
  }
}

export class NotFoundError extends CliError {
  constructor(message: string) {
    super(message, 4);
  }
}

/** The exit code for anything thrown: unexpected errors are plain failures. */
export function exitCodeOf(error: unknown): number {
  return error instanceof CliError ? error.exitCode : 1;
}
