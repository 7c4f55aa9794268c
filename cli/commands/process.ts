import type { CliCommand } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { ENVIRONMENT_HELP, serve } from '../serve.ts';

const help = `Usage: vigil process

Runs one stream-processor instance: consumes the readings subscription (consumer group on
Kafka), parses and validates readings, writes the time-series store and the warehouse, then
acknowledges; unusable input goes to the dead letters; affected patients are re-scored (NEWS2 and
the risk model). Holds no state another instance needs: run as many side by side as the bus
allows. Serves /healthz, /readyz and /metrics on PORT.

Options:
  -h, --help   show this help

${ENVIRONMENT_HELP}
  VIGIL_BATCH_WAIT_MS, VIGIL_MAX_DELIVERY_ATTEMPTS, VIGIL_RESCORE_DEBOUNCE_MS, VIGIL_MODEL`;

const processCommand: CliCommand = {
  name: 'process',
  summary: 'a stream processor instance',
  help,
  run(argv) {
    parseCommandArgs(argv, {});
    return serve(
      () => ({ ingest: false, process: true, read: false, simulate: 0 }),
      (runtime) => console.log(`vigil process running; health and metrics at ${runtime.url}`),
    );
  },
};

export default processCommand;
