import { it } from 'vitest';
import { bigQueryTestProject } from '../../../infra/bigquery-suites.ts';
import { emulatorSetting, resolveEmulatorEnv } from '../../../infra/emulator-env.ts';
import type { EmulatorEnv } from '../../../infra/emulator-env.ts';

/**
 * The emulator addresses for a Google adapter's integration tests, exported into process.env (the
 * clients read them when constructed). A suite on the BigQuery emulator gets a project of its own
 * (infra/bigquery-suites.ts says why). Without the addresses the suite is skipped locally with a
 * loud warning, and fails when CI=true: CI must never pass by skipping.
 */
export function gcpEmulatorsOrSkip(suite: string): EmulatorEnv | undefined {
  const resolved = resolveEmulatorEnv();
  if (resolved) {
    const env = { ...resolved, GOOGLE_CLOUD_PROJECT: bigQueryTestProject(suite, resolved.GOOGLE_CLOUD_PROJECT, testProjects()) };
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

/** How many BigQuery test projects the running emulators have (0 when started before there were any). */
function testProjects(): number {
  const count = Number(emulatorSetting('VIGIL_EMULATOR_TEST_PROJECTS') ?? 0);
  return Number.isInteger(count) && count > 0 ? count : 0;
}
