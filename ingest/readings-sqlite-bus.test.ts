import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteBus } from '../adapters/embedded/bus-sqlite.ts';
import type { RawReading } from '../core/domain/reading.ts';
import { createMetrics } from '../core/observability/metrics.ts';
import type { Bus, DeliveredMessage } from '../core/ports/bus.ts';
import { decodeReading } from '../core/wire/reading-codec.ts';
import { buildApp } from '../cli/build-app.ts';
import { bearer, captureLogs, testConfig } from '../dashboard-api/test-fixtures.ts';
import { createReadingPublisher } from './reading-publisher.ts';

/** The 202 path end to end on the embedded bus: what the edge accepted is on the bus, decodable. */
const TOPIC = 'vigil-readings';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function embeddedEdge(logs = captureLogs()) {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-ingest-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const bus = createSqliteBus({ path: path.join(dir, 'bus.sqlite'), logger: logs.logger });
  cleanups.push(() => bus.close());
  await bus.provision([{ topic: TOPIC, subscriptions: [{ name: 'test' }] }]);
  const metrics = createMetrics({ defaultMetrics: false });
  const publisher = createReadingPublisher({ bus, topic: TOPIC, metrics });
  cleanups.push(() => publisher.close());
  const app = buildApp({ config: testConfig(), logger: logs.logger, metrics, ingest: { publisher }, readiness: [{ name: bus.kind, ping: () => bus.ping() }] });
  cleanups.push(() => app.close());
  return { bus, app };
}

async function drain(bus: Bus, count: number): Promise<DeliveredMessage[]> {
  const received: DeliveredMessage[] = [];
  let done = (): void => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const subscription = await bus.subscribe(
    { topic: TOPIC, subscription: 'test', maxBatchSize: 500, maxBatchWaitMs: 5, maxInFlight: 1000, ackDeadlineMs: 10_000 },
    async (batch) => {
      for (const message of batch) {
        received.push(message);
        await message.ack();
      }
      if (received.length >= count) done();
    },
  );
  await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${received.length} of ${count} delivered`)), 10_000))]);
  await subscription.close();
  return received;
}

describe('POST /v1/readings on the embedded SQLite bus', () => {
  it('answers 202 and the readings are on the bus, decodable, keyed by patient', async () => {
    const { bus, app } = await embeddedEdge();
    const t0 = Date.parse('2026-11-22T10:00:00Z');
    const readings = Array.from({ length: 250 }, (_, i) => ({
      deviceId: `bed-${i % 5}`, patientId: `P${i % 5}`, observedAt: t0 + i * 1000,
      heartRate: 60 + (i % 40), bloodPressure: '118/76', temperature: 98.6, temperatureUnit: 'F', consciousness: 'A',
    }));
    const res = await app.inject({ method: 'POST', url: '/v1/readings', headers: bearer('device', 'gateway-1'), payload: readings });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 250 });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    const delivered = await drain(bus, 250);
    const decoded: RawReading[] = delivered.map((m) => decodeReading(m.data, m.attributes));
    expect(decoded).toHaveLength(250);
    expect(new Set(decoded.map((r) => r.readingId)).size).toBe(250);
    for (const message of delivered) expect(message.orderingKey).toBe(decodeReading(message.data, message.attributes).patientId);
    // Per patient, the bus keeps the order the device sent.
    const p3 = decoded.filter((r) => r.patientId === 'P3').map((r) => r.observedAt);
    expect(p3).toEqual([...p3].sort((a, b) => a - b));
    expect(decoded.find((r) => r.observedAt === t0)).toMatchObject({
      deviceId: 'bed-0', patientId: 'P0', heartRate: 60, bloodPressure: '118/76', temperature: 98.6, temperatureUnit: 'F', source: 'json',
    });
  });

  it('a full disk (SQLITE_FULL, what SQLite makes of ENOSPC) is a 503 + Retry-After and one log line, the file stays whole, and ingest resumes once space is freed', async () => {
    const logs = captureLogs();
    const { bus, app } = await embeddedEdge(logs);
    // Test hook: the bus's own connection. max_page_count makes SQLite's pager refuse to grow the
    // file with SQLITE_FULL, the same code and rollback path a write hitting ENOSPC takes
    // (os_unix.c maps ENOSPC to SQLITE_FULL); nothing is mounted.
    const { db } = bus as unknown as { db: DatabaseSync };
    const { page_count: pages } = db.prepare('PRAGMA page_count').get() as { page_count: number };
    db.exec(`PRAGMA max_page_count = ${pages}`);
    const t0 = Date.parse('2026-11-22T10:00:00Z');
    const batch = (from: number) => Array.from({ length: 200 }, (_, i) => ({
      deviceId: 'bed-1', patientId: 'P1', observedAt: t0 + (from + i) * 1000, heartRate: 70, consciousness: 'A',
    }));
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await app.inject({ method: 'POST', url: '/v1/readings', headers: bearer('device', 'gateway-1'), payload: batch(attempt * 200) });
      expect(res.statusCode, `attempt ${attempt}`).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ code: 'BACKEND_UNAVAILABLE', error: expect.stringContaining('disk') });
    }
    const loud = logs.lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 40);
    expect(loud, 'one warning-or-worse line for the state change, not one per request').toHaveLength(1);
    expect(loud[0]).toContain('disk full');
    expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });

    db.exec('PRAGMA max_page_count = 1073741823'); // space freed
    const res = await app.inject({ method: 'POST', url: '/v1/readings', headers: bearer('device', 'gateway-1'), payload: batch(1000) });
    expect(res.statusCode).toBe(202);
    expect(logs.lines.filter((l) => l.includes('space available again'))).toHaveLength(1);
    const delivered = (await drain(bus, 200)).map((m) => decodeReading(m.data, m.attributes).observedAt);
    expect(delivered, 'only the accepted batch is on the bus; the refused ones were rolled back').toEqual(batch(1000).map((r) => r.observedAt));
  });
});
