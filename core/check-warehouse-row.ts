import { VigilError } from './errors.ts';
import type { WarehouseRow } from './ports/warehouse.ts';
import type { ColumnSpec, ColumnType, TableSpec } from './warehouse-schema.ts';

/**
 * One value of a checked row: STRING string, INT64 number (safe integer) or bigint, FLOAT64
 * finite number, BOOL boolean, TIMESTAMP Date, DATE a `YYYY-MM-DD` string (the UTC day); or null.
 */
export type CheckedValue = string | number | bigint | boolean | Date | null;

/**
 * The one check of a warehouse row against its table, which every Warehouse adapter runs before
 * it writes anything (the BigQuery emulator takes NULL in REQUIRED columns and wrong types where
 * BigQuery would refuse them; DuckDB's own casts are looser still): the same row is refused the
 * same way on every backend. Returns the values in column order; throws VALIDATION_FAILED naming
 * table, row index and column.
 */
export function checkWarehouseRow(spec: TableSpec, row: WarehouseRow, index: number): CheckedValue[] {
  for (const name in row) {
    if (!columnNames(spec).has(name)) throw rowError(spec, index, name, 'is not a column of the table');
  }
  return spec.columns.map((column) => checkValue(spec, column, row[column.name], index));
}

function checkValue(spec: TableSpec, column: ColumnSpec, value: unknown, index: number): CheckedValue {
  if (value === null || value === undefined) {
    if (column.required) throw rowError(spec, index, column.name, 'is required');
    return null;
  }
  const checked = asColumnType(column.type, value);
  if (checked === undefined) throw rowError(spec, index, column.name, `expects ${column.type}, got ${describe(value)}`);
  return checked;
}

function asColumnType(type: ColumnType, value: unknown): CheckedValue | undefined {
  switch (type) {
    case 'STRING':
      return typeof value === 'string' ? value : undefined;
    case 'INT64':
      return typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value)) ? value : undefined;
    case 'FLOAT64':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'BOOL':
      return typeof value === 'boolean' ? value : undefined;
    case 'TIMESTAMP':
      return toDate(value);
    case 'DATE':
      return toDate(value)?.toISOString().slice(0, 10);
  }
}

/** Date, epoch milliseconds, or an ISO 8601 string (a date alone, or a time with a zone: never a local time). */
function toDate(value: unknown): Date | undefined {
  let date: Date | undefined;
  if (value instanceof Date) date = value;
  else if (typeof value === 'number' && Number.isFinite(value)) date = new Date(value);
  else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}($|T.*(Z|[+-]\d{2}:?\d{2})$)/.test(value)) date = new Date(value);
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

const COLUMN_NAMES = new WeakMap<TableSpec, ReadonlySet<string>>();
function columnNames(spec: TableSpec): ReadonlySet<string> {
  let names = COLUMN_NAMES.get(spec);
  if (!names) COLUMN_NAMES.set(spec, (names = new Set(spec.columns.map((c) => c.name))));
  return names;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (value instanceof Date) return 'an invalid Date';
  return `${typeof value} ${String(value)}`;
}

function rowError(spec: TableSpec, index: number, column: string, reason: string): VigilError {
  return new VigilError('VALIDATION_FAILED', `${spec.name} row ${index}: column ${column} ${reason}`, {
    details: { table: spec.name, row: index, column, reason },
  });
}
