import { VigilError } from '../../core/errors.ts';
import type { WarehouseRow } from '../../core/ports/warehouse.ts';
import type { ColumnType, TableSpec } from '../../core/warehouse-schema.ts';

/**
 * Rows in and out of BigQuery as plain values. Rows are checked here, before anything is sent,
 * because the emulator accepts NULL in REQUIRED columns and wrong types where BigQuery would refuse
 * them: the check makes "an invalid row rejects the whole call" hold the same everywhere.
 */

/** The JSON BigQuery's insertAll takes for one row: TIMESTAMPs as ISO strings, DATEs as YYYY-MM-DD. */
export function toInsertRow(spec: TableSpec, row: WarehouseRow, index: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = new Set(spec.columns.map((c) => c.name));
  for (const name of Object.keys(row)) {
    if (!known.has(name)) throw invalid(spec, index, name, 'is not a column of the table');
  }
  for (const column of spec.columns) {
    const value = row[column.name];
    if (value === null || value === undefined) {
      if (column.required) throw invalid(spec, index, column.name, 'is required');
      out[column.name] = null;
      continue;
    }
    const converted = convert(column.type, value);
    if (converted === undefined) throw invalid(spec, index, column.name, `is not a valid ${column.type}`);
    out[column.name] = converted;
  }
  return out;
}

function convert(type: ColumnType, value: unknown): unknown {
  switch (type) {
    case 'STRING':
      return typeof value === 'string' ? value : undefined;
    case 'INT64':
      return (typeof value === 'number' && Number.isSafeInteger(value)) || typeof value === 'bigint' ? String(value) : undefined;
    case 'FLOAT64':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'BOOL':
      return typeof value === 'boolean' ? value : undefined;
    case 'TIMESTAMP': {
      const date = value instanceof Date ? value : typeof value === 'number' || typeof value === 'string' ? new Date(value) : undefined;
      return date && Number.isFinite(date.getTime()) ? date.toISOString() : undefined;
    }
    case 'DATE': {
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
      return value instanceof Date && Number.isFinite(value.getTime()) ? value.toISOString().slice(0, 10) : undefined;
    }
  }
}

function invalid(spec: TableSpec, index: number, column: string, reason: string): VigilError {
  return new VigilError('VALIDATION_FAILED', `${spec.name} row ${index}: ${column} ${reason}`, {
    details: [{ index, field: column, reason }],
  });
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
