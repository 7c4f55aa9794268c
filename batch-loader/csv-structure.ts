import { createReadStream } from 'node:fs';

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

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
  let state = FIELD_START;
  let field = 0; // fields finished in the current record
  let fieldChars = 0; // bytes in the current field (a record of one empty field is a blank line)
  let afterCr = false;
  let first = true;
  let line = 0; // records seen, the header included

  const endRecord = (): boolean => {
    const count = field + 1;
    const blank = count === 1 && fieldChars === 0;
    if (!blank && count !== fields) return false;
    field = 0;
    fieldChars = 0;
    state = FIELD_START;
    line++;
    return true;
  };

  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let i = 0;
    if (first) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    }
    for (; i < chunk.length; i++) {
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
        if (!endRecord()) return false;
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
  }
  if (state === QUOTED) return false; // an unterminated quoted field
  if (state !== FIELD_START || field > 0) return endRecord() && line > 0;
  return line > 0;
}
