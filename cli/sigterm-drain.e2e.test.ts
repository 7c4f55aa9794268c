/**
 * SIGTERM under load on the embedded default (issue 13, item 4): devices post readings as fast as
 * the edge answers while `vigil start` is told to stop. It must exit 0 after draining: every reading
 * it answered 202 for is, after it exits (and a restart picks up what was still on the bus), in
 * the time series and the warehouse exactly once, and none is dead-lettered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteTimeSeriesStore } from '../adapters/embedded/timeseries-sqlite.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { createReadingLedger } from '../adapters/shared/test-support/reading-ledger.ts';
import { waitFor } from '../core/contracts/wait-for.ts';
import { readingIdOf } from '../core/wire/reading-codec.ts';
import { signToken } from '../http/auth.ts';
import type { VigilProcess } from './test-support/vigil-process.ts';
import { eventually, startVigil } from './test-support/vigil-process.ts';

const SECRET = 'drain-secret-0123456789abcdef';
const DEVICES = 4;

describe('SIGTERM under load on the embedded default', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-drain-'));
  const env = { VIGIL_DATA_DIR: dataDir, VIGIL_AUTH_SECRET: SECRET, VIGIL_SIMULATE: '0', VIGIL_ACK_DEADLINE_MS: '5000' };
  let vigil: VigilProcess | undefined;

  afterAll(async () => {
    await vigil?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('drains and exits 0; every reading answered 202 is stored once in both stores after a restart, none dead-lettered', async () => {
    vigil = await startVigil('start', env);
    const url = vigil.url;
    const token = signToken(SECRET, { sub: 'drain-devices', role: 'device', expiresIn: '1h' });
    const ledger = createReadingLedger();
    const t0 = Date.now() - 3_600_000;
    let sent = 0;
    let stopping = false;

    // Devices post one reading at a time, back to back, through the SIGTERM until the edge stops answering.
    const device = async (d: number): Promise<void> => {
      for (let i = 0; ; i++) {
        const observedAt = t0 + (sent++) * 10;
        const body = { deviceId: `drain-${d}`, patientId: `DRAIN${d}`, observedAt: new Date(observedAt).toISOString(), heartRate: 70 + (i % 20), spo2: 97 };
        const id = readingIdOf(body.deviceId, body.patientId, observedAt);
        try {
          const res = await fetch(`${url}/v1/readings`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
          if (res.status === 202) ledger.accepted(id);
          else {
            ledger.refused(id);
            if (stopping) return; // the edge is closing: a device would resend elsewhere or later
          }
        } catch {
          ledger.refused(id); // the listener closed: the edge said nothing, the device would resend
          return;
        }
      }
    };
    const devices = Array.from({ length: DEVICES }, (_, d) => device(d));
    await waitFor(() => ledger.counts.accepted >= 300, 30_000, '300 readings accepted before SIGTERM');
    stopping = true;
    const acceptedAtSignal = ledger.counts.accepted;
    const exit = await vigil.stop('SIGTERM');
    await Promise.all(devices);
    expect(exit, vigil.output().slice(-3_000)).toBe(0);
    expect(vigil.output()).not.toMatch(/"level":(50|60)/);

    // A restart takes whatever was still on the bus (nothing, if the drain finished it).
    vigil = await startVigil('start', env);
    const timeseries = createSqliteTimeSeriesStore({ path: path.join(dataDir, 'timeseries.sqlite') });
    const storedIds = async (): Promise<string[]> => {
      const ids: string[] = [];
      for (let d = 0; d < DEVICES; d++) ids.push(...(await timeseries.readReadings(`DRAIN${d}`, { from: 0, to: Date.now() })).map((r) => r.readingId));
      return ids;
    };
    try {
      await eventually(async () => (ledger.missing({ 'time series': await storedIds() }) === 0 ? true : undefined), 30_000, 'every accepted reading in the time series')
        .catch(async (error: unknown) => { throw new Error(`${(error as Error).message}\n${ledger.problems({ 'time series': await storedIds() }).join('\n')}`); });
      expect(await vigil.stop('SIGTERM')).toBe(0);
      vigil = undefined;
      const warehouse = await createDuckDbWarehouse({ path: path.join(dataDir, 'warehouse.duckdb') });
      try {
        const vitals = (await warehouse.query("SELECT reading_id FROM vitals WHERE patient_id LIKE 'DRAIN%'")).rows as { reading_id: string }[];
        const dead = (await warehouse.query('SELECT count(*)::INT AS n FROM dead_letters')).rows;
        console.log(`SIGTERM drain: ${ledger.counts.accepted} accepted (${acceptedAtSignal} when signalled), ${ledger.counts.refused} refused while stopping`);
        expect(ledger.problems({ 'time series': await storedIds(), 'warehouse vitals': vitals.map((r) => r.reading_id) }), 'where each problem reading is').toEqual([]);
        expect(dead).toEqual([{ n: 0 }]);
      } finally {
        await warehouse.close();
      }
    } finally {
      await timeseries.close();
    }
  }, 120_000);
});
