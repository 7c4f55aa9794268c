import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../../adapters/embedded/warehouse-duckdb.ts';
import { runLoad } from './load.ts';
import { runSql } from './sql.ts';
import { capture } from '../test-support/cli-output.ts';
import { createDuckDbBulkLoad } from '../../adapters/embedded/bulk-load-duckdb.ts';

async function duckDbBulkLoad(file: string) {
  const warehouse = await createDuckDbWarehouse({ path: file });
  return { warehouse, bulkLoad: createDuckDbBulkLoad(warehouse) };
}

const DEMO = path.resolve(import.meta.dirname, '../../../shared/data/mimic-iii-demo');

let dir: string;
let dbPath: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-load-'));
  dbPath = path.join(dir, 'warehouse.duckdb');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));


async function vigil(command: 'load' | 'sql', args: string[]) {
  const stdout = capture();
  const stderr = capture();
  const io = { openWarehouse: () => createDuckDbWarehouse({ path: dbPath }), openBulkLoad: () => duckDbBulkLoad(dbPath), stdout: stdout.stream, stderr: stderr.stream };
  const code = command === 'load' ? await runLoad(args, io) : await runSql(args, io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('vigil load and vigil sql on the MIMIC-III demo', () => {
  it('loads PATIENTS, ADMISSIONS and ICUSTAYS with zero rejects; select count(*) from admissions prints 129', async () => {
    for (const [table, name, rows] of [['patients', 'PATIENTS', 100], ['admissions', 'ADMISSIONS', 129], ['icustays', 'ICUSTAYS', 136]] as const) {
      const result = await vigil('load', ['--table', table, '--rejects', path.join(dir, `${name}.rejects.csv`), path.join(DEMO, `${name}.csv`)]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`loaded ${rows} rows into ${table} (mimic layout), rejected 0`);
      expect(result.stdout).toContain('read and checked inside the warehouse');
      expect(result.stdout).toContain('ignored source columns');
    }
    const count = await vigil('sql', ['select count(*) from admissions']);
    expect(count.code).toBe(0);
    expect(count.stdout.split('\n')[2]!.trim()).toBe('129');
  });

  it('answers the views on the demo, including its ICU entry before admission', async () => {
    const result = await vigil('sql', ['select admission_id, waiting_minutes, icu_before_admission from icu_waiting_times where icu_before_admission', '--format', 'json']);
    expect(JSON.parse(result.stdout)).toEqual([{ admission_id: '110958', waiting_minutes: null, icu_before_admission: true }]);
    const unified = await vigil('sql', ['select count(*) as n, count(distinct patient_id) as patients from patient_unified', '--format', 'csv']);
    expect(unified.stdout).toBe('n,patients\n129,100\n');
  });

  it('refuses the as-found copy naming the two-digit-year problem, and loads it once the century is given', async () => {
    const before = await vigil('sql', ['select min(admitted_at) as first from admissions', '--format', 'csv']);
    const file = path.join(DEMO, 'as-found', 'ADMISSIONS.csv');
    const rejects = path.join(dir, 'as-found.rejects.csv');
    const refused = await vigil('load', ['--table', 'admissions', '--rejects', rejects, file]);
    expect(refused.code).toBe(65);
    expect(refused.stdout).toContain('loaded 0 rows into admissions, rejected 129');
    expect(refused.stderr).toMatch(/two-digit years .* --century/);
    expect((await vigil('sql', ['select min(admitted_at) as first from admissions', '--format', 'csv'])).stdout).toBe(before.stdout);

    const loaded = await vigil('load', ['--table', 'admissions', '--century', '21', '--rejects', rejects, file]);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stdout).toContain('loaded 129 rows into admissions (mimic layout), rejected 0');
    expect(loaded.stdout).toContain('read and checked inside the warehouse');
    const first = await vigil('sql', ["select admitted_at from admissions where admission_id = '142345'", '--format', 'csv']);
    expect(first.stdout).toBe('admitted_at\n2164-10-23T21:09:00.000Z\n');
  });

  it('explains a century given as an ordinal, and a table it cannot load', async () => {
    await expect(vigil('load', ['--table', 'admissions', '--century', '21st', 'x.csv'])).rejects.toThrow(/first two digits of the year/);
    await expect(vigil('load', ['--table', 'vitals', 'x.csv'])).rejects.toThrow(/--table must be one of patients, admissions, icustays/);
    expect((await vigil('load', ['--table', 'admissions', path.join(dir, 'missing.csv')])).code).toBe(66);
  });

  it('prints csv, json, a table and an Arrow IPC stream with typed columns', async () => {
    const query = "select patient_id, date_of_birth, expire_flag, count(*) over () as n from patients where patient_id = '10006'";
    expect((await vigil('sql', [query, '--format', 'csv'])).stdout).toBe('patient_id,date_of_birth,expire_flag,n\n10006,2094-03-05,true,1\n');
    expect(JSON.parse((await vigil('sql', [query, '--format', 'json'])).stdout)).toEqual([{ patient_id: '10006', date_of_birth: '2094-03-05', expire_flag: true, n: 1 }]);
    expect((await vigil('sql', [query])).stdout).toBe(
      'patient_id  date_of_birth  expire_flag  n\n----------  -------------  -----------  -\n10006       2094-03-05     true         1\n(1 row)\n',
    );
    const out = path.join(dir, 'result.arrow');
    expect((await vigil('sql', [query, '--format', 'arrow', '--out', out])).code).toBe(0);
    const { readFileSync } = await import('node:fs');
    const table = tableFromIPC(readFileSync(out));
    expect(table.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['patient_id:Utf8', 'date_of_birth:Date32<DAY>', 'expire_flag:Bool', 'n:Int64']);
    expect(table.get(0)?.toJSON()).toEqual({ patient_id: '10006', date_of_birth: Date.UTC(2094, 2, 5), expire_flag: true, n: 1n });
  });

  it('reports bad SQL with exit status 65', async () => {
    const result = await vigil('sql', ['selec 1']);
    expect(result.code).toBe(65);
    expect(result.stderr).toContain('syntax error');
  });
});

describe('vigil load reads regular files only', () => {
  const refusingIo = () => {
    const stdout = capture();
    const stderr = capture();
    const io = {
      openBulkLoad: () => Promise.reject(new Error('the warehouse must not be opened for a file that cannot be loaded')),
      stdout: stdout.stream,
      stderr: stderr.stream,
    };
    return { io, stderr };
  };

  it.each([
    ['a directory', () => dir, 'is a directory'],
    ['a FIFO (which would block the read forever)', () => fifo(), 'is a named pipe (FIFO)'],
    ['a device', () => '/dev/null', 'is a device'],
    ['a symlink to a directory', () => link(dir, 'to-dir.csv'), 'is a directory (through a symbolic link)'],
    ['a symlink to a FIFO', () => link(fifo(), 'to-fifo.csv'), 'is a named pipe (FIFO) (through a symbolic link)'],
    ['a dangling symlink', () => link(path.join(dir, 'gone'), 'dangling.csv'), 'is a dangling symbolic link'],
  ])('refuses %s with a clear message and exit 66', async (_what, target, message) => {
    const { io, stderr } = refusingIo();
    const file = target();
    expect(await runLoad(['--table', 'patients', file], io)).toBe(66);
    expect(stderr.text()).toBe(`vigil load: ${path.resolve(file)} ${message}; give a regular CSV file\n`);
  });

  it('never echoes a file that is not a CSV (a symlink to a secret-like first line)', async () => {
    const secret = path.join(dir, 'shadow-like');
    writeFileSync(secret, 'root:$6$saltsalt$SECRETHASHVALUE0123456789:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n');
    const { code, stderr, stdout } = await vigil('load', ['--table', 'patients', link(secret, 'innocent.csv')]);
    expect(code).toBe(65);
    expect(stderr).toContain('header does not fit');
    expect(stderr + stdout).not.toContain('SECRETHASH');
    expect(stderr + stdout).not.toContain('daemon');
  });
});

let fifoCount = 0;
function fifo(): string {
  const file = path.join(dir, `pipe-${fifoCount++}`);
  execFileSync('mkfifo', [file]);
  return file;
}
function link(target: string, name: string): string {
  const file = path.join(dir, name);
  symlinkSync(target, file);
  return file;
}
