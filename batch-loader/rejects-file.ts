import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';

/** The rejects CSV: one line per rejected field (or row), `line,column,value,reason`, streamed. */
export interface RejectsFile {
  write(reject: { line: number; column: string; value: string; reason: string }): Promise<void>;
  close(): Promise<void>;
}

export function openRejectsFile(path: string): RejectsFile {
  const out = createWriteStream(path);
  const csv = stringify({ header: true, columns: ['line', 'column', 'value', 'reason'] });
  csv.pipe(out);
  let failure: unknown;
  out.on('error', (error) => {
    failure = error;
  });
  return {
    async write(reject) {
      if (failure) throw failure;
      if (!csv.write([reject.line, reject.column, reject.value, reject.reason])) await once(csv, 'drain');
    },
    async close() {
      csv.end();
      await finished(out);
      if (failure) throw failure;
    },
  };
}
