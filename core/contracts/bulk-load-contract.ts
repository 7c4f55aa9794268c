import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BulkLoad, CsvFilePlan } from '../ports/bulk-load.ts';
import type { Warehouse, WarehouseRow } from '../ports/warehouse.ts';
import { TABLES } from '../warehouse-schema.ts';
import { runPrefix } from './wait-for.ts';

/** What an adapter's test hands the suite: the bulk loads and the warehouse they write into. */
export interface BulkLoadUnderTest {
  readonly bulkLoad: BulkLoad;
  readonly warehouse: Warehouse;
  /** Closes whatever the adapter opened besides the warehouse (an object store). */
  readonly close?: () => Promise<void>;
}

/**
 * The bulk-load contract (core/ports/bulk-load.ts), run by every bulk-load adapter's tests. It
 * writes `patients` rows with per-run ids and only looks at those (tables are shared).
 */
export function describeBulkLoadContract(name: string, make: () => Promise<BulkLoadUnderTest>, options: { testTimeoutMs?: number } = {}): void {
  const run = runPrefix('bl');
  const timeout = options.testTimeoutMs ?? 60_000;

  describe(`bulk-load contract: ${name}`, () => {
    let under: BulkLoadUnderTest;
    let dir: string;

    beforeAll(async () => {
      under = await make();
      await under.warehouse.provision();
      dir = mkdtempSync(path.join(tmpdir(), 'vigil-bulk-contract-'));
    }, timeout);

    afterAll(async () => {
      await under?.close?.();
      await under?.warehouse.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const patient = (id: string, gender: string, dob: string): WarehouseRow =>
      ({ patient_id: `${run}-${id}`, gender, date_of_birth: dob, date_of_death: null, expire_flag: false });
    /** This run's patients whose id starts with `${run}-${group}`: id, gender, date of birth. */
    const held = async (group: string): Promise<string[][]> => {
      const p = under.warehouse.dialect === 'duckdb' ? '$prefix' : '@prefix';
      const result = await under.warehouse.query(`SELECT patient_id, gender, date_of_birth FROM patients WHERE patient_id LIKE ${p} ORDER BY patient_id`, { prefix: `${run}-${group}%` });
      return result.rows.map((r) => [String(r.patient_id), String(r.gender), (r.date_of_birth as Date).toISOString().slice(0, 10)]);
    };
    async function* batches(...groups: WarehouseRow[][]): AsyncGenerator<WarehouseRow[]> {
      for (const g of groups) yield g;
    }

    it('replaceRowsFrom replaces rows by key over every batch, leaves other keys alone, and a reload changes nothing', async () => {
      await under.bulkLoad.replaceRowsFrom('patients', batches([patient('R1', 'F', '1950-01-01'), patient('R2', 'M', '1960-01-01')]));
      const result = await under.bulkLoad.replaceRowsFrom('patients', batches([patient('R2', 'F', '1961-02-02')], [patient('R3', 'M', '1970-03-03')]));
      expect(result.rows).toBe(2);
      const expected = [[`${run}-R1`, 'F', '1950-01-01'], [`${run}-R2`, 'F', '1961-02-02'], [`${run}-R3`, 'M', '1970-03-03']];
      expect(await held('R')).toEqual(expected);
      await under.bulkLoad.replaceRowsFrom('patients', batches([patient('R2', 'F', '1961-02-02')], [patient('R3', 'M', '1970-03-03')]));
      expect(await held('R')).toEqual(expected);
    }, timeout);

    it('replaceRowsFrom is atomic: a source that throws after its first batch leaves the table as it was', async () => {
      await under.bulkLoad.replaceRowsFrom('patients', batches([patient('A1', 'F', '1950-01-01')]));
      async function* failing(): AsyncGenerator<WarehouseRow[]> {
        yield [patient('A1', 'M', '1999-09-09'), patient('A2', 'M', '1999-09-09')];
        throw new Error('too many bad rows');
      }
      await expect(under.bulkLoad.replaceRowsFrom('patients', failing())).rejects.toThrow('too many bad rows');
      expect(await held('A')).toEqual([[`${run}-A1`, 'F', '1950-01-01']]);
    }, timeout);

    const columns = TABLES.patients.columns;
    const plan: CsvFilePlan = {
      headerLength: 3,
      columns: ['patient_id', 'gender', 'date_of_birth'].map((n, index) => ({ index, column: columns.find((c) => c.name === n)!, dates: { formats: ['iso'], timeZone: 'UTC' } })),
    };

    it('replaceFromCsvFile loads the file with the loader\'s conversions, or leaves it to the streamed path (undefined)', async () => {
      const file = path.join(dir, 'clean.csv');
      writeFileSync(file, `patient_id,gender,dob\n${run}-C1,F,1950-01-01\n${run}-C2,M,1960-06-30\n`);
      const result = await under.bulkLoad.replaceFromCsvFile('patients', file, plan, { commitIf: () => Promise.resolve(true) });
      if (result === undefined) {
        expect(await held('C')).toEqual([]);
        return;
      }
      expect(result.rows).toBe(2);
      expect(await held('C')).toEqual([[`${run}-C1`, 'F', '1950-01-01'], [`${run}-C2`, 'M', '1960-06-30']]);
    }, timeout);

    it('replaceFromCsvFile changes nothing when a value is refused or commitIf says no', async () => {
      await under.bulkLoad.replaceRowsFrom('patients', batches([patient('X1', 'F', '1950-01-01')]));
      const bad = path.join(dir, 'bad.csv');
      writeFileSync(bad, `patient_id,gender,dob\n${run}-X1,M,1999-01-01\n${run}-X2,M,not a date\n`);
      const outcome = (load: Promise<unknown>) => load.then((r) => (r === undefined ? 'left to the streamed path' : 'loaded'), () => 'refused');
      expect(await outcome(under.bulkLoad.replaceFromCsvFile('patients', bad, plan))).not.toBe('loaded');
      const clean = path.join(dir, 'refused.csv');
      writeFileSync(clean, `patient_id,gender,dob\n${run}-X1,M,1999-01-01\n`);
      expect(await outcome(under.bulkLoad.replaceFromCsvFile('patients', clean, plan, { commitIf: () => Promise.resolve(false) }))).not.toBe('loaded');
      expect(await held('X')).toEqual([[`${run}-X1`, 'F', '1950-01-01']]);
    }, timeout);
  });
}
