import { existsSync, readFileSync } from 'node:fs';
import { it } from 'vitest';
import { DEFAULT_ENV_FILE, parseEnvFile } from '../../../infra/emulator-env.ts';

/**
 * The broker addresses for a Kafka integration test: KAFKA_BROKERS from the environment, else from
 * `.emulators/env` (written by `npm run emulators:up`); undefined (after `skipOrFail`) without them.
 */
export function kafkaBrokersOrSkip(suite: string): string[] | undefined {
  const fromFile = existsSync(DEFAULT_ENV_FILE) ? parseEnvFile(readFileSync(DEFAULT_ENV_FILE, 'utf8')).KAFKA_BROKERS : undefined;
  const value = process.env.KAFKA_BROKERS || fromFile;
  if (value) return value.split(',').map((b) => b.trim()).filter(Boolean);
  skipOrFail(suite, 'no Kafka broker', 'run `npm run emulators:up` or set KAFKA_BROKERS');
  return undefined;
}

/**
 * A suite whose toolchain is missing: skipped locally with a loud warning, a failing test when
 * CI=true (CI must never pass by skipping).
 */
export function skipOrFail(suite: string, missing: string, fix: string): void {
  if (process.env.CI === 'true') {
    it(`${suite}: ${missing}`, () => {
      throw new Error(`CI=true but ${missing}: ${fix}`);
    });
  } else {
    console.warn(`\n⚠⚠⚠ ${suite} SKIPPED: ${missing} (${fix}). With CI=true it fails instead. ⚠⚠⚠\n`);
  }
}
