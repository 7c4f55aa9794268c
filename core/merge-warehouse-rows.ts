import type { WarehouseRow } from './ports/warehouse.ts';
import type { TableSpec } from './warehouse-schema.ts';

/**
 * Rows of one `append` call that share a key, collapsed as the table would hold them had they
 * arrived one after another: the first row of a key, with its `mergeColumns` that are null filled
 * in from the later rows (core/warehouse-schema.ts). Tables without `mergeColumns` are returned
 * as they are (the adapter keeps the first row of a key). Row order: first appearance of each key.
 */
export function mergeRowsByKey(spec: TableSpec, rows: readonly WarehouseRow[]): readonly WarehouseRow[] {
  const mergeColumns = spec.mergeColumns;
  if (!mergeColumns || rows.length < 2) return rows;
  const keyOf = spec.key.length === 1
    ? (row: WarehouseRow): unknown => row[spec.key[0]!]
    : (row: WarehouseRow): unknown => JSON.stringify(spec.key.map((column) => row[column]));
  // The common batch has no repeated key: it passes through untouched.
  if (new Set(rows.map(keyOf)).size === rows.length) return rows;
  const byKey = new Map<unknown, WarehouseRow>();
  for (const row of rows) {
    const key = keyOf(row);
    const held = byKey.get(key);
    if (!held) {
      byKey.set(key, row);
      continue;
    }
    const merged = { ...held };
    for (const column of mergeColumns) merged[column] = isNull(held[column]) ? row[column] ?? null : held[column];
    byKey.set(key, merged);
  }
  return [...byKey.values()];
}

function isNull(value: unknown): boolean {
  return value === null || value === undefined;
}
