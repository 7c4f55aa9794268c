import type { CliCommand } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { ENVIRONMENT_HELP, serve } from '../serve.ts';
import { mllpSecurityNote } from './start.ts';

const help = `Usage: vigil ingest

Runs only the device edge: POST /v1/readings (device role), the FHIR routes and the HL7 v2 MLLP
listener, publishing accepted readings onto the configured bus. Stateless: run as many as needed
behind a load balancer. Also serves /healthz, /readyz and /metrics.

Options:
  -h, --help   show this help

${ENVIRONMENT_HELP}
  VIGIL_MLLP_PORT, VIGIL_BODY_LIMIT_BYTES, VIGIL_MLLP_TLS_CERT, VIGIL_MLLP_TLS_KEY, VIGIL_MLLP_TLS_CA,
  VIGIL_MLLP_CERT_SENDERS (without TLS, MLLP listens on loopback only unless
  VIGIL_MLLP_INSECURE_PLAINTEXT_BIND opens it)`;

const ingest: CliCommand = {
  name: 'ingest',
  summary: 'the device edge only',
  help,
  run(argv) {
    parseCommandArgs(argv, {});
    return serve(
      () => ({ ingest: true, process: false, read: false, simulate: 0 }),
      (runtime, config) => console.log([
        `vigil ingest listening at ${runtime.url}`,
        ...(runtime.mllpAddress ? [`  HL7 v2: MLLP on ${runtime.mllpAddress} ${mllpSecurityNote(runtime.mllpSecurity, config.mllp.allowedSenders)}`] : []),
      ].join('\n')),
    );
  },
};

export default ingest;
