import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnvFile, resolveEmulatorEnv } from './emulator-env.ts';

const FILE_TEXT = `export GOOGLE_CLOUD_PROJECT='vigil-local'
export PUBSUB_EMULATOR_HOST='127.0.0.1:8085'
export BIGTABLE_EMULATOR_HOST='127.0.0.1:8086'
export STORAGE_EMULATOR_HOST='http://127.0.0.1:4443/storage/v1'
export BIGQUERY_EMULATOR_HOST='http://127.0.0.1:9050'
export BIGQUERY_STORAGE_EMULATOR_HOST='127.0.0.1:9060'
export KAFKA_BROKERS='127.0.0.1:9092'
`;

function envFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'vigil-env-')), 'env');
  writeFileSync(file, text);
  return file;
}

describe('parseEnvFile', () => {
  it('reads quoted and unquoted exports and ignores other lines', () => {
    expect(parseEnvFile(`# comment\nexport A='x y'\nB="z"\nC=plain\n\nnot a line\n`)).toEqual({ A: 'x y', B: 'z', C: 'plain' });
  });
});

describe('resolveEmulatorEnv', () => {
  it('takes every address from the file when the environment has none', () => {
    const resolved = resolveEmulatorEnv({}, envFile(FILE_TEXT));
    expect(resolved).toEqual({
      GOOGLE_CLOUD_PROJECT: 'vigil-local',
      PUBSUB_EMULATOR_HOST: '127.0.0.1:8085',
      BIGTABLE_EMULATOR_HOST: '127.0.0.1:8086',
      STORAGE_EMULATOR_HOST: 'http://127.0.0.1:4443/storage/v1',
      BIGQUERY_EMULATOR_HOST: 'http://127.0.0.1:9050',
      KAFKA_BROKERS: '127.0.0.1:9092',
    });
  });

  it('prefers a variable already set in the environment', () => {
    const resolved = resolveEmulatorEnv({ KAFKA_BROKERS: '127.0.0.1:19092', PUBSUB_EMULATOR_HOST: '' }, envFile(FILE_TEXT));
    expect(resolved?.KAFKA_BROKERS).toBe('127.0.0.1:19092');
    expect(resolved?.PUBSUB_EMULATOR_HOST).toBe('127.0.0.1:8085');
  });

  it('is undefined when the file is missing or lacks a variable the environment does not set', () => {
    expect(resolveEmulatorEnv({}, path.join(tmpdir(), 'vigil-no-such-dir', 'env'))).toBeUndefined();
    const partial = envFile(FILE_TEXT.replace(/^export KAFKA_BROKERS=.*$/m, ''));
    expect(resolveEmulatorEnv({}, partial)).toBeUndefined();
    expect(resolveEmulatorEnv({ KAFKA_BROKERS: '127.0.0.1:9092' }, partial)?.KAFKA_BROKERS).toBe('127.0.0.1:9092');
  });
});
