import type { CliCommand } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { ENVIRONMENT_HELP, serve } from '../serve.ts';

const help = `Usage: vigil ingest

Runs only the device edge: POST /v1/readings (device role), the FHIR routes and the HL7 v2 MLLP
listener, publishing accepted readings onto the configured bus. Stateless: run as many as needed
behind a load balancer. Also serves /healthz, /readyz and /metrics.

Options:
  -h, --help   show this help

${ENVIRONMENT_HELP}
  VIGIL_MLLP_PORT, VIGIL_BODY_LIMIT_BYTES`;

const ingest: CliCommand = {
  name: 'ingest',
  summary: 'the device edge only',
  help,
  run(argv) {
    parseCommandArgs(argv, {});
    return serve(
      () => ({ ingest: true, process: false, read: false, simulate: 0 }),
      (runtime) => console.log(`vigil ingest listening at ${runtime.url}`),
    );
  },
};

export default ingest;
