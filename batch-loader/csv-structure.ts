import { createReadStream } from 'node:fs';

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
const FINAL_LINE_BREAK = Buffer.from('\n');

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** A quote inside a quoted field: either the first of an escaped pair or the closing one. */
const QUOTE_IN_QUOTED = 3;

/**
 * Whether every record of the file is well-formed RFC 4180 (a quote only opens a field or is
 * doubled inside a quoted one, a closing quote is followed by a comma or a line end) and has
 * exactly `fields` fields, blank lines aside: the structure csv-parse accepts with the loader's
 * options. The in-warehouse path checks this first, because DuckDB's reader is more lenient (it
 * drops empty fields past the header's count, reads a stray quote as text, trims spaces around
 * a quoted field); a file that fails goes to the streamed path, which reports each problem.
 * One pass over the bytes, no values kept.
 */
export async function hasCsvStructure(file: string, fields: number): Promise<boolean> {
  // The scan state lives in one plain object handed to a loop that owns it for a chunk: locals
  // captured by a closure would be context-allocated, and this loop sees every byte of the file.
  const scan: Scan = { state: FIELD_START, field: 0, fieldChars: 0, afterCr: false, records: 0 };
  let first = true;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const start = first && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
    first = false;
    if (!scanChunk(scan, chunk, start, fields)) return false;
  }
  if (scan.state === QUOTED) return false; // an unterminated quoted field
  // A last record without a line break ends as if it had one.
  if ((scan.state !== FIELD_START || scan.field > 0) && !scanChunk(scan, FINAL_LINE_BREAK, 0, fields)) return false;
  return scan.records > 0;
}

interface Scan {
  state: number;
  /** Fields finished in the current record. */
  field: number;
  /** Bytes in the current field: a record of one empty field is a blank line. */
  fieldChars: number;
  afterCr: boolean;
  /** Records seen, the header included. */
  records: number;
}

function scanChunk(scan: Scan, chunk: Buffer, start: number, fields: number): boolean {
  let { state, field, fieldChars, afterCr } = scan;
  for (let i = start; i < chunk.length; i++) {
    const byte = chunk[i]!;
    if (afterCr) {
      afterCr = false;
      if (byte === LF) continue; // the LF of a CRLF
    }
    if (state === QUOTED) {
      if (byte === QUOTE) state = QUOTE_IN_QUOTED;
    } else if (state === QUOTE_IN_QUOTED && byte === QUOTE) {
      state = QUOTED; // an escaped quote
    } else if (byte === COMMA) {
      field++;
      fieldChars = 0;
      state = FIELD_START;
    } else if (byte === CR || byte === LF) {
      const blank = field === 0 && fieldChars === 0;
      if (!blank && field + 1 !== fields) return false;
      field = 0;
      fieldChars = 0;
      state = FIELD_START;
      scan.records++;
      afterCr = byte === CR;
    } else if (state === QUOTE_IN_QUOTED) {
      return false; // text after a closing quote
    } else if (byte === QUOTE) {
      if (state === UNQUOTED) return false; // a quote inside an unquoted field
      state = QUOTED;
      fieldChars++;
    } else {
      state = UNQUOTED;
      fieldChars++;
    }
  }
  Object.assign(scan, { state, field, fieldChars, afterCr });
  return true;
}
