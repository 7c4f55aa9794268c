import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The variables `npm run emulators:up` writes to `.emulators/env`. */
export const EMULATOR_VARIABLES = [
  'GOOGLE_CLOUD_PROJECT',
  'PUBSUB_EMULATOR_HOST',
  'BIGTABLE_EMULATOR_HOST',
  'STORAGE_EMULATOR_HOST',
  'BIGQUERY_EMULATOR_HOST',
  'KAFKA_BROKERS',
] as const;

export type EmulatorVariable = (typeof EMULATOR_VARIABLES)[number];
export type EmulatorEnv = Readonly<Record<EmulatorVariable, string>>;

export const DEFAULT_ENV_FILE = path.resolve(import.meta.dirname, '..', '.emulators', 'env');

/** Parses the `export NAME='value'` lines of an env file written by emulators-up.sh. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    const [, name, raw] = match as unknown as [string, string, string];
    values[name] = raw.trim().replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
  }
  return values;
}

/**
 * The emulator addresses: each variable from `env` when set there, else from the env file.
 * Returns undefined when any is missing in both, i.e. the emulators were never started here.
 */
export function resolveEmulatorEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  file: string = DEFAULT_ENV_FILE,
): EmulatorEnv | undefined {
  const fromFile = existsSync(file) ? parseEnvFile(readFileSync(file, 'utf8')) : {};
  const resolved: Partial<Record<EmulatorVariable, string>> = {};
  for (const name of EMULATOR_VARIABLES) {
    const value = env[name] || fromFile[name];
    if (!value) return undefined;
    resolved[name] = value;
  }
  return resolved as EmulatorEnv;
}

/** One setting: from `env` when set there, else from the env file `npm run emulators:up` wrote. */
export function emulatorSetting(
  name: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  file: string = DEFAULT_ENV_FILE,
): string | undefined {
  return env[name] || (existsSync(file) ? parseEnvFile(readFileSync(file, 'utf8'))[name] : undefined) || undefined;
}

// storageOrigin lives with the GCS adapter, which needs it in production; re-exported for the emulator scripts.
export { storageOrigin } from '../adapters/gcp/storage-origin.ts';
