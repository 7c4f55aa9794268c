import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../command.ts';
import { DEFAULT_FAULT_RATES, NO_FAULTS } from '../../simulators/simulation-parameters.ts';
import { COHORT_SHIFT_NAMES } from '../../simulators/shift-presets.ts';
import simulate, { parseDuration, parseFaults } from './simulate.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-simulate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil simulate', () => {
  it('parses --faults as default, one rate, or per-fault rates', () => {
    expect(parseFaults(undefined)).toEqual(NO_FAULTS);
    expect(parseFaults('default')).toEqual(DEFAULT_FAULT_RATES);
    expect(parseFaults('0.1')).toEqual({ dropField: 0.1, duplicate: 0.1, late: 0.1, malformed: 0.1, fahrenheitDevices: 0.1 });
    expect(parseFaults('malformed=0.2,late=0.01')).toEqual({ ...NO_FAULTS, malformed: 0.2, late: 0.01 });
    expect(() => parseFaults('typo=0.1')).toThrow(UsageError);
    expect(() => parseFaults('1.5')).toThrow(UsageError);
  });

  it('parses --duration spans', () => {
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(() => parseDuration('soon')).toThrow(UsageError);
  });

  it('writes a cohort with --write-csv and documents every option in --help', async () => {
    expect(await simulate.run(['--write-csv', dir, '--cohort', '20', '--seed', '1', '--faults', 'default'])).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['admissions.csv', 'icustays.csv', 'outcomes.csv', 'patients.csv', 'profiles.csv', 'vitals.csv']);
    for (const option of ['--patients', '--seed', '--interval-ms', '--rate', '--duration', '--target', '--url', '--token', '--faults', '--write-csv', '--cohort', '--shift', ...COHORT_SHIFT_NAMES]) {
      expect(simulate.help).toContain(option);
    }
    await expect(simulate.run(['--target', 'carrier-pigeon'])).rejects.toThrow(UsageError);
  });

  it('writes a shifted cohort with --shift, and names the known shifts when given an unknown one', async () => {
    const shifted = path.join(dir, 'shifted');
    expect(await simulate.run(['--write-csv', shifted, '--cohort', '20', '--seed', '1', '--shift', 'low-prevalence'])).toBe(0);
    expect(readdirSync(shifted)).toContain('profiles.csv');
    const unknown = simulate.run(['--write-csv', path.join(dir, 'nope'), '--cohort', '5', '--shift', 'tuesday']);
    await expect(unknown).rejects.toThrow(UsageError);
    await expect(unknown).rejects.toThrow(/unknown shift "tuesday".*low-prevalence, intermittent-observations, sicker-baseline, slower-deterioration/);
  });
});
