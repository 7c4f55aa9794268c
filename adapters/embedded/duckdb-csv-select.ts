import type { CsvColumnPlan, CsvDateReading } from '../../core/ports/bulk-load.ts';
import type { ColumnSpec } from '../../core/warehouse-schema.ts';

type PlannedColumn = CsvColumnPlan;
type DateFormat = CsvDateReading['formats'][number];

/**
 * The batch loader's rules (batch-loader/convert-value.ts) as one DuckDB SELECT over `read_csv`, so a clean file is read, checked and
 * converted inside DuckDB (in parallel, off the Node thread) instead of row by row in JS.
 *
 * It is a fast path, not a second definition of the rules: it accepts a strict subset of what
 * the loader's `convertValue` accepts (zoneless times in UTC only, ASCII spaces only, no year 0) and
 * converts each accepted value exactly as it would (a fraction of a second cut to
 * milliseconds, a two-digit US year only with the column's declared century). Every other value stops the query
 * with `error()`, and the loader then runs its JS path, which reports each reject with its line.
 * Returns undefined when the file's options are outside the subset.
 */
export function duckDbCsvSelect(file: string, headerLength: number, columns: readonly PlannedColumn[]): { sql: string; params: Record<string, unknown> } | undefined {
  if (columns.some((c) => isDated(c.column) && c.dates.timeZone !== 'UTC')) return undefined;
  // read_csv takes its argument as a glob: a name with pattern characters could read other files.
  if (/[*?[\]{}]/.test(file)) return undefined;
  const names = Array.from({ length: headerLength }, (_, i) => `'c${i}': 'VARCHAR'`).join(', ');
  const source =
    `read_csv($file, header = true, auto_detect = false, columns = {${names}}, delim = ',', quote = '"', escape = '"', ` +
    'strict_mode = true, null_padding = false, all_varchar = true, hive_partitioning = false, filename = false)';
  // The inner SELECT names each value once and splits each date once; the outer one converts.
  const inner = columns.flatMap((c) => {
    const i = c.index;
    const value = `NULLIF(c${i}, '') AS v${i}`;
    if (!isDated(c.column)) return [value];
    // Most dates have the plain ISO shape DuckDB's own cast reads; only the others are split.
    const plain = c.dates.formats.includes('iso') ? `regexp_full_match(v${i}, '${c.column.type === 'DATE' ? PLAIN_DATE : PLAIN_TIMESTAMP}')` : 'false';
    // A format not declared has all its parts '', as if it never matched.
    const parts = (format: DateFormat, pattern: string, names: readonly string[]) =>
      c.dates.formats.includes(format)
        ? `CASE WHEN plain${i} THEN NULL ELSE regexp_extract(v${i}, '${pattern}', [${names.map((n) => `'${n}'`).join(', ')}]) END`
        : `struct_pack(${names.map((n) => `${n} := ''`).join(', ')})`;
    return [value, `${plain} AS plain${i}`, `${parts('iso', ISO, ISO_PARTS)} AS iso${i}`, `${parts('us', US, US_PARTS)} AS us${i}`];
  });
  const outer = columns.map((c) => `${converted(c, `v${c.index}`)} AS "${c.column.name}"`);
  return { sql: `SELECT ${outer.join(', ')} FROM (SELECT ${inner.join(', ')} FROM ${source})`, params: { file } };
}

function isDated(column: ColumnSpec): boolean {
  return column.type === 'TIMESTAMP' || column.type === 'DATE';
}

const STOP = "error('vigil: value outside the fast path')";
const ISO = String.raw`^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$`;
const ISO_PARTS = ['y', 'mo', 'd', 'h', 'mi', 's', 'frac', 'zone'];
/**
 * The ISO values DuckDB's own cast reads as parse-csv-date does: a year from 1000, hours to 23,
 * minutes and seconds to 59, at most milliseconds, UTC (no zone, or `Z` after the seconds: the
 * cast refuses `21:09Z`). A day the month lacks makes the cast fail, which stops the query.
 */
const PLAIN_TIMESTAMP = String.raw`[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,3})?Z?)?)?`;
const PLAIN_DATE = String.raw`[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}`;
const US = String.raw`^(\d{1,2})/(\d{1,2})/(\d+)(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$`;
const US_PARTS = ['mo', 'd', 'y', 'h', 'mi', 's'];
const MAX_SAFE_INTEGER = '9007199254740991';

function converted(planned: PlannedColumn, v: string): string {
  const { column } = planned;
  return `CASE WHEN ${v} IS NULL THEN ${column.required ? STOP : 'NULL'} ELSE ${convertedPresent(planned, v)} END`;
}

function convertedPresent({ column, index, dates }: PlannedColumn, v: string): string {
  switch (column.type) {
    case 'STRING':
      return v;
    case 'INT64':
      return `CASE WHEN regexp_full_match(${v}, '[+-]?[0-9]+') AND abs(TRY_CAST(${v} AS HUGEINT)) <= ${MAX_SAFE_INTEGER} THEN CAST(${v} AS BIGINT) ELSE ${STOP} END`;
    case 'FLOAT64':
      return `CASE WHEN regexp_full_match(${v}, '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?') AND isfinite(CAST(${v} AS DOUBLE)) THEN CAST(${v} AS DOUBLE) ELSE ${STOP} END`;
    case 'BOOL':
      return `CASE lower(${v}) WHEN 'true' THEN true WHEN 't' THEN true WHEN '1' THEN true WHEN 'false' THEN false WHEN 'f' THEN false WHEN '0' THEN false ELSE ${STOP} END`;
    case 'TIMESTAMP':
    case 'DATE':
      return `CASE WHEN plain${index} THEN CAST(${v} AS ${column.type}) ELSE ${dateTime(`iso${index}`, `us${index}`, dates.century, column.type)} END`;
  }
}

/**
 * A date or timestamp from its ISO and US regexp_extract parts (all '' for the format that did
 * not match), read as parse-csv-date reads it; anything it would refuse stops the query.
 */
function dateTime(iso: string, us: string, century: number | undefined, type: 'TIMESTAMP' | 'DATE'): string {
  const part = (isoPart: string, usPart: string) => `CAST(coalesce(NULLIF(${iso}.${isoPart}, ''), NULLIF(${us}.${usPart}, '')) AS INTEGER)`;
  const usYear =
    `CASE length(${us}.y) WHEN 4 THEN CAST(${us}.y AS INTEGER)` +
    (century === undefined ? '' : ` WHEN 2 THEN ${century * 100} + CAST(${us}.y AS INTEGER)`) +
    ' END'; // other lengths, and two digits without a century: NULL, refused below
  const year = `CASE WHEN ${iso}.y <> '' THEN CAST(${iso}.y AS INTEGER) WHEN ${us}.y <> '' THEN ${usYear} END`;
  const hour = `coalesce(${part('h', 'h')}, 0)`;
  const minute = `coalesce(${part('mi', 'mi')}, 0)`;
  const second = `coalesce(${part('s', 's')}, 0)`;
  const millis = `CAST(rpad(left(${iso}.frac, 3), 3, '0') AS INTEGER)`;
  const zone = `${iso}.zone`;
  const offsetDigits = `replace(substr(${zone}, 2), ':', '')`;
  const offsetMinutes =
    `CASE WHEN ${zone} IN ('', 'Z') THEN 0 ELSE (CASE WHEN starts_with(${zone}, '-') THEN -1 ELSE 1 END) * ` +
    `(CAST(left(${offsetDigits}, 2) AS INTEGER) * 60 + CAST(substr(${offsetDigits}, 3, 2) AS INTEGER)) END`;
  // make_date raises on a day the month does not have, which stops the query like any other refusal.
  const day = `make_date(${year}, ${part('mo', 'mo')}, ${part('d', 'd')})`;
  // The year 0 (1 BC) is left to the streamed path.
  const accepted = `${year} >= 1 AND ${hour} <= 23 AND ${minute} <= 59 AND ${second} <= 59`;
  if (type === 'DATE') {
    return `CASE WHEN ${accepted} AND ${hour} = 0 AND ${minute} = 0 AND ${second} = 0 AND ${millis} = 0 AND ${offsetMinutes} = 0 THEN ${day} ELSE ${STOP} END`;
  }
  const micros =
    `epoch_us(CAST(${day} AS TIMESTAMP)) + ((${hour} * 60 + ${minute} - ${offsetMinutes}) * 60 + ${second}) * 1000000::BIGINT + ${millis} * 1000::BIGINT`;
  return `CASE WHEN ${accepted} THEN make_timestamp(${micros}) ELSE ${STOP} END`;
}
