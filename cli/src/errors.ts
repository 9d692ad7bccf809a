import { ExitCode } from './core/exit-codes.js';

/** An error to print as it is (no stack) and exit with its code: what went wrong and what to do next. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.error,
    /** The hub's `extensions.code` when the hub answered with an error. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
