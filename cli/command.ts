import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

/**
 * One CLI command: `cli/commands/<name>.ts` default-exports this. `help` is printed for `--help`
 * and on usage errors; `run` returns the process exit code.
 */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  /** For commands with subcommands: the help for these arguments (e.g. `evaluate --help`). */
  helpFor?(argv: readonly string[]): string;
  run(argv: readonly string[]): Promise<number>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** node:util parseArgs with strict checking, turning its errors into UsageError. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
