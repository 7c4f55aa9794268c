import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeTimeSeriesContract } from '../../core/contracts/timeseries-contract.ts';
import type { VitalReading } from '../../core/domain/reading.ts';
import { createSqliteTimeSeriesStore } from './timeseries-sqlite.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-ts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeTimeSeriesContract('sqlite', async () => createSqliteTimeSeriesStore({ path: path.join(dir, 'contract', 'timeseries.sqlite') }));

const reading = (i: number): VitalReading => ({
  readingId: `r${i}`, patientId: `P${i % 24}`, deviceId: 'bed-1', observedAt: 1_800_000_000_000 + i, receivedAt: 1_800_000_000_000 + i,
  heartRate: 72, systolic: 120, diastolic: 80, temperatureC: 37, spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
});

describe('sqlite time-series store', () => {
  it('keeps what one instance wrote for another instance on the same file', async () => {
    const file = path.join(dir, 'shared', 'timeseries.sqlite');
    const writer = createSqliteTimeSeriesStore({ path: file });
    await writer.writeReadings([reading(1)]);
    await writer.close();
    const reader = createSqliteTimeSeriesStore({ path: file });
    expect(await reader.latestReading('P1')).toEqual(reading(1));
    expect(await reader.listPatients()).toEqual(['P1']);
    await reader.close();
    await expect(reader.listPatients()).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });

  it('writes batches of readings quickly (throughput figure, no assertion on speed)', async () => {
    const store = createSqliteTimeSeriesStore({ path: path.join(dir, 'speed', 'timeseries.sqlite') });
    const total = 200_000;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < total; i += 2_000) await store.writeReadings(Array.from({ length: 2_000 }, (_, j) => reading(i + j)));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    console.log(`sqlite time series: ${total} readings in batches of 2 000 in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} readings/s wall, ${Math.round(total / ((cpu.user + cpu.system) / 1e6))} per CPU-second`);
    expect(await store.listPatients()).toHaveLength(24);
    await store.close();
  }, 60_000);
});
