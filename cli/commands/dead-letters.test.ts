import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteBus } from '../../adapters/embedded/bus-sqlite.ts';
import { createSqliteTimeSeriesStore } from '../../adapters/embedded/timeseries-sqlite.ts';
import { createDuckDbWarehouse } from '../../adapters/embedded/warehouse-duckdb.ts';
import { loadConfig } from '../../core/config.ts';
import { createInMemoryPatientUpdates } from '../../core/domain/patient-updates.ts';
import type { RawReading } from '../../core/domain/reading.ts';
import { toRawReading } from '../../core/domain/validate-ingest.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createMetrics } from '../../core/observability/metrics.ts';
import type { Bus, OutgoingMessage } from '../../core/ports/bus.ts';
import type { TimeSeriesStore } from '../../core/ports/timeseries-store.ts';
import type { Warehouse } from '../../core/ports/warehouse.ts';
import { CONTENT_TYPE_JSON, READING_ATTRIBUTES, encodeReading } from '../../core/wire/reading-codec.ts';
import { openBus, openWarehouse } from '../wiring/open-backends.ts';
import { startProcessor } from '../../stream-processor/processor.ts';
import { runDeadLetters } from './dead-letters.ts';
import { capture, holdWarehouse } from '../test-support/cli-output.ts';
import { budget, eventually as waitUntil } from '../../core/contracts/wait-for.ts';

const VIGIL_BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));
const T0 = Date.parse('2026-11-22T10:00:00Z');
const logger = createLogger({ level: 'silent' });

let dir: string;
const config = () => loadConfig({ VIGIL_DATA_DIR: dir });

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-dead-letters-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


/** `vigil dead-letters ...` on the embedded default in `dir`, opened as the command opens it. */
async function deadLetters(args: string[]) {
  const stdout = capture();
  const stderr = capture();
  const c = config();
  const code = await runDeadLetters(args, {
    openWarehouse: () => openWarehouse(c, logger, { readOnly: true }),
    openBus: () => openBus(c, logger),
    readingsTopic: c.bus.readingsTopic,
    dataset: c.warehouse.bigqueryDataset,
    stdout: stdout.stream,
    stderr: stderr.stream,
    // Pages of 2 so a replay of the 7 dead letters reads and publishes in several rounds.
    replayPage: 2,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** The package bin in a child process, as an operator runs it. */
function vigilBin(args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VIGIL_BIN, 'dead-letters', ...args], { env: { ...process.env, VIGIL_DATA_DIR: dataDir } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function reading(patientId: string, minute: number, body: Record<string, unknown> = {}): RawReading {
  const result = toRawReading({ deviceId: `bed-${patientId}`, patientId, observedAt: T0 + minute * 60_000, heartRate: 80, spo2: 97, ...body }, { receivedAt: T0 + minute * 60_000 + 500, source: 'json' });
  if (!result.ok) throw new Error(`test reading invalid: ${JSON.stringify(result.errors)}`);
  return result.reading;
}

const avro = (r: RawReading): OutgoingMessage => ({ data: encodeReading(r), attributes: READING_ATTRIBUTES, orderingKey: r.patientId });

interface Backends { bus: Bus; timeseries: TimeSeriesStore; warehouse: Warehouse }

/** A processor on the data folder, as `vigil start` runs it; closed (releasing the DuckDB file) after `work`. */
async function withProcessor(work: (backends: Backends, metrics: ReturnType<typeof createMetrics>) => Promise<void>): Promise<void> {
  const c = config();
  const bus = await createSqliteBus({ path: path.join(dir, 'bus.sqlite'), logger });
  const timeseries = await createSqliteTimeSeriesStore({ path: path.join(dir, 'timeseries.sqlite') });
  const warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  await bus.provision([
    { topic: c.bus.readingsTopic, subscriptions: [{ name: c.bus.subscription, ackDeadlineMs: 5_000, deadLetterTopic: c.bus.deadLetterTopic, maxDeliveryAttempts: 5 }] },
    { topic: c.bus.deadLetterTopic },
  ]);
  await timeseries.provision();
  await warehouse.provision();
  const metrics = createMetrics({ defaultMetrics: false });
  const processor = await startProcessor({
    bus, timeseries, warehouse, metrics, logger, updates: createInMemoryPatientUpdates(),
    settings: {
      ...c.processor, maxBatchWaitMs: 10, rescoreDebounceMs: 20,
      topic: c.bus.readingsTopic, subscription: c.bus.subscription, deadLetterTopic: c.bus.deadLetterTopic,
      retry: { attempts: 2, initialDelayMs: 5, maxDelayMs: 10 },
    },
  });
  try {
    await work({ bus, timeseries, warehouse }, metrics);
  } finally {
    await processor.stop();
    await bus.close();
    await timeseries.close();
    await warehouse.close();
  }
}

function eventually<T>(what: string, probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  return waitUntil(what, probe, accept, timeoutMs);
}

const count = async (warehouse: Warehouse, sql: string) => Number((await warehouse.query(sql)).rows[0]!.n);

async function counterSum(metrics: ReturnType<typeof createMetrics>, ...names: string[]): Promise<number> {
  let sum = 0;
  for (const name of names) sum += (await metrics.registry.getSingleMetric(name)!.get()).values.reduce((s, v) => s + v.value, 0);
  return sum;
}

// Written as if the processor had dead-lettered them for a cause since fixed (a store that kept
// failing): valid readings, in each payload form a dead letter can hold.
const P1_STORED = reading('P1', 0);
const P3_AVRO = reading('P3', 1);
const P4_JSON_BODY = { deviceId: 'bed-P4', patientId: 'P4', observedAt: '2026-11-22T10:02:00Z', heartRate: 91, spo2: 95 };
const P5_BYTES = reading('P5', 3);
const TRANSIENT = 'store write failed: Transient outage (simulated)';
const directRows = [
  { dead_letter_id: 'transient-p1-already-stored', received_at: new Date(T0 + 1_000), source: 'json', reason: TRANSIENT, field: 'store', patient_id: 'P1', payload: JSON.stringify(P1_STORED) },
  { dead_letter_id: 'transient-p3-avro-record', received_at: new Date(T0 + 2_000), source: 'json', reason: TRANSIENT, field: 'store', patient_id: 'P3', payload: JSON.stringify(P3_AVRO) },
  { dead_letter_id: 'transient-p4-json-body', received_at: new Date(T0 + 3_000), source: 'json', reason: TRANSIENT, field: 'store', patient_id: 'P4', payload: JSON.stringify(P4_JSON_BODY) },
  { dead_letter_id: 'transient-p5-avro-bytes', received_at: new Date(T0 + 4_000), source: 'bus', reason: TRANSIENT, field: 'store', patient_id: 'P5', payload: `base64:${encodeReading(P5_BYTES).toString('base64')}` },
  { dead_letter_id: 'edge-hl7-refused', received_at: new Date(T0 - 2 * 86_400_000), source: 'hl7v2', reason: 'OBX-5 is not a number', field: null, patient_id: 'P6', payload: 'MSH|^~\\&|MON|WARD|VIGIL|HOSP|20261120100000||ORU^R01|1|P|2.5\rPID|||P6' },
];

describe('vigil dead-letters on the embedded default', () => {
  beforeAll(async () => {
    // The cohort: P1's readings are stored; an implausible JSON reading (P2) and bytes that are no
    // reading at all are dead-lettered by the processor; five more rows stand for other causes.
    await withProcessor(async ({ bus, timeseries, warehouse }) => {
      await bus.publish(config().bus.readingsTopic, [P1_STORED, reading('P1', 5), reading('P1', 10)].map(avro));
      await bus.publish(config().bus.readingsTopic, [
        { data: Buffer.from(JSON.stringify({ deviceId: 'bed-P2', patientId: 'P2', observedAt: '2026-11-22T10:00:00Z', heartRate: 900 })), attributes: { 'content-type': CONTENT_TYPE_JSON }, orderingKey: 'P2' },
        { data: new Uint8Array([0xde, 0xad, 0xbe, 0xef]), attributes: READING_ATTRIBUTES },
      ]);
      await eventually('P1 stored', () => timeseries.readReadings('P1', { from: 0, to: T0 + 86_400_000 }), (r) => r.length === 3);
      await eventually('two processor dead letters', () => count(warehouse, 'SELECT count(*)::INT AS n FROM dead_letters'), (n) => n === 2);
      await warehouse.append('dead_letters', directRows);
    });
  }, budget(60_000));

  it('lists every dead letter without its payload, and the full rows with --json', async () => {
    const all = await deadLetters(['list']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain('(7 dead letters)');
    for (const row of directRows) expect(all.stdout).toContain(row.dead_letter_id);
    expect(all.stdout).toMatch(/heartRate/);
    expect(all.stdout).not.toContain('MSH|');
    expect(all.stdout).not.toContain('bed-P2');

    const json = await deadLetters(['list', '--json']);
    const rows = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { deadLetterId: string; payload: string; receivedAt: string });
    expect(rows).toHaveLength(7);
    expect(rows.find((r) => r.deadLetterId === 'edge-hl7-refused')).toMatchObject({ payload: directRows[4]!.payload, receivedAt: '2026-11-20T10:00:00.000Z' });
  });

  it('filters by --patient, --reason (case-insensitive substring), --since and --limit, and refuses an id ingest would', async () => {
    const ids = async (args: string[]) => {
      const result = await deadLetters(['list', '--json', ...args]);
      expect(result.code, result.stderr).toBe(0);
      return result.stdout.trim().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { deadLetterId: string }).deadLetterId);
    };
    expect(await ids(['--patient', 'P3'])).toEqual(['transient-p3-avro-record']);
    expect(await ids(['--reason', 'TRANSIENT OUTAGE'])).toEqual(directRows.slice(0, 4).map((r) => r.dead_letter_id));
    expect(await ids(['--since', '2026-11-21T00:00:00Z'])).toHaveLength(6);
    expect(await ids(['--since', '2026-11-21T00:00:00Z', '--reason', 'transient', '--patient', 'P5'])).toEqual(['transient-p5-avro-bytes']);
    expect(await ids(['--limit', '2'])).toEqual(['edge-hl7-refused', 'transient-p1-already-stored']);
    expect((await deadLetters(['list', '--limit', '2'])).stderr).toContain('more match than the 2 shown');
    expect((await deadLetters(['list', '--limit', '7'])).stderr).toBe('');
    await expect(deadLetters(['list', '--patient', 'P1; drop table'])).rejects.toThrow(/--patient is not an id ingest accepts/);
    await expect(deadLetters(['list', '--since', '2026-11-21 00:00'])).rejects.toThrow(/--since must be ISO 8601 with an offset/);
  });

  it('replays the readings (Avro as Avro, JSON as JSON), skips the edge-refused HL7 and the undecodable bytes, and stores each once after two replays', async () => {
    const dry = await deadLetters(['replay', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would replay 5 of 7 dead letters onto vigil-readings (avro 3, json 2)');
    const firstThree = await deadLetters(['replay', '--dry-run', '--limit', '3']);
    expect(firstThree.stdout).toContain('would replay 2 of 3 dead letters');

    for (let round = 0; round < 2; round++) {
      const replay = await deadLetters(['replay']);
      expect(replay.code, replay.stderr).toBe(0);
      expect(replay.stdout).toContain('replayed 5 of 7 dead letters onto vigil-readings (avro 3, json 2)');
      expect(replay.stdout).toContain('skipped 2');
      expect(replay.stdout).toContain('1  refused at the hl7v2 edge (resend from the sender)');
      expect(replay.stdout).toContain('1  not a reading (undecodable bytes)');
      // Each round put 4 valid readings and P2's implausible one on the bus: wait until the processor settled all 5.
      await withProcessor(async (_backends, metrics) => {
        await eventually(`round ${round + 1}: the processor took the 4 replayed readings and refused P2's again`,
          async () => ({ readings: await counterSum(metrics, 'vigil_readings_processed_total', 'vigil_readings_duplicate_total'), deadLetters: await counterSum(metrics, 'vigil_dead_letters_total') }),
          (n) => n.readings >= 4 && n.deadLetters >= 1);
      });
    }

    await withProcessor(async ({ timeseries, warehouse }) => {
      const stored = async (patientId: string) => (await timeseries.readReadings(patientId, { from: 0, to: T0 + 86_400_000 })).length;
      expect({ P1: await stored('P1'), P3: await stored('P3'), P4: await stored('P4'), P5: await stored('P5') }).toEqual({ P1: 3, P3: 1, P4: 1, P5: 1 });
      for (const patient of ['P1', 'P3', 'P4', 'P5']) {
        const vitals = await warehouse.query(`SELECT count(*)::INT AS n, count(DISTINCT reading_id)::INT AS ids FROM vitals WHERE patient_id = '${patient}'`);
        expect(vitals.rows[0]!.n, `vitals rows of ${patient}`).toBe(vitals.rows[0]!.ids);
      }
      expect(await count(warehouse, "SELECT count(*)::INT AS n FROM vitals WHERE patient_id IN ('P3', 'P4', 'P5')")).toBe(3);
      // P2's reading is still implausible: it is refused again onto the same dead-letter row.
      expect(await count(warehouse, 'SELECT count(*)::INT AS n FROM dead_letters')).toBe(7);
    });
  }, budget(60_000));

  it('says why (exit 69) when a running server holds the embedded warehouse', async () => {
    const held = path.join(dir, 'held');
    mkdirSync(held);
    const holder = await holdWarehouse(path.join(held, 'warehouse.duckdb'));
    try {
      const result = await vigilBin(['list'], held);
      expect(result.code).toBe(69);
      expect(result.stderr).toContain('a running "vigil start" holds the embedded warehouse');
    } finally {
      holder.kill();
    }
  }, budget(30_000));

  it('answers --help for the command and each subcommand', async () => {
    const list = await vigilBin(['list', '--help'], dir);
    expect(list.code).toBe(0);
    for (const option of ['--since', '--patient', '--reason', '--limit', '--json']) expect(list.stdout).toContain(option);
    const replay = await vigilBin(['replay', '--help'], dir);
    for (const option of ['--since', '--patient', '--reason', '--dry-run', 'Idempotent']) expect(replay.stdout).toContain(option);
    const usage = await vigilBin([], dir);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('a subcommand is needed: list or replay');
  }, budget(30_000));
});

