import type { CliCommand } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { ENVIRONMENT_HELP, serve } from '../serve.ts';

const help = `Usage: vigil dashboard

Runs only the clinician side: the read API (/v1/patients, vitals, risk, SSE stream), the live
ward dashboard, the audit log and admin routes, reading the shared time-series store and
warehouse. Live updates follow the store, so it can run apart from the processors.

Options:
  -h, --help   show this help

${ENVIRONMENT_HELP}`;

const dashboard: CliCommand = {
  name: 'dashboard',
  summary: 'the clinician dashboard and read API only',
  help,
  run(argv) {
    parseCommandArgs(argv, {});
    return serve(
      () => ({ ingest: false, process: false, read: true, simulate: 0 }),
      (runtime) => console.log(`vigil dashboard listening at ${runtime.url}`),
    );
  },
};

export default dashboard;
