import { isRetriable } from '../core/errors.ts';

/**
 * An error as the processor logs it: name, code, whether retriable and stack frames, never the
 * message. Backends quote values (ids, SQL parameters, rows) in their messages, and processor logs
 * must not carry patient data.
 */
export function logSafeError(error: unknown): { name?: string; code?: unknown; retriable: boolean; stack?: string; cause?: unknown } {
  if (typeof error !== 'object' || error === null) return { name: typeof error, retriable: false };
  const e = error as { name?: string; code?: unknown; stack?: string; cause?: unknown };
  const frames = e.stack?.split('\n').filter((line) => line.trimStart().startsWith('at ')).slice(0, 8).join('\n');
  return {
    ...(e.name ? { name: e.name } : {}),
    ...(e.code !== undefined ? { code: e.code } : {}),
    retriable: isRetriable(error),
    ...(frames ? { stack: frames } : {}),
    ...(e.cause !== undefined ? { cause: logSafeError(e.cause) } : {}),
  };
}
