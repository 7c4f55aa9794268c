import path from 'node:path';
import { loadConfig } from '../../core/config.ts';
import type { VigilConfig } from '../../core/config.ts';
import { VigilError } from '../../core/errors.ts';
import { createLogger } from '../../core/observability/logger.ts';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs } from '../command.ts';
import { writeDeidentifiedExtract } from '../export/deidentified-extract.ts';
import { readExportKey } from '../export/deidentify-rules.ts';
import { auditAnalystCommand } from '../wiring/audit-analyst-command.ts';

const help = `Usage: vigil export --deidentify --out <dir> [--key-file <file>]

Writes a de-identified research extract of the embedded warehouse as Parquet files, one per
table: patients, admissions, vitals, risk_scores (and manifest.json: the rules, files, columns
and row counts). HIPAA Safe Harbor rules:
  - patient and admission ids are replaced by keyed hashes (HMAC-SHA256 with your key); reading
    ids and device ids are dropped;
  - every date and time moves forward by the patient's own keyed offset (100 to 110 years, whole
    days; the same for all of a patient's rows in every file, so intervals are kept);
  - date of birth is dropped; age at admission is given in years, 90 meaning "90 or older";
  - free text is dropped (diagnosis, admission/discharge locations, the risk factors' JSON);
  - no geography is held.
The same key gives the same hashes and shifts, so extracts made with one key join; keep the
key secret and apart from the extract (with it, known ids can be hashed and found).

Options:
  --deidentify       required: Vigil makes no identified bulk export
  --out <dir>        a new or empty folder (created, mode 700)
  --key-file <file>  the secret key (at least 32 characters), else VIGIL_EXPORT_KEY
  -h, --help         show this help

The warehouse file is opened read-only; while "vigil start" holds it, stop it or export from a
"vigil backup" copy (VIGIL_DATA_DIR=<copy>). Each export is recorded in the audit log with the
OS user. VIGIL_WAREHOUSE=bigquery is not supported yet (docs/research-extract.md says what it
would need).

Exit status: 0 when written; 2 on a usage error (no --deidentify, no --out); 69 when the
warehouse cannot be opened; 78 without a usable key or output folder.

Environment: VIGIL_EXPORT_KEY, VIGIL_DATA_DIR (the warehouse is $VIGIL_DATA_DIR/warehouse.duckdb),
VIGIL_WAREHOUSE.`;

export interface ExportIo {
  readonly config: VigilConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Records that an export ran and how it ended (exit status). */
  readonly audit?: (status: number) => Promise<void>;
}

/** `vigil export` with its configuration and streams as parameters (what the tests drive). */
export async function runExport(argv: readonly string[], io: ExportIo): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    deidentify: { type: 'boolean' },
    out: { type: 'string', short: 'o' },
    'key-file': { type: 'string' },
  });
  if (!values.deidentify) {
    throw new UsageError('only de-identified extracts are made (--deidentify): Vigil makes no identified bulk export; identified data is read per patient through the audited API');
  }
  if (!values.out) throw new UsageError('--out <dir> is required');
  if (io.config.warehouse.kind !== 'duckdb') {
    io.stderr.write('vigil export: only the embedded DuckDB warehouse can be exported yet (VIGIL_WAREHOUSE=duckdb); see docs/research-extract.md for BigQuery\n');
    return 69;
  }
  let status = 0;
  try {
    const key = await readExportKey({ keyFile: values['key-file'], env: io.env });
    const files = await writeDeidentifiedExtract({ warehouseFile: path.join(io.config.dataDir, 'warehouse.duckdb'), outDir: values.out, key });
    for (const f of files) io.stdout.write(`${f.table}: ${f.rows} rows → ${f.file}\n`);
    io.stdout.write(`de-identified extract written to ${path.resolve(values.out)} (manifest.json lists the rules)\n`);
    return status;
  } catch (error) {
    if (!(error instanceof VigilError)) throw error;
    status = error.code === 'CONFIG_INVALID' ? 78 : 69;
    io.stderr.write(`vigil export: ${error.message}\n`);
    return status;
  } finally {
    await io.audit?.(status);
  }
}

const exportCommand: CliCommand = {
  name: 'export',
  summary: 'a de-identified research extract (Parquet)',
  help,
  run(argv) {
    const config = loadConfig();
    const logger = createLogger({ level: config.logLevel, name: 'vigil-export' });
    const audit = (status: number): Promise<void> => auditAnalystCommand(config, logger, 'vigil export --deidentify', status);
    return runExport(argv, { config, env: process.env, stdout: process.stdout, stderr: process.stderr, audit });
  },
};

export default exportCommand;
