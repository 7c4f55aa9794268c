import { loadConfig } from '../core/config.ts';
import type { VigilConfig } from '../core/config.ts';
import { createLogger } from '../core/observability/logger.ts';
import type { Logger } from '../core/observability/logger.ts';
import type { Runtime, RuntimeParts } from './runtime.ts';
import { startRuntime } from './runtime.ts';

/**
 * Runs the given components until SIGINT/SIGTERM, then drains: the first signal stops intake and
 * lets in-flight work finish (acknowledged readings are never lost); a second one exits at once.
 */
export async function serve(parts: (config: VigilConfig) => RuntimeParts, announce: (runtime: Runtime, config: VigilConfig) => void): Promise<number> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  // A client library's background task (metrics export, token refresh) failing must not take the
  // pipeline down; it is logged by name and code only, since messages can quote data.
  process.on('unhandledRejection', (reason) => {
    const error = reason as { name?: string; code?: unknown } | undefined;
    logger.error({ error: { name: error?.name, code: error?.code } }, 'unhandled rejection in a background task');
  });
  const runtime = await startRuntime(config, parts(config), logger);
  announce(runtime, config);
  await waitForShutdownSignal(logger);
  const started = Date.now();
  await runtime.stop();
  logger.info({ ms: Date.now() - started }, 'drained and stopped');
  return 0;
}

function waitForShutdownSignal(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    let received = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      received++;
      if (received === 1) {
        logger.info({ signal }, 'shutting down: draining in-flight work (signal again to force)');
        resolve();
      } else {
        logger.warn({ signal }, 'forced exit');
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export const ENVIRONMENT_HELP = `Environment (see README, "Configuration"):
  PORT, VIGIL_HOST, VIGIL_DATA_DIR, VIGIL_AUTH_SECRET, VIGIL_LOG_LEVEL,
  VIGIL_AUTH_JWKS_URL, VIGIL_AUTH_ROLE_CLAIM, VIGIL_AUTH_AUDIENCE, VIGIL_AUTH_ISSUER,
  VIGIL_AUTH_MAX_LIFETIME_SECONDS, VIGIL_TRUST_PROXY, VIGIL_HTTP_REQUEST_TIMEOUT_MS,
  VIGIL_HTTP_HEADERS_TIMEOUT_MS, VIGIL_HTTP_IDLE_TIMEOUT_MS, VIGIL_HTTP_MAX_CONNECTIONS,
  VIGIL_BUS (embedded|pubsub|kafka), VIGIL_TIMESERIES (embedded|bigtable), VIGIL_WAREHOUSE (duckdb|bigquery),
  GOOGLE_CLOUD_PROJECT, PUBSUB_EMULATOR_HOST, BIGTABLE_EMULATOR_HOST, BIGQUERY_EMULATOR_HOST,
  STORAGE_EMULATOR_HOST, KAFKA_BROKERS, VIGIL_BATCH_SIZE, VIGIL_MAX_IN_FLIGHT, VIGIL_ACK_DEADLINE_MS`;
