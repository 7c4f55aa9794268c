import { existsSync, readFileSync } from 'node:fs';
import { it } from 'vitest';
import { DEFAULT_ENV_FILE, parseEnvFile } from '../../../infra/emulator-env.ts';

/**
 * The broker addresses for a Kafka integration test: KAFKA_BROKERS from the environment, else from
 * `.emulators/env` (written by `npm run emulators:up`). Without them the suite is skipped locally
 * with a loud warning, and fails when CI=true: CI must never pass by skipping.
 */
export function kafkaBrokersOrSkip(suite: string): string[] | undefined {
  const fromFile = existsSync(DEFAULT_ENV_FILE) ? parseEnvFile(readFileSync(DEFAULT_ENV_FILE, 'utf8')).KAFKA_BROKERS : undefined;
  const value = process.env.KAFKA_BROKERS || fromFile;
  if (value) return value.split(',').map((b) => b.trim()).filter(Boolean);
  if (process.env.CI === 'true') {
    it(`${suite} needs a Kafka broker`, () => {
      throw new Error('CI=true but no KAFKA_BROKERS: run `npm run emulators:up` before the tests');
    });
  } else {
    console.warn(`\n⚠⚠⚠ ${suite} SKIPPED: no Kafka broker (run \`npm run emulators:up\` or set KAFKA_BROKERS). With CI=true it fails instead. ⚠⚠⚠\n`);
  }
  return undefined;
}
