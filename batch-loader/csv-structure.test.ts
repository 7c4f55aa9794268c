import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCsvStructure } from './csv-structure.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-csv-structure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function structured(text: string, fields = 3): Promise<boolean> {
  const file = path.join(dir, 'f.csv');
  writeFileSync(file, text);
  return hasCsvStructure(file, fields);
}

describe('hasCsvStructure', () => {
  it('accepts RFC 4180 records of the header’s width: BOM, CRLF or CR, quoted commas, quotes and newlines, blank lines, no final newline', async () => {
    expect(await structured('a,b,c\n1,2,3\n')).toBe(true);
    expect(await structured('\uFEFFa,b,c\r\n1,"x, ""y""","multi\r\nline"\r\n\r\n4,,\r\n')).toBe(true);
    expect(await structured('a,b,c\r1,2,3\r4,5,6')).toBe(true);
    expect(await structured('a,b,c\n1,2,""\n\n\n')).toBe(true);
  });

  it('refuses what csv-parse refuses or counts differently, and DuckDB would read leniently', async () => {
    expect(await structured('a,b,c\n1,2,3,\n'), 'an empty field past the header').toBe(false);
    expect(await structured('a,b,c\n1,2\n'), 'a field short').toBe(false);
    expect(await structured('a,b,c\n1,x"y,3\n'), 'a quote inside an unquoted field').toBe(false);
    expect(await structured('a,b,c\n1, "y",3\n'), 'a space before a quoted field').toBe(false);
    expect(await structured('a,b,c\n1,"y" ,3\n'), 'a space after a quoted field').toBe(false);
    expect(await structured('a,b,c\n1,2,"open\n'), 'an unterminated quote').toBe(false);
    expect(await structured('a,b,c\n""\n'), 'a quoted empty line').toBe(false);
    expect(await structured(''), 'no header').toBe(false);
  });

  it('checks past the first read chunk', async () => {
    const rows = Array.from({ length: 60_000 }, (_, i) => `${i},"v ${i}",x`).join('\n');
    expect(await structured(`a,b,c\n${rows}\n`)).toBe(true);
    expect(await structured(`a,b,c\n${rows}\n1,2,3,\n`)).toBe(false);
  });
});
