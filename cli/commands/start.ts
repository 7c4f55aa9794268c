import { SIGN_IN_CODE_SECONDS } from '../../http/auth.ts';
import type { CliCommand } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import type { Runtime } from '../runtime.ts';
import { ENVIRONMENT_HELP, serve } from '../serve.ts';

const help = `Usage: vigil start

Runs every component in one process: the device edge (POST /v1/readings, FHIR, HL7 v2/MLLP),
a stream processor, the clinician API and live dashboard, and (unless VIGIL_SIMULATE=0) a
simulated ward posting through the edge. Embedded stores live under VIGIL_DATA_DIR (./data).
Prints the URL and a single-use clinician sign-in link (valid 5 minutes; no token is printed:
sign API clients' tokens with VIGIL_AUTH_SECRET or use your identity provider's). Ctrl-C drains in-flight work and exits.

Options:
  -h, --help   show this help

${ENVIRONMENT_HELP}
  VIGIL_SIMULATE          simulated patients (default 24; 0 turns the simulator off)
  VIGIL_SIMULATE_INTERVAL_MS, VIGIL_SIMULATE_SEED
  VIGIL_SIMULATE_PROTOCOLS   json (default) or mixed (some monitors speak HL7 v2/MLLP, some FHIR)
  VIGIL_MLLP_PORT, VIGIL_MLLP_SENDERS (accepted MSH-3[@MSH-4] senders, comma-separated; MSH-3.1 or 3.2),
  VIGIL_MLLP_SENDER_SETTINGS (per-sender timezone and unit aliases; JSON or file)
  VIGIL_MLLP_TLS_CERT, VIGIL_MLLP_TLS_KEY, VIGIL_MLLP_TLS_CA, VIGIL_MLLP_CERT_SENDERS (mTLS; without
  them MLLP listens on loopback only, unless VIGIL_MLLP_INSECURE_PLAINTEXT_BIND opens it)`;

const start: CliCommand = {
  name: 'start',
  summary: 'everything in one process',
  help,
  run(argv) {
    parseCommandArgs(argv, {});
    return serve(
      (config) => ({ ingest: true, process: true, read: true, simulate: config.simulate.patients }),
      (runtime, config) => {
        // A one-time code, not a token: the banner ends up in logs, a used or stale code opens nothing.
        const code = runtime.app.issueSignInCode();
        console.log([
          '',
          `Vigil is running at ${runtime.url}`,
          ...(runtime.mllpAddress ? [`  HL7 v2:    MLLP on ${runtime.mllpAddress} ${mllpSecurityNote(runtime.mllpSecurity, config.mllp.allowedSenders)}`] : []),
          `  data:      ${config.dataDir}${config.simulate.patients > 0 ? `  ·  simulated ward: ${config.simulate.patients} patients` : ''}`,
          `  sign in:   ${runtime.url}/login?code=${code}  (single use, valid ${SIGN_IN_CODE_SECONDS / 60} minutes)`,
          config.auth.generated ? '  (API tokens: set VIGIL_AUTH_SECRET and sign HS256 tokens with it, or VIGIL_AUTH_JWKS_URL for your identity provider)' : '',
          'Press Ctrl-C to stop.',
          '',
        ].filter((line) => line !== '').join('\n'));
      },
    );
  },
};

/** What the banner says about who can send HL7: never a plaintext port without saying so. */
export function mllpSecurityNote(security: Runtime['mllpSecurity'], senders: string): string {
  if (security === 'mtls') return '(TLS; senders proven by client certificate)';
  if (security === 'plaintext-insecure') return `(PLAINTEXT, NOT loopback: anyone who can connect may send as ${senders}; insecure)`;
  return `(plaintext, loopback only; senders: ${senders}; set VIGIL_MLLP_TLS_* for the network)`;
}

export default start;
