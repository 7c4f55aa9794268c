import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import type { ObjectStore } from '../../core/ports/object-store.ts';
import type { WarehouseRow } from '../../core/ports/warehouse.ts';
import type { TableSpec } from '../../core/warehouse-schema.ts';

/**
 * Writes the validated rows as NDJSON (what a BigQuery load job reads) to a
 * local temp file, then puts it into the object store in one atomic put. The local file comes
 * first so that a load refused at the end of the file (too many bad rows) stages nothing, and
 * memory stays bounded by one batch. Returns the staged object's URI and the rows in it.
 */
export async function stageRowsAsNdjson(
  store: ObjectStore,
  spec: TableSpec,
  batches: AsyncIterable<readonly WarehouseRow[]>,
): Promise<{ uri: string; key: string; rows: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vigil-stage-'));
  const local = path.join(dir, `${spec.name}.ndjson`);
  try {
    const out = createWriteStream(local);
    let rows = 0;
    try {
      for await (const batch of batches) {
        const text = batch.map((row) => JSON.stringify(ndjsonRow(spec, row))).join('\n') + '\n';
        rows += batch.length;
        if (!out.write(text)) await once(out, 'drain');
      }
    } finally {
      out.end();
      await once(out, 'close');
    }
    const key = `loads/${spec.name}/${new Date().toISOString().replaceAll(':', '')}-${randomUUID()}.ndjson`;
    await store.put(key, createReadStream(local), 'application/x-ndjson');
    return { uri: store.uri(key), key, rows };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** TIMESTAMPs as ISO 8601 instants, DATEs as YYYY-MM-DD, the rest as JSON values. */
function ndjsonRow(spec: TableSpec, row: WarehouseRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of spec.columns) {
    const value = row[column.name];
    if (value instanceof Date) out[column.name] = column.type === 'DATE' ? value.toISOString().slice(0, 10) : value.toISOString();
    else out[column.name] = value ?? null;
  }
  return out;
}
