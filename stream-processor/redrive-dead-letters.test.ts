import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { describe, expect, it } from 'vitest';
import { toRawReading } from '../core/domain/validate-ingest.ts';
import { CONTENT_TYPE_JSON, READING_ATTRIBUTES, decodeReading, encodeReading } from '../core/wire/reading-codec.ts';
import type { DeadLetterRecord } from './redrive-dead-letters.ts';
import { findDeadLetters, replayPlanFor } from './redrive-dead-letters.ts';

const result = toRawReading({ deviceId: 'bed-1', patientId: 'P1', observedAt: '2026-11-22T10:00:00Z', heartRate: 80 }, { receivedAt: Date.parse('2026-11-22T10:00:01Z'), source: 'hl7v2' });
if (!result.ok) throw new Error('test reading invalid');
const raw = result.reading;

const letter = (over: Partial<DeadLetterRecord>): DeadLetterRecord => ({
  deadLetterId: 'x', receivedAt: new Date(0), source: 'json', reason: 'r', field: 'store', patientId: 'P1', payload: '', ...over,
});

describe('replayPlanFor: the message a dead letter becomes again', () => {
  it('an Avro reading kept as its decoded record goes back as the same Avro bytes the edge published', () => {
    // A reading that came from the HL7 edge but was refused by the processor (field set) is replayed, not skipped.
    const plan = replayPlanFor(letter({ source: 'hl7v2', field: 'heartRate', payload: JSON.stringify(raw) }));
    expect(plan).toMatchObject({ replay: true, encoding: 'avro', message: { attributes: READING_ATTRIBUTES, orderingKey: 'P1' } });
    if (!plan.replay) throw new Error('not replayed');
    expect(Buffer.from(plan.message.data).equals(encodeReading(raw))).toBe(true);
  });

  it('a JSON reading goes back as its original JSON with content-type application/json, keeping its reading id', () => {
    const payload = JSON.stringify({ deviceId: 'bed-1', patientId: 'P1', observedAt: '2026-11-22T10:00:00Z', heartRate: 80 });
    const plan = replayPlanFor(letter({ payload }));
    expect(plan).toMatchObject({ replay: true, encoding: 'json', message: { attributes: { 'content-type': CONTENT_TYPE_JSON }, orderingKey: 'P1' } });
    if (!plan.replay) throw new Error('not replayed');
    expect(Buffer.from(plan.message.data).toString('utf8')).toBe(payload);
    expect(decodeReading(plan.message.data, plan.message.attributes).readingId).toBe(raw.readingId);
  });

  it('skips what the HL7 and FHIR edges refused, and payloads that are no reading', () => {
    expect(replayPlanFor(letter({ source: 'hl7v2', field: null, payload: 'MSH|^~\\&|X' }))).toEqual({ replay: false, skipped: 'refused at the hl7v2 edge (resend from the sender)' });
    expect(replayPlanFor(letter({ source: 'fhir', field: null, payload: '{"resourceType":"Observation"}' }))).toEqual({ replay: false, skipped: 'refused at the fhir edge (resend from the sender)' });
    expect(replayPlanFor(letter({ source: 'bus', payload: 'base64:3q2+7w==' }))).toEqual({ replay: false, skipped: 'not a reading (undecodable bytes)' });
    expect(replayPlanFor(letter({ source: 'bus', payload: '{"patientId":"P1"}' }))).toMatchObject({ replay: false });
  });
});

describe('findDeadLetters (named query dead_letters_oldest)', () => {
  it('filters by since, patient and reason substring, oldest first, paged by limit and offset', async () => {
    const warehouse = await createDuckDbWarehouse({ path: ':memory:' });
    try {
      await warehouse.provision();
      const row = (id: string, at: string, patient: string | null, reason: string) => ({
        dead_letter_id: id, received_at: new Date(at), source: 'json', reason, field: null, patient_id: patient, payload: '{}',
      });
      await warehouse.append('dead_letters', [
        row('a', '2026-11-22T10:00:00Z', 'P1', 'Store Outage'),
        row('b', '2026-11-22T11:00:00Z', 'P1', 'implausible'),
        row('c', '2026-11-22T12:00:00Z', 'P1', 'outage again'),
        row('d', '2026-11-22T13:00:00Z', "P1'x", 'outage'),
        row('e', '2026-11-22T09:00:00Z', 'P1', 'outage, too early'),
      ]);
      const ids = async (filter: Parameters<typeof findDeadLetters>[1]) => (await findDeadLetters(warehouse, filter)).map((l) => l.deadLetterId);
      const since = Date.parse('2026-11-22T10:00:00Z');
      expect(await ids({ since, patientId: 'P1', reason: 'OUTAGE', limit: 10 })).toEqual(['a', 'c']);
      expect(await ids({ since, patientId: 'P1', reason: 'outage', limit: 1, offset: 1 })).toEqual(['c']);
      expect(await ids({ patientId: "P1'x", limit: 10 })).toEqual(['d']);
      expect(await ids({ limit: 10 })).toEqual(['e', 'a', 'b', 'c', 'd']);
      expect((await findDeadLetters(warehouse, { since, limit: 1 }))[0]).toEqual({
        deadLetterId: 'a', receivedAt: new Date('2026-11-22T10:00:00Z'), source: 'json', reason: 'Store Outage', field: null, patientId: 'P1', payload: '{}',
      });
    } finally {
      await warehouse.close();
    }
  });
});
