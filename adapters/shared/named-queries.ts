import { readFileSync } from 'node:fs';
import path from 'node:path';
import { VigilError } from '../../core/errors.ts';
import { WAREHOUSE_QUERIES } from '../../core/ports/warehouse.ts';
import type { WarehouseQueryName } from '../../core/ports/warehouse.ts';

/**
 * The SQL of the warehouse's named queries in one dialect, read from `dir`
 * (analytics-sql/<dialect>/queries/<name>.sql) once each. `${literal}` placeholders are replaced by
 * the given integers, checked here, so no text reaches the SQL but digits; everything else binds
 * as a parameter.
 */
export function createNamedQueries(dir: string): (name: WarehouseQueryName, literals: Readonly<Record<string, number>>) => string {
  const texts = new Map<WarehouseQueryName, string>();
  return (name, literals) => {
    const declared = WAREHOUSE_QUERIES[name] as { readonly literals: readonly string[] } | undefined;
    if (!declared) throw new VigilError('INTERNAL', `no named warehouse query "${String(name)}"`);
    let sql = texts.get(name);
    if (sql === undefined) {
      sql = readFileSync(path.join(dir, `${name}.sql`), 'utf8');
      texts.set(name, sql);
    }
    for (const key of declared.literals) {
      const value = literals[key];
      if (!Number.isSafeInteger(value) || value! < 0) throw new VigilError('INTERNAL', `named query ${name}: literal ${key} must be a non-negative integer`);
      sql = sql.replaceAll(`\${${key}}`, String(value));
    }
    const left = /\$\{(\w+)\}/.exec(sql);
    if (left) throw new VigilError('INTERNAL', `named query ${name}: \${${left[1]}} is not a declared literal`);
    return sql;
  };
}
