import { describeBulkLoadContract } from '../../core/contracts/bulk-load-contract.ts';
import { createDuckDbBulkLoad } from './bulk-load-duckdb.ts';
import { createDuckDbWarehouse } from './warehouse-duckdb.ts';

describeBulkLoadContract('duckdb', async () => {
  const warehouse = await createDuckDbWarehouse({ path: ':memory:' });
  return { warehouse, bulkLoad: createDuckDbBulkLoad(warehouse) };
});
