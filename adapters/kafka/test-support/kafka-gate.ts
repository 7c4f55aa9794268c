import { it } from 'vitest';
import { emulatorSetting } from '../../../infra/emulator-env.ts';

/**
 * The broker addresses for a Kafka integration test: KAFKA_BROKERS from the environment, else from
 * `.emulators/env` (written by `npm run emulators:up`); undefined (after `skipOrFail`) without them.
 */
export function kafkaBrokersOrSkip(suite: string): string[] | undefined {
  const value = emulatorSetting('KAFKA_BROKERS');
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
