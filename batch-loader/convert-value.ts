import type { ColumnSpec } from '../core/warehouse-schema.ts';
import type { DateReadOptions } from './parse-csv-date.ts';
import { readDate, readTimestamp } from './parse-csv-date.ts';
import { ValueReject } from './value-reject.ts';

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, false: false, t: true, f: false, '1': true, '0': false };

/**
 * CSV text → the warehouse type of a column (core/warehouse-schema.ts). An empty field is NULL;
 * a required column refuses it. Returns the value, or a `ValueReject` saying why not.
 */
export function convertValue(text: string, column: ColumnSpec, dates: DateReadOptions): unknown {
  if (text === '') {
    return column.required ? new ValueReject('required', 'is required but empty') : null;
  }
  switch (column.type) {
    case 'STRING':
      return text;
    case 'INT64': {
      const value = Number(text);
      if (!INTEGER.test(text) || !Number.isSafeInteger(value)) return new ValueReject('not-an-integer', `"${text}" is not a whole number`);
      return value;
    }
    case 'FLOAT64': {
      if (!DECIMAL.test(text)) return new ValueReject('not-a-number', `"${text}" is not a number`);
      const value = Number(text);
      if (!Number.isFinite(value)) return new ValueReject('not-a-number', `"${text}" is out of range for a number`);
      return value;
    }
    case 'BOOL': {
      const value = BOOLEANS[text.toLowerCase()];
      if (value === undefined) return new ValueReject('not-a-boolean', `"${text}" is not a boolean (1/0, true/false)`);
      return value;
    }
    case 'TIMESTAMP':
      return readTimestamp(text, dates);
    case 'DATE':
      return readDate(text, dates);
  }
}
