import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { TABLES } from '../core/warehouse-schema.ts';
import { COHORT_FILES, OUTCOME_COLUMNS, writeCohortCsv } from './cohort-csv.ts';
import { DEFAULT_FAULT_RATES } from './simulation-parameters.ts';

const root = mkdtempSync(path.join(tmpdir(), 'vigil-cohort-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cohort(name: string, seed: number, admissions = 300): Promise<string> {
  const dir = path.join(root, name);
  await writeCohortCsv({ dir, seed, admissions, faults: DEFAULT_FAULT_RATES, rawJsonl: true });
  return dir;
}

const read = (dir: string, file: string): string => readFileSync(path.join(dir, file), 'utf8');
const rows = (dir: string, name: string): Record<string, string>[] => parse(read(dir, `${name}.csv`), { columns: true });

describe('generateCohort / writeCohortCsv', async () => {
  const a = await cohort('a', 11);
  const b = await cohort('b', 11);
  const c = await cohort('c', 12);

  it('gives byte-identical files for the same seed, and different ones for another seed', () => {
    for (const file of [...Object.keys(COHORT_FILES).map((n) => `${n}.csv`), 'readings.jsonl']) {
      expect(read(a, file), file).toBe(read(b, file));
    }
    expect(read(a, 'vitals.csv')).not.toBe(read(c, 'vitals.csv'));
    expect(read(a, 'outcomes.csv')).not.toBe(read(c, 'outcomes.csv'));
  });

  it('writes the warehouse columns as headers, and values parse as their declared types', () => {
    for (const table of ['patients', 'admissions', 'icustays'] as const) {
      const header = read(a, `${table}.csv`).split('\n', 1)[0]!.split(',');
      expect(header).toEqual(TABLES[table].columns.map((col) => col.name));
    }
    expect(read(a, 'vitals.csv').split('\n', 1)[0]!.split(',')).toEqual([...TABLES.vitals.columns.map((col) => col.name), 'blood_pressure']);
    expect(read(a, 'outcomes.csv').split('\n', 1)[0]!.split(',')).toEqual([...OUTCOME_COLUMNS]);
    expect(read(a, 'profiles.csv').split('\n', 1)[0]).toBe('patient_id,spo2_scale,baseline_confusion');
    for (const row of rows(a, 'profiles')) {
      expect(['1', '2']).toContain(row.spo2_scale);
      expect(['true', 'false']).toContain(row.baseline_confusion);
    }
    for (const row of rows(a, 'outcomes')) {
      expect(['event', 'discharge', 'expected_death']).toContain(row.outcome);
      expect(['true', 'false']).toContain(row.palliative);
      expect(['continuous', 'intermittent']).toContain(row.observation_mode);
    }
    for (const table of ['patients', 'admissions', 'icustays', 'vitals'] as const) {
      for (const row of rows(a, table)) {
        for (const col of TABLES[table].columns) {
          const value = row[col.name]!;
          if (value === '') { expect(col.required, `${table}.${col.name} is required`).toBeFalsy(); continue; }
          if (col.type === 'TIMESTAMP') expect(value).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/);
          if (col.type === 'DATE') expect(value).toMatch(/^\d{4}-\d{2}-\d{2}$/);
          if (col.type === 'BOOL') expect(['true', 'false']).toContain(value);
          if (col.type === 'FLOAT64' || col.type === 'INT64') expect(Number.isFinite(Number(value)), `${table}.${col.name}=${value}`).toBe(true);
        }
      }
    }
  });

  it('keeps each reading once in vitals.csv, with plausible parsed values in °C', () => {
    const vitals = rows(a, 'vitals');
    expect(new Set(vitals.map((r) => r.reading_id)).size).toBe(vitals.length);
    const jsonl = read(a, 'readings.jsonl').trim().split('\n');
    expect(jsonl.length).toBeGreaterThan(vitals.length); // duplicates and refused readings were delivered too
    for (const r of vitals) {
      if (r.temperature_c !== '') {
        expect(Number(r.temperature_c)).toBeGreaterThan(32);
        expect(Number(r.temperature_c)).toBeLessThan(43);
      }
      if (r.heart_rate !== '') expect(Number(r.heart_rate)).toBeLessThanOrEqual(220);
      if (r.systolic !== '') expect(Number(r.systolic)).toBeGreaterThan(Number(r.diastolic));
      if (r.spo2 !== '') expect(Number(r.spo2)).toBeLessThanOrEqual(100);
    }
  });

  it('has outcomes consistent with admissions: event_at inside the stay, trajectories as documented', () => {
    const admissions = new Map(rows(a, 'admissions').map((r) => [r.admission_id, r]));
    const icu = new Map(rows(a, 'icustays').map((r) => [r.admission_id, r]));
    const outcomes = rows(a, 'outcomes');
    expect(outcomes).toHaveLength(300);
    const lastReading = new Map<string, number>();
    for (const v of rows(a, 'vitals')) lastReading.set(v.patient_id!, Math.max(lastReading.get(v.patient_id!) ?? 0, Date.parse(v.observed_at!)));
    const byTrajectory: Record<string, { events: number; total: number }> = {};
    for (const o of outcomes) {
      const adm = admissions.get(o.admission_id!)!;
      const t = (byTrajectory[o.trajectory!] ??= { events: 0, total: 0 });
      t.total++;
      expect(o.patient_id).toBe(adm.patient_id);
      if (o.outcome === 'event') {
        t.events++;
        const eventAt = Date.parse(o.event_at!);
        expect(eventAt).toBeGreaterThan(Date.parse(adm.admitted_at!));
        expect(eventAt).toBeLessThanOrEqual(Date.parse(adm.discharged_at!));
        expect(lastReading.get(o.patient_id!) ?? 0).toBeLessThan(eventAt); // no ward readings after the event
        if (o.event_kind === 'death') {
          expect(adm.died_at).toBe(o.event_at);
          expect(adm.hospital_expire_flag).toBe('true');
        } else {
          expect(o.event_kind).toBe('icu_escalation');
          expect(icu.get(o.admission_id!)?.icu_intime).toBe(o.event_at);
        }
      } else {
        expect(['discharge', 'expected_death']).toContain(o.outcome);
        expect(o.event_at).toBe('');
        expect(adm.died_at === '').toBe(o.outcome === 'discharge');
        expect(icu.has(o.admission_id!)).toBe(false);
      }
    }
    // PHYSIOLOGY.md: only a deterioration ends in an event, and a treated one can end at home;
    // a palliative patient's death is expected, not an event.
    expect(byTrajectory.deteriorating!.events).toBeGreaterThan(0);
    expect(byTrajectory.deteriorating!.events).toBeLessThan(byTrajectory.deteriorating!.total);
    expect(byTrajectory.stable!.events).toBe(0);
    expect(byTrajectory.recovering!.events).toBe(0);
    expect(byTrajectory.stable!.total).toBeGreaterThan(byTrajectory.deteriorating!.total);
    for (const o of outcomes.filter((x) => x.outcome === 'expected_death')) {
      expect(o.palliative).toBe('true');
      expect(admissions.get(o.admission_id!)!.died_at).not.toBe('');
    }
  });
});
