import { it } from 'vitest';
import { resolveEmulatorEnv } from '../../../infra/emulator-env.ts';
import type { EmulatorEnv } from '../../../infra/emulator-env.ts';

/**
 * The emulator addresses for a Google adapter's integration tests, exported into process.env (the
 * clients read them when constructed). Without them the suite is skipped locally with a loud
 * warning, and fails when CI=true: CI must never pass by skipping.
 */
export function gcpEmulatorsOrSkip(suite: string): EmulatorEnv | undefined {
  const env = resolveEmulatorEnv();
  if (env) {
    Object.assign(process.env, env);
    return env;
  }
  if (process.env.CI === 'true') {
    it(`${suite} needs the Google emulators`, () => {
      throw new Error('CI=true but no emulator addresses: run `npm run emulators:up` before the tests');
    });
  } else {
    console.warn(`\n⚠⚠⚠ ${suite} SKIPPED: no emulator addresses (run \`npm run emulators:up\`). With CI=true it fails instead. ⚠⚠⚠\n`);
  }
  return undefined;
}
