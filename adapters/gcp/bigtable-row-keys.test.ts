import { describe, expect, it } from 'vitest';
import { MAX_MS, indexKey, patientOfIndexKey, patientPrefix, readingKey, reversedTime, scoreKey, timeRangeKeys } from './bigtable-row-keys.ts';

const inRange = (key: string, range: { start: string; end: string } | undefined): boolean =>
  range !== undefined && key >= range.start && key < range.end;

describe('Bigtable row keys', () => {
  it('sorts a patient\'s newer readings first', () => {
    const older = readingKey('P1', 1_000, 'a');
    const newer = readingKey('P1', 2_000, 'a');
    expect(newer < older).toBe(true);
    expect(reversedTime(0)).toBe(String(MAX_MS));
    expect(reversedTime(MAX_MS)).toBe('0000000000000');
  });

  it('keeps patients whose ids prefix each other, or contain the separator, apart', () => {
    const prefix = patientPrefix('r', 'P1');
    for (const other of ['P10', 'P1#', 'P1#0', 'P1%23']) {
      expect(readingKey(other, 5, 'x').startsWith(prefix), other).toBe(false);
    }
    expect(readingKey('P1', 5, 'x').startsWith(prefix)).toBe(true);
    expect(patientOfIndexKey(indexKey('P1#%x'))).toBe('P1#%x');
  });

  it('maps [from, to) onto a key range, ends included and excluded exactly', () => {
    const prefix = patientPrefix('r', 'P1');
    const range = timeRangeKeys(prefix, 1_000, 2_000);
    expect(inRange(readingKey('P1', 1_000, 'zzz'), range)).toBe(true);
    expect(inRange(readingKey('P1', 1_999, ''), range)).toBe(true);
    expect(inRange(readingKey('P1', 2_000, 'a'), range)).toBe(false);
    expect(inRange(readingKey('P1', 999, 'a'), range)).toBe(false);
    expect(timeRangeKeys(prefix, 5, 5)).toBeUndefined();
    const scores = timeRangeKeys(patientPrefix('s', 'P1'), 0, MAX_MS + 1);
    expect(inRange(scoreKey('P1', 0), scores)).toBe(true);
    expect(inRange(scoreKey('P1', MAX_MS), scores)).toBe(true);
    expect(inRange(scoreKey('P10', 7), scores)).toBe(false);
  });

  it('refuses times a key cannot hold', () => {
    expect(() => reversedTime(-1)).toThrow(/cannot be stored/);
    expect(() => reversedTime(1.5)).toThrow(/cannot be stored/);
  });
});
