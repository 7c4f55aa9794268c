import { VigilError } from '../core/errors.ts';
import type { CliCommand } from './command.ts';
import { UsageError } from './command.ts';

/** Command name → module. Loaded lazily so `vigil sql` does not start Kafka clients, and so on. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ default: CliCommand }> }> = {
  start: { summary: 'everything in one process (what npm start runs)', load: () => import('./commands/start.ts') },
  ingest: { summary: 'the device edge only: HTTP readings (and HL7/FHIR) onto the bus', load: () => import('./commands/ingest.ts') },
  process: { summary: 'a stream processor instance: bus to stores, scoring', load: () => import('./commands/process.ts') },
  dashboard: { summary: 'the clinician dashboard and read API only', load: () => import('./commands/dashboard.ts') },
  simulate: { summary: 'a simulated ward, and its CSVs and outcomes', load: () => import('./commands/simulate.ts') },
  load: { summary: 'load a CSV into the warehouse', load: () => import('./commands/load.ts') },
  provision: { summary: 'create or update topics, tables and views', load: () => import('./commands/provision.ts') },
  sql: { summary: 'run SQL on the configured warehouse', load: () => import('./commands/sql.ts') },
  model: { summary: 'evaluate the risk model on a local cohort, or recalibrate it', load: () => import('./commands/model.ts') },
  export: { summary: 'a de-identified research extract (Parquet) of the embedded warehouse', load: () => import('./commands/export.ts') },
  backup: { summary: 'a consistent copy of the embedded data folder, while vigil start runs', load: () => import('./commands/backup.ts') },
  restore: { summary: 'put a vigil backup back as the embedded data folder', load: () => import('./commands/restore.ts') },
  'dead-letters': { summary: 'list dead letters, and replay them onto the readings topic once fixed', load: () => import('./commands/dead-letters.ts') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: vigil <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "vigil <command> --help" for a command's options and environment.`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`vigil: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const command = (await entry.load()).default;
  if (rest.includes('--help') || rest.includes('-h')) {
    // A command with subcommands answers `vigil <command> <subcommand> --help` with that subcommand's help.
    console.log(command.helpFor?.(rest) ?? command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`vigil ${name}: ${error.message}\n\n${command.help}`);
      return 2;
    }
    if (error instanceof VigilError && error.code === 'CONFIG_INVALID') {
      console.error(`vigil ${name}: ${error.message}`);
      return 78; // EX_CONFIG
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
