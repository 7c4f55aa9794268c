import { describe, expect, it } from 'vitest';
import { toRawReading } from '../core/domain/validate-ingest.ts';
import { CONTENT_TYPE_JSON, READING_ATTRIBUTES, decodeReading, encodeReading } from '../core/wire/reading-codec.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
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

describe('findDeadLetters on BigQuery', () => {
  it('queries the dataset table in GoogleSQL with the patient and reason as parameters', async () => {
    const seen: { sql: string; params: unknown }[] = [];
    const warehouse = {
      dialect: 'googlesql',
      query: async (sql: string, params?: unknown) => {
        seen.push({ sql, params });
        return { columns: [], rows: [{ dead_letter_id: 'a', received_at: new Date(5), source: 'json', reason: 'r', field: null, patient_id: 'P1', payload: '{}' }] };
      },
    } as unknown as Warehouse;
    const letters = await findDeadLetters(warehouse, 'vigil', { since: 1000, patientId: "P1'x", reason: 'Outage', limit: 10, offset: 20 });
    expect(letters).toEqual([{ deadLetterId: 'a', receivedAt: new Date(5), source: 'json', reason: 'r', field: null, patientId: 'P1', payload: '{}' }]);
    expect(seen[0]!.sql).toBe('SELECT dead_letter_id, received_at, source, reason, field, patient_id, payload FROM `vigil.dead_letters` '
      + 'WHERE received_at >= TIMESTAMP_MILLIS(1000) AND patient_id = @patientId AND STRPOS(LOWER(reason), LOWER(@reason)) > 0 '
      + 'ORDER BY received_at, dead_letter_id LIMIT 10 OFFSET 20');
    expect(seen[0]!.params).toEqual({ patientId: "P1'x", reason: 'Outage' });
  });
});
