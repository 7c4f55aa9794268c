import { SingleBar } from 'cli-progress';
import type { LoadProgress } from './load-csv.ts';

export interface ProgressReporter {
  update(progress: LoadProgress): void;
  stop(): void;
}

/**
 * A progress bar with rows/s when the stream is a terminal; otherwise (CI, pipes, log files) a
 * plain line at most every few seconds, so logs stay readable.
 */
export function createLoadProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }, label: string, plainEveryMs = 5_000): ProgressReporter {
  const started = performance.now();
  const rate = (rows: number) => Math.round(rows / Math.max((performance.now() - started) / 1000, 1e-3));
  const counted = (rows: number | undefined, text: (rows: number) => string) => (rows === undefined ? '…' : text(rows));
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format: `${label} [{bar}] {percentage}% | {rows} rows | {rate} rows/s | {rejected} rejected`,
      hideCursor: true,
      clearOnComplete: false,
    });
    let startedBar = false;
    return {
      update(p) {
        const payload = {
          rows: counted(p.rows, (n) => n.toLocaleString('en-US')),
          rate: counted(p.rows, (n) => rate(n).toLocaleString('en-US')),
          rejected: p.rejected,
        };
        if (!startedBar) {
          bar.start(p.totalBytes, p.bytes, payload);
          startedBar = true;
        } else {
          bar.update(p.bytes, payload);
        }
      },
      stop() {
        if (startedBar) bar.stop();
      },
    };
  }
  let last = started;
  return {
    update(p) {
      const now = performance.now();
      if (now - last < plainEveryMs) return;
      last = now;
      const percent = p.totalBytes ? Math.round((100 * p.bytes) / p.totalBytes) : 100;
      stream.write(
        p.rows === undefined
          ? `${label}: read inside the warehouse, ${percent}% done\n`
          : `${label}: ${p.rows} rows read (${percent}%), ${rate(p.rows)} rows/s, ${p.rejected} rejected\n`,
      );
    },
    stop() {},
  };
}
