import type { VigilConfig } from '../../../core/config.ts';
import type { Logger } from '../../../core/observability/logger.ts';
import { openWarehouse } from '../../../cli/wiring/open-backends.ts';

/**
 * What the processor's DuckDB warehouse holds: the reading ids in `vitals` (one per row, so a
 * doubled reading shows twice) and the number of dead-letter rows. DuckDB allows one writer: read
 * it once the processor has drained and exited.
 */
export async function embeddedWarehouseContents(config: VigilConfig, logger: Logger): Promise<{ vitals: string[]; deadLetterRows: number }> {
  const warehouse = await openWarehouse(config, logger, { lockedDown: false });
  try {
    const rows = (await warehouse.query('SELECT reading_id FROM vitals')).rows as { reading_id: string }[];
    const dead = (await warehouse.query('SELECT count(*)::INT AS n FROM dead_letters')).rows as { n: number }[];
    return { vitals: rows.map((r) => r.reading_id), deadLetterRows: Number(dead[0]?.n) };
  } finally {
    await warehouse.close();
  }
}
