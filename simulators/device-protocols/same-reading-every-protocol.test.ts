import { describe, expect, it } from 'vitest';
import type { RawReading } from '../../core/domain/reading.ts';
import { toRawReading } from '../../core/domain/validate-ingest.ts';
import { mergeObservations, readObservation } from '../../ingest/fhir/observation-to-reading.ts';
import { oruToReadings, parseHeader } from '../../ingest/hl7/oru-to-readings.ts';
import { DEFAULT_FAULT_RATES } from '../simulation-parameters.ts';
import { createWard } from '../ward.ts';
import { readingToOru } from './reading-to-oru.ts';
import { readingsToBundle } from './reading-to-fhir.ts';

/**
 * The same simulated readings, faults included, sent as JSON, as ORU^R01 and as FHIR, must become
 * the same bus readings (same id, same vitals once temperature is in °C), and a reading the JSON
 * edge refuses must be refused by the other edges too. onOxygen and consciousness travel only in
 * JSON (monitors and the FHIR vital-signs profile do not carry them), so they are left out of the
 * comparison.
 */
const PROTOCOL_FIELDS = ['heartRate', 'respiratoryRate', 'spo2', 'temperature', 'bloodPressure', 'observedAt', 'deviceId', 'patientId'];

function wardBodies(count: number): Record<string, unknown>[] {
  const ward = createWard({ patients: 12, seed: 11, faults: { ...DEFAULT_FAULT_RATES, malformed: 0.2, dropField: 0.1 }, timeScale: 60 });
  const start = Date.now() - 2 * 3_600_000;
  const out: Record<string, unknown>[] = [];
  for (let i = 0; out.length < count; i++) {
    for (const r of ward.observe(i % 12, start + Math.floor(i / 12) * 10_000)) out.push({ ...r.body });
  }
  return out.slice(0, count);
}

function comparable(r: RawReading): Record<string, unknown> {
  const celsius = r.temperature === null ? null : r.temperatureUnit === 'F' ? Math.round(((r.temperature - 32) * 5 / 9) * 100) / 100 : r.temperature;
  return { readingId: r.readingId, deviceId: r.deviceId, patientId: r.patientId, observedAt: r.observedAt, heartRate: r.heartRate, respiratoryRate: r.respiratoryRate, spo2: r.spo2, bloodPressure: r.bloodPressure, temperature: celsius };
}

function viaHl7(body: Record<string, unknown>, receivedAt: number, i: number) {
  const parsed = parseHeader(readingToOru(body, { sendingApplication: 'SIM', controlId: `S${i}` }));
  if (!parsed.ok) throw new Error(parsed.reason);
  return oruToReadings(parsed.message, parsed.header, receivedAt);
}

function viaFhir(body: Record<string, unknown>, receivedAt: number) {
  const entries = readingsToBundle([body]).entry ?? [];
  const read = entries.map((e, i) => ({ path: `Bundle.entry[${i}].resource`, result: readObservation(e.resource, `Bundle.entry[${i}].resource`, undefined) }));
  if (read.some((r) => !r.result.ok)) return { ok: false as const };
  const merged = mergeObservations(read.map((r) => ({ path: r.path, vitals: (r.result as { ok: true; vitals: never }).vitals })), receivedAt);
  return merged.length === 1 && merged[0]!.result.ok ? { ok: true as const, reading: merged[0]!.result.reading } : { ok: false as const };
}

describe('one reading, three protocols', () => {
  const receivedAt = Date.now();
  const bodies = wardBodies(600);

  it('the ward sample has faults of every kind the comparison relies on', () => {
    const refused = bodies.filter((b) => !toRawReading(b, { receivedAt, source: 'json' }).ok);
    expect(refused.length).toBeGreaterThan(20);
    expect(bodies.some((b) => b.temperatureUnit === 'F')).toBe(true);
  });

  it.each(['hl7', 'fhir'] as const)('%s gives the bus reading the JSON edge gives, or refuses what it refuses', (protocol) => {
    let compared = 0, refusedAlike = 0;
    bodies.forEach((body, i) => {
      const json = toRawReading(body, { receivedAt, source: 'json' });
      const carriesVitals = ['heartRate', 'respiratoryRate', 'spo2', 'temperature', 'bloodPressure'].some((f) => body[f] !== undefined);
      if (!carriesVitals) return;
      const other = protocol === 'hl7' ? viaHl7(body, receivedAt, i) : viaFhir(body, receivedAt);
      if (json.ok) {
        expect(other.ok, `reading ${i} ${JSON.stringify(body)}`).toBe(true);
        const reading = 'readings' in other ? other.readings[0]! : (other as { reading: RawReading }).reading;
        expect(comparable(reading)).toEqual(comparable(json.reading));
        expect(reading.source).toBe(protocol === 'hl7' ? 'hl7v2' : 'fhir');
        compared++;
      } else if (json.errors.some((e) => PROTOCOL_FIELDS.includes(e.field))) {
        expect(other.ok, `reading ${i} ${JSON.stringify(body)}`).toBe(false);
        refusedAlike++;
      }
    });
    expect(compared).toBeGreaterThan(400);
    expect(refusedAlike).toBeGreaterThan(10);
  });
});
