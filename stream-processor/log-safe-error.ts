import { isRetriable } from '../core/errors.ts';

/**
 * An error as the processor logs it: name, code, whether retriable, the message's class when it
 * opens with one (DuckDB's "Catalog Error:", "TransactionContext Error:") and stack frames, never
 * the message itself. Backends quote values (ids, SQL parameters, rows) in their messages, and
 * processor logs must not carry patient data.
 */
export function logSafeError(error: unknown): { name?: string; code?: unknown; kind?: string; retriable: boolean; stack?: string; cause?: unknown } {
  if (typeof error !== 'object' || error === null) return { name: typeof error, retriable: false };
  const e = error as { name?: string; code?: unknown; message?: unknown; stack?: string; cause?: unknown };
  const kind = typeof e.message === 'string' ? MESSAGE_CLASS.exec(e.message)?.[1] : undefined;
  const frames = e.stack?.split('\n').filter((line) => line.trimStart().startsWith('at ')).slice(0, 8).join('\n');
  return {
    ...(e.name ? { name: e.name } : {}),
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(kind ? { kind } : {}),
    retriable: isRetriable(error),
    ...(frames ? { stack: frames } : {}),
    ...(e.cause !== undefined ? { cause: logSafeError(e.cause) } : {}),
  };
}

/** A leading "Word Word Error:" names the class of failure and carries no values. */
const MESSAGE_CLASS = /^((?:[A-Z][A-Za-z]* ){0,3}Error):/;
