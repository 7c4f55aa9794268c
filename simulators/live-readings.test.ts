import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedReading } from './device-faults.ts';
import { liveReadings, runSimulation } from './live-readings.ts';
import { createHttpSink, retryAfterMs } from './sink-http.ts';
import { DEFAULT_FAULT_RATES } from './simulation-parameters.ts';
import { createWard } from './ward.ts';

const START = Date.UTC(2026, 10, 22, 10);

/** Polls the ward like a scheduler would, at fixed wall-clock times, without timers. */
function poll(seed: number, rounds: number): SimulatedReading[] {
  const ward = createWard({ patients: 6, seed, faults: DEFAULT_FAULT_RATES, startAt: START });
  const out: SimulatedReading[] = [];
  for (let round = 0; round < rounds; round++) for (let bed = 0; bed < ward.beds; bed++) out.push(...ward.observe(bed, START + round * 60_000 + bed));
  return out;
}

describe('createWard', () => {
  it('is deterministic: same seed, same readings byte for byte; another seed differs', () => {
    const a = JSON.stringify(poll(3, 300).map((r) => r.body));
    expect(JSON.stringify(poll(3, 300).map((r) => r.body))).toBe(a);
    expect(JSON.stringify(poll(4, 300).map((r) => r.body))).not.toBe(a);
  });

  it('emits ingest-format readings stamped with the wall clock, and replaces patients whose stay ended', () => {
    const ward = createWard({ patients: 4, seed: 1, startAt: START, timeScale: 600 });
    let last: SimulatedReading | undefined;
    for (let minute = 0; minute < 6 * 60; minute++) for (let bed = 0; bed < 4; bed++) last = ward.observe(bed, START + minute * 60_000)[0] ?? last;
    expect(last!.body).toMatchObject({ deviceId: 'bed-04', observedAt: '2026-11-22T15:59:00Z', temperatureUnit: 'C' });
    expect(typeof last!.body.bloodPressure).toBe('string');
    // 6 real hours at 600× is 150 simulated days: every opening stay has ended.
    expect(ward.ended().length).toBeGreaterThanOrEqual(4);
    expect(ward.current().map((a) => a.patientId)).not.toContain('P0001');
  });
});

describe('liveReadings', () => {
  it('keeps the requested overall rate with observedAt near now', async () => {
    const ward = createWard({ patients: 10, seed: 2 });
    // The generator's clock moves 5 ms each time it is read, so the schedule is tested, not how
    // promptly this machine's timers fire (a busy machine made readings lag the wall clock).
    let now = START;
    const clock = () => (now += 5);
    let count = 0;
    for await (const batch of liveReadings(ward, { readingsPerSecond: 500, durationMs: 600, clock })) {
      for (const r of batch) {
        count++;
        expect(r.observedAt, 'scheduled at most one tick before now and never after it').toBeLessThanOrEqual(now);
        expect(now - r.observedAt).toBeLessThan(50);
      }
    }
    expect(now - START).toBeGreaterThanOrEqual(600);
    // 500/s over 600 ms of its clock: 300, give or take the reading due at the start and the last tick.
    expect(count).toBeGreaterThanOrEqual(295);
    expect(count).toBeLessThanOrEqual(305);
  });
});

describe('createHttpSink against a local edge', () => {
  const received: unknown[][] = [];
  let requests = 0;
  let authorization = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      authorization = req.headers.authorization ?? '';
      // Every third request is throttled, as a busy edge would.
      if (requests % 3 === 0) {
        res.writeHead(429, { 'retry-after': '0' }).end('{"error":"busy"}');
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      const items = Array.isArray(body) ? body : [body];
      received.push(items);
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: items.length }));
    });
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('delivers every reading in bounded batches, retrying throttled requests', async () => {
    const ward = createWard({ patients: 8, seed: 9 });
    const sink = createHttpSink({ url, token: 'device-token', maxBatchSize: 50, maxBatchAgeMs: 20, concurrency: 2 });
    const stats = await runSimulation({ ward, sink, readingsPerSecond: 2000, maxReadings: 600 });
    expect(stats.written).toBe(600);
    expect(stats.accepted).toBe(600);
    expect(stats.retries).toBeGreaterThan(0);
    expect(received.flat()).toHaveLength(600);
    expect(Math.max(...received.map((batch) => batch.length))).toBeLessThanOrEqual(50);
    expect(authorization).toBe('Bearer device-token');
  });

  it('reads Retry-After as seconds or an HTTP date, bounded', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(Date.UTC(2026, 0, 1, 0, 0, 5)).toUTCString(), Date.UTC(2026, 0, 1))).toBe(5000);
    expect(retryAfterMs('86400')).toBe(30_000);
    expect(retryAfterMs(null)).toBe(1000);
  });
});
