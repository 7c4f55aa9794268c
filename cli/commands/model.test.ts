import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCohortCsv } from '../../simulators/cohort-csv.ts';
import { budget } from '../../core/contracts/wait-for.ts';

const VIGIL_BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-model-cli-'));
const cohort = path.join(dir, 'cohort');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `vigil model ...` as an operator runs it: the package bin in a child process. */
function vigil(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VIGIL_BIN, 'model', ...args], { env: { ...process.env, VIGIL_DATA_DIR: path.join(dir, 'data'), ...env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const SUBGROUPS = ['age 18-64', 'age 65-79', 'age 80+', 'admission EMERGENCY', 'admission URGENT', 'admission ELECTIVE', 'spo2 scale 2', 'baseline confusion', 'first 24h of stay', 'continuous observation', 'intermittent observation'];

describe('vigil model evaluate', () => {
  beforeAll(async () => {
    await writeCohortCsv({ dir: cohort, seed: 7, admissions: 150 });
    // A site without recorded profiles: profiles.csv is optional.
    rmSync(path.join(cohort, 'profiles.csv'), { force: true });
  }, budget(120_000));

  it('prints one JSON object with the card keys: metrics with 95 % intervals, difference, alert burden, early stay, subgroups, test set', async () => {
    const { code, stdout, stderr } = await vigil(['evaluate', '--cohort', cohort, '--bootstrap', '40']);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('bootstrap: 40/40');
    const report = JSON.parse(stdout);
    // Every patient with a prediction point: not those whose stay ended within 6 h, nor expected deaths.
    expect(report.testSet.patients).toBeGreaterThan(130);
    expect(report.testSet.patients).toBeLessThanOrEqual(150);
    expect(report.testSet.positives).toBeGreaterThan(0);
    for (const who of ['model', 'news2']) {
      const m = report.metrics[who];
      for (const key of ['auroc', 'auprc', 'brier', 'calibrationSlope', 'calibrationIntercept']) {
        expect(typeof m[key], `${who} ${key}`).toBe('number');
        const [lo, hi] = m.ci95[key];
        expect(lo, `${who} ${key} interval`).toBeLessThanOrEqual(hi);
      }
      expect(m.auroc).toBeGreaterThan(0.5);
    }
    expect(report.metrics.difference.auroc).toBeCloseTo(report.metrics.model.auroc - report.metrics.news2.auroc, 12);
    expect(report.metrics.difference.ci95.auroc).toHaveLength(2);
    expect(report.alertBurden.map((r: { rule: string }) => r.rule)).toEqual(['model', 'news2>=5', 'news2>=7']);
    for (const rule of report.alertBurden) expect(rule.alertsPer100PatientDays).toBeGreaterThanOrEqual(0);
    expect(Object.keys(report.earlyStay)).toEqual(['model', 'news2>=5']);
    expect(report.subgroups.map((s: { name: string }) => s.name)).toEqual(SUBGROUPS);
    // No profiles.csv: nobody is on scale 2; the subgroup says so instead of inventing an AUROC.
    expect(report.subgroups.find((s: { name: string }) => s.name === 'spo2 scale 2')).toMatchObject({ n: 0, model: { auroc: null } });
    expect(report.deployedThreshold).toBeGreaterThan(0);
  }, budget(120_000));

  it('scores NEWS2 with the recorded profile (profiles.csv): a scale-2 subgroup appears', async () => {
    const withProfiles = path.join(dir, 'with-profiles');
    mkdirSync(withProfiles);
    for (const file of ['patients.csv', 'admissions.csv', 'vitals.csv', 'outcomes.csv']) copyFileSync(path.join(cohort, file), path.join(withProfiles, file));
    const ids = readFileSync(path.join(cohort, 'patients.csv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split(',')[0]);
    writeFileSync(path.join(withProfiles, 'profiles.csv'), `patient_id,spo2_scale,baseline_confusion\n${ids.map((id, i) => `${id},${i % 5 === 0 ? 2 : 1},${i % 7 === 0}`).join('\n')}\n`);
    const { code, stdout, stderr } = await vigil(['evaluate', '--cohort', withProfiles, '--bootstrap', '5']);
    expect(code, stderr).toBe(0);
    const scale2 = JSON.parse(stdout).subgroups.find((s: { name: string }) => s.name === 'spo2 scale 2');
    expect(scale2.patients).toBeGreaterThan(20);
    expect(scale2.patients).toBeLessThanOrEqual(30);
  }, budget(120_000));

  it('leaves out the points of an expected death under palliative care (not a positive label)', async () => {
    const palliative = path.join(dir, 'palliative');
    mkdirSync(palliative);
    for (const file of ['patients.csv', 'admissions.csv', 'vitals.csv']) copyFileSync(path.join(cohort, file), path.join(palliative, file));
    const [header, ...lines] = readFileSync(path.join(cohort, 'outcomes.csv'), 'utf8').trim().split('\n');
    const outcome = header!.split(',').indexOf('outcome');
    const events = lines.filter((line) => line.split(',')[outcome] === 'event').length;
    // The first event stay, recorded instead as an expected death.
    let relabelled = false;
    const edited = lines.map((line) => {
      const cells = line.split(',');
      if (relabelled || cells[outcome] !== 'event') return line;
      relabelled = true;
      cells[outcome] = 'expected_death';
      return cells.join(',');
    });
    writeFileSync(path.join(palliative, 'outcomes.csv'), `${[header, ...edited].join('\n')}\n`);
    const base = await vigil(['evaluate', '--cohort', cohort, '--bootstrap', '0']);
    const { code, stdout, stderr } = await vigil(['evaluate', '--cohort', palliative, '--bootstrap', '0']);
    expect(code, stderr).toBe(0);
    const before = JSON.parse(base.stdout).testSet, after = JSON.parse(stdout).testSet;
    expect(events).toBeGreaterThan(0);
    const excluded = after.excludedExpectedDeathPoints - before.excludedExpectedDeathPoints;
    expect(excluded).toBeGreaterThan(0);
    expect(after.predictionPoints).toBe(before.predictionPoints - excluded);
    expect(after.positives).toBe(before.positives - 1);
  }, budget(120_000));

  it('names the file and the reason when the cohort is missing or malformed (exit 65)', async () => {
    const missingDir = await vigil(['evaluate', '--cohort', path.join(dir, 'nowhere')]);
    expect(missingDir.code).toBe(65);
    expect(missingDir.stderr).toMatch(/nowhere.*no such directory/);

    const noOutcomes = path.join(dir, 'no-outcomes');
    mkdirSync(noOutcomes);
    for (const file of ['patients.csv', 'admissions.csv', 'vitals.csv']) copyFileSync(path.join(cohort, file), path.join(noOutcomes, file));
    const missingFile = await vigil(['evaluate', '--cohort', noOutcomes]);
    expect(missingFile.code).toBe(65);
    expect(missingFile.stderr).toMatch(/outcomes\.csv: missing in/);

    writeFileSync(path.join(noOutcomes, 'outcomes.csv'), 'admission_id,patient_id,result\nA000001,P000001,event\n');
    const badColumns = await vigil(['evaluate', '--cohort', noOutcomes]);
    expect(badColumns.code).toBe(65);
    expect(badColumns.stderr).toMatch(/outcomes\.csv: missing column\(s\) outcome, event_at/);
  }, budget(120_000));

  it('refuses to evaluate with a calibration fitted for another model', async () => {
    const file = path.join(dir, 'other-model-calibration.json');
    writeFileSync(file, JSON.stringify({
      format: 'vigil-local-calibration', version: 'local-1', model: 'some-other-model@9', fittedAt: '2026-12-01T00:00:00Z',
      cohort: { dir: 'x', admissions: 1, patients: 1, positives: 1, predictionPoints: 1, events: 1 }, a: 0, b: 1,
      before: { calibrationSlope: 1, calibrationIntercept: 0 }, after: { calibrationSlope: 1, calibrationIntercept: 0 }, evaluation: { metrics: { model: { auroc: 0.5 } } },
    }));
    const { code, stderr } = await vigil(['evaluate', '--cohort', cohort, '--calibration', file]);
    expect(code).toBe(65);
    expect(stderr).toContain('was fitted for some-other-model@9');
  }, budget(60_000));

  it('answers --help for each subcommand, and a usage error without --cohort', async () => {
    const evaluate = await vigil(['evaluate', '--help']);
    expect(evaluate.code).toBe(0);
    for (const option of ['--cohort', '--calibration', '--bootstrap', '--seed', '--model']) expect(evaluate.stdout).toContain(option);
    const recalibrate = await vigil(['recalibrate', '--help']);
    for (const option of ['--cohort', '--out', 'VIGIL_RISK_CALIBRATION']) expect(recalibrate.stdout).toContain(option);
    const usage = await vigil(['evaluate']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('needs --cohort <dir>');
  }, budget(60_000));
});
