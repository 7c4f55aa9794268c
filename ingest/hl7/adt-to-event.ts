import type { Hl7Message, Hl7Segment } from '@medplum/core';
import { HL7_ERROR } from '../../core/wire/hl7/hl7-message-header.ts';
import type { Hl7ErrorCondition, MessageHeader } from '../../core/wire/hl7/hl7-message-header.ts';
import { parseHl7Timestamp } from '../../core/wire/hl7/hl7-timestamp.ts';
import type { Refusal } from './oru-to-readings.ts';
import type { SenderSettings } from './sender-settings.ts';

/**
 * HL7 v2 ADT (admission, discharge, transfer) to one ward event. Parsing is @medplum/core's
 * Hl7Message; this module decides what the segments mean for Vigil (ingest/hl7/README.md, "ADT").
 *
 * Mapping:
 * - patient: PID-3 (the MR repetition, else the first), sex PID-8, birth date PID-7; names and
 *   addresses are not read (Vigil keeps no direct identifiers beyond the record number);
 * - admission: PV1-19 (visit number), else PID-18 (account number); start PV1-44, end PV1-45,
 *   type PV1-4 (table 0007), discharge disposition PV1-36;
 * - bed: PV1-3 (point of care^room^bed, written `4N-401-A`); prior bed PV1-6 (A02, A12);
 * - when: EVN-6 (event occurred), else EVN-2 (recorded), else MSH-7, with an explicit offset (or
 *   the sender's configured zone);
 * - merge (A40): MRG-1 is the prior (losing) patient id, PID-3 the surviving one.
 */
export type AdtTrigger = 'A01' | 'A02' | 'A03' | 'A04' | 'A08' | 'A11' | 'A12' | 'A13' | 'A40';
export const ADT_TRIGGERS: readonly AdtTrigger[] = ['A01', 'A02', 'A03', 'A04', 'A08', 'A11', 'A12', 'A13', 'A40'];

export interface AdtPatient {
  readonly patientId: string;
  /** PID-8 as sent (M, F, O, U ...); null when empty. */
  readonly gender: string | null;
  /** PID-7, YYYY-MM-DD; null when empty. */
  readonly dateOfBirth: string | null;
}

export interface AdtVisit {
  /** PV1-19, else PID-18; null when the message names no visit (then the patient's open admission is meant). */
  readonly admissionId: string | null;
  /** PV1-3 as `pointOfCare-room-bed`; null when empty. */
  readonly bed: string | null;
  /** PV1-6 likewise (the location before a transfer). */
  readonly priorBed: string | null;
  /** PV1-44, epoch ms. */
  readonly admittedAt: number | null;
  /** PV1-45, epoch ms. */
  readonly dischargedAt: number | null;
  /** PV1-4 mapped to EMERGENCY / URGENT / ELECTIVE, else the code as sent. */
  readonly admissionType: string | null;
  /** PV1-36 (discharge disposition, table 0112) as sent. */
  readonly dischargeDisposition: string | null;
}

export interface AdtEvent {
  readonly trigger: AdtTrigger;
  /** When the event happened (EVN-6, else EVN-2, else MSH-7), epoch ms. */
  readonly at: number;
  readonly patient: AdtPatient;
  readonly visit: AdtVisit;
  /** A40: the patient id merged into `patient.patientId`. */
  readonly mergedPatientId?: string;
}

export type AdtResult = { ok: true; event: AdtEvent } | ({ ok: false } & Refusal);

/** PV1-4 admission type (HL7 table 0007) in the warehouse's vocabulary (MIMIC's). */
const ADMISSION_TYPES: Readonly<Record<string, string>> = { E: 'EMERGENCY', A: 'EMERGENCY', U: 'URGENT', C: 'ELECTIVE', R: 'ELECTIVE' };

export function isAdtMessage(header: MessageHeader): boolean {
  return header.messageType === 'ADT';
}

export function adtToEvent(message: Hl7Message, header: MessageHeader, settings: SenderSettings = {}): AdtResult {
  const refuse = (condition: Hl7ErrorCondition, location: string, reason: string): AdtResult =>
    ({ ok: false, ackCode: 'AE', condition, location, reason });
  const trigger = header.triggerEvent as AdtTrigger;
  if (!ADT_TRIGGERS.includes(trigger)) {
    return { ok: false, ackCode: 'AR', condition: HL7_ERROR.unsupportedEvent, location: 'MSH^1^9', reason: `ADT event "${header.triggerEvent}" is not supported; Vigil reads ${ADT_TRIGGERS.join(', ')}` };
  }
  const pid = message.getSegment('PID');
  if (!pid) return refuse(HL7_ERROR.segmentSequence, 'PID', 'PID segment missing');
  const patientId = patientIdOf(pid, 3);
  if (patientId === '') return refuse(HL7_ERROR.requiredFieldMissing, 'PID^1^3', 'PID-3 (patient identifier) is empty');

  const time = (text: string, location: string): { ok: true; ms: number | null } | { ok: false; refusal: AdtResult } => {
    if (text === '') return { ok: true, ms: null };
    const parsed = parseHl7Timestamp(text, settings.timezone);
    return parsed.ok ? { ok: true, ms: parsed.epochMs } : { ok: false, refusal: refuse(HL7_ERROR.dataType, location, `${location.replaceAll('^1^', '-')}: ${parsed.reason}`) };
  };
  const evn = message.getSegment('EVN');
  const msh = message.header;
  const whenText = (evn && comp(evn, 6, 1)) || (evn && comp(evn, 2, 1)) || comp(msh, 7, 1);
  const when = time(whenText, evn && (comp(evn, 6, 1) || comp(evn, 2, 1)) ? (comp(evn, 6, 1) ? 'EVN^1^6' : 'EVN^1^2') : 'MSH^1^7');
  if (!when.ok) return when.refusal;
  if (when.ms === null) return refuse(HL7_ERROR.requiredFieldMissing, 'EVN^1^2', 'no event time: EVN-6, EVN-2 or MSH-7 is needed');

  const dob = comp(pid, 7, 1);
  if (dob !== '' && !/^\d{8}/.test(dob)) return refuse(HL7_ERROR.dataType, 'PID^1^7', `PID-7 (birth date) "${dob.slice(0, 20)}" is not YYYYMMDD`);
  const patient: AdtPatient = {
    patientId,
    gender: comp(pid, 8, 1) || null,
    dateOfBirth: dob === '' ? null : `${dob.slice(0, 4)}-${dob.slice(4, 6)}-${dob.slice(6, 8)}`,
  };

  const pv1 = message.getSegment('PV1');
  const needsVisit = trigger !== 'A08' && trigger !== 'A40';
  if (!pv1 && needsVisit) return refuse(HL7_ERROR.segmentSequence, 'PV1', `PV1 segment missing: ADT^${trigger} needs the visit`);
  const admitted = pv1 ? time(comp(pv1, 44, 1), 'PV1^1^44') : { ok: true as const, ms: null };
  if (!admitted.ok) return admitted.refusal;
  const discharged = pv1 ? time(comp(pv1, 45, 1), 'PV1^1^45') : { ok: true as const, ms: null };
  if (!discharged.ok) return discharged.refusal;
  const typeCode = pv1 ? comp(pv1, 4, 1) : '';
  const visit: AdtVisit = {
    admissionId: (pv1 && comp(pv1, 19, 1)) || comp(pid, 18, 1) || null,
    bed: pv1 ? locationOf(pv1, 3) : null,
    priorBed: pv1 ? locationOf(pv1, 6) : null,
    admittedAt: admitted.ms,
    dischargedAt: discharged.ms,
    admissionType: typeCode === '' ? null : ADMISSION_TYPES[typeCode] ?? typeCode,
    dischargeDisposition: (pv1 && comp(pv1, 36, 1)) || null,
  };
  if (trigger === 'A02' && visit.bed === null) return refuse(HL7_ERROR.requiredFieldMissing, 'PV1^1^3', 'ADT^A02 (transfer) without PV1-3, the new location');

  if (trigger === 'A40') {
    const mrg = message.getSegment('MRG');
    if (!mrg) return refuse(HL7_ERROR.segmentSequence, 'MRG', 'MRG segment missing: ADT^A40 names the merged patient in MRG-1');
    const merged = patientIdOf(mrg, 1);
    if (merged === '') return refuse(HL7_ERROR.requiredFieldMissing, 'MRG^1^1', 'MRG-1 (prior patient identifier) is empty');
    if (merged === patientId) return refuse(HL7_ERROR.dataType, 'MRG^1^1', 'MRG-1 names the surviving patient (PID-3) itself');
    return { ok: true, event: { trigger, at: when.ms, patient, visit, mergedPatientId: merged } };
  }
  return { ok: true, event: { trigger, at: when.ms, patient, visit } };
}

/** A PL (person location) field as `pointOfCare-room-bed`, the empty components left out. */
function locationOf(segment: Hl7Segment, field: number): string | null {
  const parts = [1, 2, 3].map((c) => comp(segment, field, c).trim()).filter((p) => p !== '');
  return parts.length === 0 ? null : parts.join('-');
}

/** A CX list (PID-3, MRG-1): the repetition typed MR when there is one, else the first. */
function patientIdOf(segment: Hl7Segment, field: number): string {
  const value = segment.getField(field);
  if (!value) return '';
  const mr = value.components.find((r) => r[4] === 'MR');
  return (mr ?? value.components[0])?.[0]?.trim() ?? '';
}

function comp(segment: Hl7Segment, field: number, component: number): string {
  if (!segment.getField(field)) return '';
  return segment.getComponent(field, component) ?? '';
}
