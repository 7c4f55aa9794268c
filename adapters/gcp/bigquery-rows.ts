import { VigilError } from '../../core/errors.ts';
import type { WarehouseRow } from '../../core/ports/warehouse.ts';
import type { TableSpec } from '../../core/warehouse-schema.ts';
import { checkWarehouseRow } from '../../core/check-warehouse-row.ts';

/**
 * Rows in and out of BigQuery as plain values. Rows are checked (core/check-warehouse-row.ts, the
 * same check as every warehouse) before anything is sent, because the emulator accepts NULL in
 * REQUIRED columns and wrong types where BigQuery would refuse them: the check makes "an invalid
 * row rejects the whole call" hold the same everywhere.
 */

/** The JSON BigQuery's insertAll takes for one row: INT64 as strings, TIMESTAMPs as ISO strings, DATEs as YYYY-MM-DD. */
export function toInsertRow(spec: TableSpec, row: WarehouseRow, index: number): Record<string, unknown> {
  const values = checkWarehouseRow(spec, row, index);
  const out: Record<string, unknown> = {};
  spec.columns.forEach((column, i) => {
    const value = values[i];
    if (value instanceof Date) out[column.name] = value.toISOString();
    else if (column.type === 'INT64' && value !== null) out[column.name] = String(value); // beyond 2^53 as text
    else out[column.name] = value;
  });
  return out;
}

/** The names BigQuery's REST schema uses, mapped to the GoogleSQL names the port reports. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  INTEGER: 'INT64', FLOAT: 'FLOAT64', BOOLEAN: 'BOOL', NUMERIC: 'NUMERIC', BIGNUMERIC: 'BIGNUMERIC',
};

export function standardType(restType: string): string {
  return TYPE_NAMES[restType] ?? restType;
}

/** A result cell as a plain value: Date for TIMESTAMP, DATE and DATETIME; numbers for INT64 that fit. */
export function fromResultValue(type: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const raw = typeof value === 'object' && 'value' in value ? (value as { value: unknown }).value : value;
  switch (type) {
    case 'TIMESTAMP':
    case 'DATETIME':
      return new Date(String(raw).replace(' ', 'T').replace(/(\.\d{3})\d+/, '$1') + (/[zZ]|[+-]\d\d:?\d\d$/.test(String(raw)) ? '' : 'Z'));
    case 'DATE':
      return new Date(`${String(raw)}T00:00:00.000Z`);
    case 'INT64': {
      const n = Number(raw);
      return Number.isSafeInteger(n) ? n : String(raw);
    }
    case 'FLOAT64':
      return Number(raw);
    default:
      return raw;
  }
}

/**
 * Query parameters in their canonical REST form: every scalar as a string with an explicit type
 * (QueryParameterValue.value is a string in the API; the emulator accepts nothing else).
 */
export function toQueryParams(params: Readonly<Record<string, unknown>>, timestamp: (d: Date) => unknown): {
  params: Record<string, unknown>; types: Record<string, string>;
} {
  const out: Record<string, unknown> = {};
  const types: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value instanceof Date) {
      // The client's own TIMESTAMP form; the emulator misreads a typed ISO string.
      out[name] = timestamp(value);
    } else if (typeof value === 'number') {
      out[name] = String(value);
      types[name] = Number.isInteger(value) ? 'INT64' : 'FLOAT64';
    } else if (typeof value === 'bigint') {
      out[name] = String(value);
      types[name] = 'INT64';
    } else if (typeof value === 'boolean') {
      out[name] = String(value);
      types[name] = 'BOOL';
    } else if (typeof value === 'string' || value === null || value === undefined) {
      out[name] = value ?? null;
      types[name] = 'STRING';
    } else {
      throw new VigilError('VALIDATION_FAILED', `query parameter ${name} must be a string, number, boolean, Date or null`);
    }
  }
  return { params: out, types };
}
