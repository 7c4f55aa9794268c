import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLoadProgress } from './load-progress.ts';

function plainStream() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('createLoadProgress on a plain stream (CI, pipes, log files)', () => {
  it('prints rows, percent and rejects for the streamed path, and the percent alone while the warehouse reads', () => {
    const out = plainStream();
    const progress = createLoadProgress(out.stream, 'loading a.csv', 0);
    progress.update({ rows: 10_000, rejected: 2, bytes: 250, totalBytes: 1_000 });
    progress.update({ rows: undefined, rejected: 0, bytes: 400, totalBytes: 1_000 });
    progress.stop();
    const [streamed, inWarehouse] = out.text().trimEnd().split('\n');
    expect(streamed).toMatch(/^loading a\.csv: 10000 rows read \(25%\), \d+ rows\/s, 2 rejected$/);
    expect(inWarehouse).toBe('loading a.csv: read inside the warehouse, 40% done');
  });

  it('prints at most one line per interval', () => {
    const out = plainStream();
    const progress = createLoadProgress(out.stream, 'loading b.csv', 60_000);
    for (let i = 1; i <= 5; i++) progress.update({ rows: i * 1_000, rejected: 0, bytes: i, totalBytes: 5 });
    expect(out.text()).toBe('');
  });
});
