import { describe, expect, it } from 'vitest';
import { toRawReading } from '../core/domain/validate-ingest.ts';
import { generateCohort } from './cohort.ts';
import { MALFORMED_KINDS } from './device-faults.ts';
import type { MalformedKind, SimulatedReading } from './device-faults.ts';

const RATES = { dropField: 0.1, duplicate: 0.05, late: 0.04, malformed: 0.03, fahrenheitDevices: 0.25 };

/** What the processor's plausibility rules must refuse (PRODUCT: parsed readings are plausible). */
function implausibleField(body: Readonly<Record<string, unknown>>, field: string): boolean {
  const v = body[field];
  switch (field) {
    case 'bloodPressure': {
      const match = typeof v === 'string' ? /^(\d{2,3})\/(\d{2,3})$/.exec(v) : null;
      return !match || Number(match[2]) >= Number(match[1]);
    }
    case 'heartRate': return typeof v !== 'number' || v < 20 || v > 300;
    case 'spo2': return typeof v !== 'number' || v < 40 || v > 100;
    case 'respiratoryRate': return typeof v !== 'number' || v < 2 || v > 80;
    case 'temperature': {
      const c = body.temperatureUnit === 'F' ? ((Number(v) - 32) * 5) / 9 : Number(v);
      return !(c > 25 && c < 45);
    }
    case 'consciousness': return !['A', 'C', 'V', 'P', 'U'].includes(String(v));
    case 'observedAt': return typeof v !== 'string' || !/(Z|[+-]\d{2}:?\d{2})$/.test(v);
    case 'patientId': return typeof v !== 'string' || v === '';
    default: return false;
  }
}

describe('device faults', () => {
  const deliveries: SimulatedReading[] = [];
  for (const stay of generateCohort({ seed: 21, admissions: 1000, faults: RATES })) deliveries.push(...stay.deliveries);
  const originals = deliveries.filter((d) => !d.faults.duplicate);

  it('happen at roughly the configured rates', () => {
    const share = (predicate: (d: SimulatedReading) => boolean): number => originals.filter(predicate).length / originals.length;
    expect(originals.length).toBeGreaterThan(20_000);
    expect(share((d) => d.faults.droppedFields.length > 0)).toBeCloseTo(RATES.dropField, 1);
    expect(share((d) => d.faults.malformed !== null)).toBeCloseTo(RATES.malformed, 2);
    expect(share((d) => d.faults.late)).toBeCloseTo(RATES.late, 2);
    expect((deliveries.length - originals.length) / originals.length).toBeCloseTo(RATES.duplicate, 2);
  });

  it('sends duplicates as the identical body', () => {
    const bodies = new Set(originals.map((d) => JSON.stringify(d.body)));
    for (const d of deliveries.filter((x) => x.faults.duplicate)) expect(bodies.has(JSON.stringify(d.body))).toBe(true);
  });

  it('delivers late readings after later ones of the same device and patient', () => {
    let outOfOrder = 0;
    const newest = new Map<string, number>();
    for (const d of deliveries) {
      const key = `${d.deviceId}|${d.patientId}`;
      if (d.observedAt < (newest.get(key) ?? 0)) { outOfOrder++; expect(d.faults.late || d.faults.duplicate).toBe(true); }
      newest.set(key, Math.max(newest.get(key) ?? 0, d.observedAt));
    }
    expect(outOfOrder).toBeGreaterThan(originals.filter((d) => d.faults.late).length * 0.9);
  });

  it('produces every malformed kind, each one implausible or unusable at the field it names', () => {
    const seen = new Set<MalformedKind>();
    for (const d of deliveries) {
      const kind = d.faults.malformed;
      if (!kind) continue;
      seen.add(kind);
      expect(implausibleField(d.body, MALFORMED_KINDS[kind].field), `${kind}: ${JSON.stringify(d.body)}`).toBe(true);
    }
    expect([...seen].sort()).toEqual(Object.keys(MALFORMED_KINDS).sort());
    // Clean readings pass the same checks, so the checks are not vacuous.
    for (const d of originals.filter((x) => !x.faults.malformed).slice(0, 2000)) {
      for (const field of ['bloodPressure', 'heartRate', 'spo2', 'respiratoryRate', 'temperature', 'consciousness', 'observedAt', 'patientId']) {
        if (d.body[field] !== undefined) expect(implausibleField(d.body, field), `${field}: ${JSON.stringify(d.body)}`).toBe(false);
      }
    }
  });

  it('has °F thermometers on some devices, reporting plausible Fahrenheit values', () => {
    const fahrenheit = originals.filter((d) => d.body.temperatureUnit === 'F' && !d.faults.malformed);
    expect(fahrenheit.length).toBeGreaterThan(0);
    expect(new Set(fahrenheit.map((d) => d.deviceId)).size).toBeLessThan(new Set(originals.map((d) => d.deviceId)).size);
    for (const d of fahrenheit) {
      const f = d.body.temperature as number;
      expect(f).toBeGreaterThan(91);
      expect(f).toBeLessThan(108.6);
      expect(Math.abs(((f - 32) * 5) / 9 - d.measured.temperature)).toBeLessThan(0.1);
    }
  });

  it('splits malformed kinds as documented: the edge refuses some, the rest pass it but are implausible', () => {
    for (const d of deliveries) {
      const kind = d.faults.malformed;
      const result = toRawReading(d.body, { receivedAt: d.receivedAt, source: 'simulator' });
      if (!kind) {
        expect(result.ok, JSON.stringify(d.body)).toBe(true);
        continue;
      }
      const { stoppedBy, field } = MALFORMED_KINDS[kind];
      expect(result.ok, `${kind}: ${JSON.stringify(d.body)}`).toBe(stoppedBy === 'processor');
      if (!result.ok) expect(result.errors.map((e) => e.field)).toContain(field);
    }
  });
});
