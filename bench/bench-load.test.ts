import { describe, expect, it } from 'vitest';
import { benchLoad } from './bench-load.ts';
import { budget } from '../core/contracts/wait-for.ts';

describe('benchLoad', () => {
  it('loads the generated file by both paths and reports each against the read_csv floors', async () => {
    const result = await benchLoad({ rows: 3_000 });
    expect(result).toMatchObject({ rows: 3_000, loaderMethod: 'in-warehouse' });
    for (const figure of [result.loaderRowsPerSecond, result.reloadRowsPerSecond, result.streamedRowsPerSecond, result.readCsvRowsPerSecond, result.readCsvKeyedRowsPerSecond]) {
      expect(figure).toBeGreaterThan(0);
    }
    expect(result.ratio).toBeCloseTo(result.loaderRowsPerSecond / result.readCsvRowsPerSecond, 2);
  }, budget(60_000));
});
