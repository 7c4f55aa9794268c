import { isTransientFailure } from '../errors.ts';

/**
 * An error as Vigil logs it (processor, simulators): name, code, whether retriable, the message's class when it
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
    retriable: isTransientFailure(error),
    ...(frames ? { stack: frames } : {}),
    ...(e.cause !== undefined ? { cause: logSafeError(e.cause) } : {}),
  };
}

/**
 * DuckDB's exception classes, as its messages open ("Constraint Error: ..."): only these, so a
 * message that opened with data ("Smith Error: ...") still logs nothing of it.
 */
const MESSAGE_CLASS =
  /^((?:Binder|Catalog|Connection|Constraint|Conversion|Dependency|Fatal|FATAL|Internal|INTERNAL|Interrupt|Invalid Input|Invalid Configuration|IO|Not implemented|Out of Memory|Out of Range|Parser|Permission|Serialization|Syntax|TransactionContext) Error):/;
