import { afterEach, describe, expect, it } from 'vitest';
import { toRawReading } from '../../core/domain/validate-ingest.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createMetrics } from '../../core/observability/metrics.ts';
import { buildApp } from '../../cli/build-app.ts';
import { testConfig, tokenFor } from '../../dashboard-api/test-fixtures.ts';
import { fhirRoutes } from '../../ingest/fhir/fhir-routes.ts';
import { startRecordingServer } from '../../ingest/hl7/mllp-test-support.ts';
import type { RawReading } from '../../core/domain/reading.ts';
import type { SimulatedReading } from '../device-faults.ts';
import type { ReadingSink } from '../reading-sink.ts';
import { DEFAULT_FAULT_RATES } from '../simulation-parameters.ts';
import { createWard } from '../ward.ts';
import { createFhirSink } from './sink-fhir.ts';
import { createMixedDeviceSink } from './sink-mixed-devices.ts';
import { createMllpSink } from './sink-mllp.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function wardReadings(count: number): SimulatedReading[] {
  const ward = createWard({ patients: 8, seed: 5, faults: { ...DEFAULT_FAULT_RATES, malformed: 0.1 }, timeScale: 60 });
  const start = Date.now() - 3_600_000;
  const out: SimulatedReading[] = [];
  for (let i = 0; out.length < count; i++) out.push(...ward.observe(i % 8, start + Math.floor(i / 8) * 15_000));
  return out.slice(0, count);
}

/** Readings the JSON edge accepts once onOxygen and consciousness (JSON only) are left out, with a vital an HL7/FHIR device sends. */
const acceptable = (r: SimulatedReading): boolean =>
  toRawReading({ ...r.body, onOxygen: undefined, consciousness: undefined }, { receivedAt: Date.now(), source: 'json' }).ok
  && ['heartRate', 'respiratoryRate', 'spo2', 'temperature', 'bloodPressure'].some((f) => r.body[f] !== undefined);

describe('device-protocol sinks', () => {
  it('MLLP sink: one ORU^R01 per reading, AA counted accepted, AE rejected', async () => {
    const recording = await startRecordingServer();
    cleanups.push(() => recording.server.close());
    const sink = createMllpSink({ host: '127.0.0.1', port: recording.port, sendingApplication: 'MONITOR', connections: 3 });
    const readings = wardReadings(120);
    await sink.write(readings);
    await sink.flush();
    const stats = sink.stats();
    expect(stats.written).toBe(120);
    expect(stats.accepted + stats.rejected).toBe(120);
    expect(stats.accepted).toBe(recording.published.length);
    expect(stats.accepted).toBeGreaterThanOrEqual(readings.filter(acceptable).length - 2); // duplicates merge nothing here, each is a message
    expect(stats.rejected).toBeGreaterThan(0);
  });

  it('MLLP sink stops on AR for an unknown sender', async () => {
    const recording = await startRecordingServer();
    cleanups.push(() => recording.server.close());
    const sink = createMllpSink({ host: '127.0.0.1', port: recording.port, sendingApplication: 'STRANGER' });
    cleanups.push(() => sink.flush());
    await expect(sink.write(wardReadings(3))).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('FHIR sink: batch Bundles to /fhir, per-reading outcome from the batch-response', async () => {
    const published: RawReading[] = [];
    const app = buildApp({
      config: testConfig(), logger: createLogger({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }), readiness: [],
      routes: [(a) => void a.register(fhirRoutes, { publish: async (r) => void published.push(...r), deadLetter: async () => undefined })],
    });
    cleanups.push(() => app.close());
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const sink = createFhirSink({ url, token: tokenFor('device', 'fhir-gw'), readingsPerBundle: 25 });
    const readings = wardReadings(100);
    await sink.write(readings);
    const stats = sink.stats();
    expect(stats.written).toBe(100);
    expect(stats.accepted + stats.rejected).toBe(100);
    expect(stats.accepted).toBe(readings.filter(acceptable).length);
    // Every acceptable reading is on the bus. In a batch each Observation stands alone, so a reading
    // with one malformed vital still has its other vitals accepted (and counts as rejected here).
    const onBus = new Set(published.map((r) => `${r.deviceId}|${r.patientId}|${r.observedAt}`));
    for (const r of readings.filter(acceptable)) expect(onBus.has(`${r.deviceId}|${r.patientId}|${r.observedAt}`)).toBe(true);
  });

  it('mixed ward: each device keeps one protocol, chosen by share', async () => {
    const written = new Map<string, SimulatedReading[]>();
    const recorder = (name: string): ReadingSink => ({
      write: async (readings) => void written.set(name, [...(written.get(name) ?? []), ...readings]),
      flush: async () => undefined,
      stats: () => ({ written: written.get(name)?.length ?? 0, accepted: 0, rejected: 0, retries: 0 }),
    });
    const mixed = createMixedDeviceSink([
      { name: 'json', sink: recorder('json'), share: 2 },
      { name: 'hl7', sink: recorder('hl7'), share: 1 },
      { name: 'fhir', sink: recorder('fhir'), share: 1 },
    ]);
    const devices = Array.from({ length: 400 }, (_, i) => `bed-${i}`);
    const counts = { json: 0, hl7: 0, fhir: 0 } as Record<string, number>;
    for (const d of devices) counts[mixed.kindOf(d)]!++;
    expect(counts.json).toBeGreaterThan(160);
    expect(counts.hl7).toBeGreaterThan(70);
    expect(counts.fhir).toBeGreaterThan(70);
    const readings = wardReadings(80);
    await mixed.write(readings);
    expect(mixed.stats().written).toBe(80);
    for (const [name, batch] of written) for (const r of batch) expect(mixed.kindOf(r.deviceId)).toBe(name);
  });
});
