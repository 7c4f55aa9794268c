import { Hl7Message } from '@medplum/core';
import type { Hl7Segment } from '@medplum/core';
import type { RawReading } from '../../core/domain/reading.ts';
import { toRawReading } from '../../core/domain/validate-ingest.ts';
import { HL7_ERROR } from '../../core/wire/hl7/hl7-message-header.ts';
import type { Hl7ErrorCondition, MessageHeader, Problem } from '../../core/wire/hl7/hl7-message-header.ts';
import { parseHl7Timestamp } from '../../core/wire/hl7/hl7-timestamp.ts';
import type { SenderSettings } from './sender-settings.ts';
import type { VitalCode, VitalKind } from './vital-codes.ts';
import { formatBloodPressure, toCanonical, vitalCodeOf } from './vital-codes.ts';

/**
 * ORU^R01 (unsolicited observation results, as IHE PCD-01 "Communicate PCD Data" sends them) to
 * bus readings. Parsing is @medplum/core's Hl7Message; this module only decides what the segments
 * mean for Vigil.
 *
 * Mapping:
 * - patient: PID-3 (the identifier of type MR when several repeat, else the first);
 * - device: OBX-18 (equipment instance identifier), else MSH-3 (sending application, MSH-3.1 else MSH-3.2);
 * - time: OBX-14, else OBR-7 of the enclosing OBR, with an explicit UTC offset;
 * - vitals: numeric OBX by OBX-3 code (LOINC or MDC, see vital-codes.ts) with OBX-6 units;
 *   blood pressure from a systolic/diastolic pair or one combined value ("120/80", SN `^120^/^80`,
 *   NA `120^80^93`).
 * OBX rows with codes Vigil does not track (means, EtCO2, device hierarchy rows) are skipped and
 * listed in the ACK text; a message with none it tracks is refused.
 *
 * Observations of one patient, one device and one moment become one reading: the reading id is
 * derived from exactly those three, so splitting them would make the later ones duplicates.
 */

// The header and error-condition vocabulary is HL7's, shared with the simulated devices: it lives in core/wire/hl7.
export { HL7_ERROR };
export type { Hl7ErrorCondition, MessageHeader, Problem };

export interface Refusal extends Problem {
  readonly ackCode: 'AE' | 'AR';
  /**
   * Every problem found, the first being the refusal's own condition and location, so a sender
   * fixes them in one round (one ERR segment each); absent when there is only the one.
   */
  readonly problems?: readonly Problem[];
}

export type HeaderResult = { ok: true; message: Hl7Message; header: MessageHeader } | ({ ok: false } & Refusal);

/** Parses the message and reads MSH. Anything that is not an HL7 v2 message is refused (AR). */
export function parseHeader(text: string): HeaderResult {
  if (!/^MSH\|[\^][~][\\][&]/.test(text)) {
    return {
      ok: false, ackCode: 'AR', condition: HL7_ERROR.segmentSequence, location: 'MSH',
      reason: 'not an HL7 v2 message: it must start with MSH|^~\\&',
    };
  }
  let message: Hl7Message;
  try {
    message = Hl7Message.parse(text.replace(/\r\n|\n/g, '\r'));
  } catch {
    return { ok: false, ackCode: 'AR', condition: HL7_ERROR.segmentSequence, location: 'MSH', reason: 'the message cannot be parsed as HL7 v2' };
  }
  const msh = message.header;
  const applicationNames = namesOf(msh, 3), facilityNames = namesOf(msh, 4);
  const header: MessageHeader = {
    sendingApplication: applicationNames[0] ?? '',
    sendingFacility: facilityNames[0] ?? '',
    applicationNames,
    facilityNames,
    rawSender: [raw(msh, 3), raw(msh, 4)],
    rawReceiver: [raw(msh, 5), raw(msh, 6)],
    messageType: comp(msh, 9, 1),
    triggerEvent: comp(msh, 9, 2),
    controlId: raw(msh, 10),
    processingId: comp(msh, 11, 1),
    version: comp(msh, 12, 1),
  };
  if (header.controlId === '') {
    return { ok: false, ackCode: 'AR', condition: HL7_ERROR.requiredFieldMissing, location: 'MSH^1^10', reason: 'MSH-10 (message control id) is empty' };
  }
  return { ok: true, message, header };
}

/** Only ORU^R01 carries vital signs; everything else is refused without looking further (AR). */
export function checkMessageType(header: MessageHeader): Refusal | undefined {
  if (header.messageType !== 'ORU') {
    return { ackCode: 'AR', condition: HL7_ERROR.unsupportedMessageType, location: 'MSH^1^9', reason: `message type "${header.messageType}" is not supported; send ORU^R01` };
  }
  if (header.triggerEvent !== 'R01') {
    return { ackCode: 'AR', condition: HL7_ERROR.unsupportedEvent, location: 'MSH^1^9', reason: `event "${header.triggerEvent}" is not supported; send ORU^R01` };
  }
  return undefined;
}

/**
 * A reading from a message whose PID-3 is empty (a monitor behind a bedside gateway that knows
 * only its device or bed): `reading.patientId` is '' until the edge attributes it by device or bed.
 */
export interface Unattributed {
  readonly reading: RawReading;
  /** PV1-3 as `pointOfCare-room-bed`, when the message names the bed. */
  readonly bed: string | null;
}

export type OruResult =
  | { ok: true; readings: RawReading[]; ignoredCodes: string[]; unattributed: Unattributed[] }
  | ({ ok: false } & Refusal);

interface Observed {
  readonly code: VitalCode;
  readonly value: number | string;
  readonly obx: number;
}

interface Group {
  readonly patientId: string;
  readonly bed: string | null;
  readonly deviceId: string;
  readonly observedAt: number;
  readonly pidIndex: number;
  readonly firstObx: number;
  readonly vitals: Map<VitalKind, Observed>;
}

/** Result statuses (OBX-11, table 0085) whose values are not results: cannot obtain, deleted, wrong, not asked, pending. */
const NOT_A_RESULT = new Set(['X', 'D', 'W', 'N', 'I']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Stands in for the patient while a reading of an unnamed patient is validated; never leaves this module. */
const UNATTRIBUTED = 'unattributed';

/**
 * `settings`: the sender's configured leniencies (zone for zoneless times, unit aliases); strict when absent.
 * `unidentified`: an empty PID-3 is accepted, its readings returned as `unattributed` (the edge
 * attributes them by device or bed); refused otherwise.
 */
export function oruToReadings(message: Hl7Message, header: MessageHeader, receivedAt: number, settings: SenderSettings = {}, options: { unidentified?: boolean } = {}): OruResult {
  const refuse = (condition: Hl7ErrorCondition, location: string, reason: string): OruResult =>
    ({ ok: false, ackCode: 'AE', condition, location, reason });
  const groups = new Map<string, Group>();
  const ignored = new Set<string>();
  // Content problems (values, units, times, pairs) are collected so all are answered at once;
  // structural ones (segment order, empty PID-3) end the reading of the message at once.
  const problems: Problem[] = [];
  // A pressure half refused for its own content is not also reported as "without its partner".
  let obxKind: VitalKind | undefined, pressureHalfRefused = false;
  const problem = (condition: Hl7ErrorCondition, location: string, reason: string): void => {
    problems.push({ condition, location, reason });
    if (obxKind === 'systolic' || obxKind === 'diastolic') pressureHalfRefused = true;
  };
  let patient: { id: string; index: number; bed: string | null } | undefined;
  let obrTime: { text: string; index: number } | undefined;
  let pidCount = 0, obrCount = 0, obxCount = 0;

  for (const segment of message.segments) {
    if (segment.name === 'PID') {
      pidCount++;
      const id = patientIdOf(segment);
      if (id === '' && !options.unidentified) return refuse(HL7_ERROR.requiredFieldMissing, `PID^${pidCount}^3`, 'PID-3 (patient identifier) is empty');
      patient = { id, index: pidCount, bed: null };
      obrTime = undefined;
    } else if (segment.name === 'PV1' && patient) {
      const bed = [1, 2, 3].map((c) => comp(segment, 3, c).trim()).filter((p) => p !== '');
      patient.bed = bed.length === 0 ? null : bed.join('-');
    } else if (segment.name === 'OBR') {
      obrCount++;
      if (!patient) return refuse(HL7_ERROR.segmentSequence, `OBR^${obrCount}`, 'OBR before any PID segment; ORU^R01 needs PID first');
      obrTime = { text: comp(segment, 7, 1), index: obrCount };
    } else if (segment.name === 'OBX') {
      obxCount++;
      const at = `OBX^${obxCount}`;
      if (!patient) return refuse(HL7_ERROR.segmentSequence, at, 'PID segment missing: OBX without a patient');
      if (!obrTime) return refuse(HL7_ERROR.segmentSequence, at, 'OBR segment missing: OBX must follow an OBR');
      if (NOT_A_RESULT.has(comp(segment, 11, 1))) continue;
      const identifier = comp(segment, 3, 1);
      const system = comp(segment, 3, 3).toUpperCase();
      const code = lookUp(system, identifier, comp(segment, 3, 2));
      if (!code) {
        if (identifier !== '') ignored.add(system ? `${identifier}^${system}` : identifier);
        continue;
      }
      if (raw(segment, 5) === '') continue; // a container row (e.g. the NIBP compound) or no value

      obxKind = code.kind;
      const value = readValue(segment, code.kind);
      if (!value.ok) {
        problem(HL7_ERROR.dataType, `${at}^5`, `OBX-5 of ${code.name}: ${value.reason}`);
        continue;
      }
      const units = [1, 2, 4, 5].map((c) => comp(segment, 6, c));
      let canonical: number | string;
      if (code.kind === 'bloodPressure') {
        const [s, d] = value.pair!;
        const sys = toCanonical('systolic', s, units, settings.unitAliases), dia = toCanonical('diastolic', d, units, settings.unitAliases);
        const wrong = !sys.ok ? sys : !dia.ok ? dia : undefined;
        if (wrong && !wrong.ok) {
          problem(HL7_ERROR.tableValueNotFound, `${at}^6`, `OBX-6 of ${code.name}: ${wrong.reason}`);
          continue;
        }
        if (!sys.ok || !dia.ok) continue;
        canonical = formatBloodPressure(sys.value, dia.value);
      } else {
        const q = toCanonical(code.kind, value.number!, units, settings.unitAliases);
        if (!q.ok) {
          problem(HL7_ERROR.tableValueNotFound, `${at}^6`, `OBX-6 of ${code.name}: ${q.reason}`);
          continue;
        }
        canonical = q.value;
      }

      const ownTime = comp(segment, 14, 1);
      const time = parseHl7Timestamp(ownTime || obrTime.text, settings.timezone);
      if (!time.ok) {
        const where = ownTime ? `${at}^14` : `OBR^${obrTime.index}^7`;
        problem(time.reason === 'time missing' ? HL7_ERROR.requiredFieldMissing : HL7_ERROR.dataType, where,
          `observation time (OBX-14 or OBR-7): ${time.reason}`);
        continue;
      }
      const deviceId = comp(segment, 18, 1) || header.sendingApplication;
      const key = `${patient.id}\u0000${deviceId}\u0000${time.epochMs}`;
      let group = groups.get(key);
      if (!group) {
        group = { patientId: patient.id, bed: patient.bed, deviceId, observedAt: time.epochMs, pidIndex: patient.index, firstObx: obxCount, vitals: new Map() };
        groups.set(key, group);
      }
      const previous = group.vitals.get(code.kind);
      if (!previous || code.rank < previous.code.rank) group.vitals.set(code.kind, { code, value: canonical, obx: obxCount });
    }
  }
  obxKind = undefined;
  if (pidCount === 0) return refuse(HL7_ERROR.segmentSequence, 'PID', 'PID segment missing');
  if (obrCount === 0) return refuse(HL7_ERROR.segmentSequence, 'OBR', 'OBR segment missing');
  if (obxCount === 0) return refuse(HL7_ERROR.segmentSequence, 'OBX', 'no OBX segment: the message carries no observation');
  if (problems.length === 0 && groups.size === 0) {
    const codes = [...ignored].slice(0, 10).join(', ');
    return refuse(HL7_ERROR.tableValueNotFound, 'OBX^1^3',
      `no vital sign Vigil tracks (OBX-3 codes ${codes || 'empty'}); see the LOINC and MDC codes in ingest/hl7/README.md`);
  }

  const readings: RawReading[] = [];
  const unattributed: Unattributed[] = [];
  for (const group of groups.values()) {
    const v = group.vitals;
    let bloodPressure = v.get('bloodPressure')?.value as string | undefined;
    const sys = v.get('systolic'), dia = v.get('diastolic');
    if (sys && dia) {
      bloodPressure = formatBloodPressure(sys.value as number, dia.value as number);
    } else if ((sys || dia) && bloodPressure === undefined) {
      if (pressureHalfRefused) continue; // its partner was refused with its own problem; the message is refused anyway
      const half = (sys ?? dia)!;
      problem(HL7_ERROR.requiredFieldMissing, `OBX^${half.obx}^3`,
        `${half.code.name} without its ${sys ? 'diastolic' : 'systolic'} partner; send both OBX (same time and device)`);
      continue;
    }
    const temperature = v.get('temperature')?.value as number | undefined;
    const result = toRawReading({
      deviceId: group.deviceId,
      patientId: group.patientId || UNATTRIBUTED,
      observedAt: group.observedAt,
      heartRate: v.get('heartRate')?.value ?? null,
      respiratoryRate: v.get('respiratoryRate')?.value ?? null,
      spo2: v.get('spo2')?.value ?? null,
      temperature: temperature ?? null,
      temperatureUnit: temperature === undefined ? null : 'C',
      bloodPressure: bloodPressure ?? null,
    }, { receivedAt, source: HL7V2_SOURCE });
    if (!result.ok) {
      const first = result.errors[0]!;
      const location = first.field === 'patientId' ? `PID^${group.pidIndex}^3`
        : first.field === 'deviceId' ? `OBX^${group.firstObx}^18`
          : first.field === 'observedAt' ? `OBX^${group.firstObx}^14` : `OBX^${group.firstObx}`;
      problem(HL7_ERROR.dataType, location, result.errors.map((e) => `${hl7FieldName(e.field)} ${e.reason}`).join('; '));
      continue;
    }
    if (group.patientId === '') unattributed.push({ reading: { ...result.reading, patientId: '', readingId: '' }, bed: group.bed });
    else readings.push(result.reading);
  }
  if (problems.length > 0) {
    const [first, ...more] = problems;
    // One reason for MSA-3 and the dead letter; each ERR carries its own.
    return {
      ok: false, ackCode: 'AE', condition: first!.condition, location: first!.location!,
      reason: problems.map((p) => p.reason).join('; '),
      ...(more.length > 0 ? { problems } : {}),
    };
  }
  return { ok: true, readings, ignoredCodes: [...ignored], unattributed };
}

export const HL7V2_SOURCE = 'hl7v2';

function hl7FieldName(field: string): string {
  switch (field) {
    case 'patientId': return 'patient id (PID-3)';
    case 'deviceId': return 'device id (OBX-18 or MSH-3)';
    case 'observedAt': return 'observation time (OBX-14 or OBR-7)';
    default: return field;
  }
}

function lookUp(system: string, identifier: string, text: string): VitalCode | undefined {
  if (system === 'LN' || system === 'LOINC') return vitalCodeOf('loinc', identifier);
  if (system === 'MDC' || system === 'URN:ISO:STD:ISO:11073:10101') return vitalCodeOf('mdc', identifier, text);
  if (system === '') return vitalCodeOf('loinc', identifier) ?? vitalCodeOf('mdc', identifier, text);
  return undefined;
}

type ValueResult = { ok: true; number?: number; pair?: [number, number] } | { ok: false; reason: string };

/** OBX-5 by OBX-2 value type: NM, SN (`[comparator]^n1[^separator^n2]`), ST/NA for a combined pressure. */
function readValue(obx: Hl7Segment, kind: VitalKind): ValueResult {
  const type = comp(obx, 2, 1);
  const c = (n: number): string => comp(obx, 5, n).trim();
  if (kind === 'bloodPressure') {
    let parts: string[];
    if (type === 'SN') parts = c(3) === '/' || c(3) === ':' ? [c(2), c(4)] : [];
    else if (type === 'NA' || type === 'NM') parts = [c(1), c(2)];
    else parts = c(1).split('/');
    if (parts.length !== 2 || !parts.every((p) => NUMBER.test(p))) {
      return { ok: false, reason: `"${raw(obx, 5).slice(0, 40)}" is not a systolic/diastolic pair (ST 120/80, SN ^120^/^80 or NA 120^80)` };
    }
    return { ok: true, pair: [Number(parts[0]), Number(parts[1])] };
  }
  let text: string;
  if (type === 'SN') {
    if (c(1) !== '' && c(1) !== '=') return { ok: false, reason: `comparator "${c(1)}" is not an exact value` };
    if (c(3) !== '') return { ok: false, reason: 'a range or ratio is not a single value' };
    text = c(2);
  } else if (type === 'NM' || type === '') {
    text = c(1);
  } else {
    return { ok: false, reason: `value type "${type}" is not numeric; send NM` };
  }
  if (!NUMBER.test(text)) return { ok: false, reason: `"${text.slice(0, 40)}" is not a number` };
  return { ok: true, number: Number(text) };
}

/**
 * The patient a message names (PID-3 of its first PID), for filing a refused message under its
 * patient; null when the text is not HL7 or has no PID-3.
 */
export function patientIdOfMessage(text: string): string | null {
  try {
    if (!text.startsWith('MSH|')) return null;
    const pid = Hl7Message.parse(text.replace(/\r\n|\n/g, '\r')).getSegment('PID');
    return (pid ? patientIdOf(pid) : '') || null;
  } catch {
    return null;
  }
}

/** PID-3: the repetition typed MR (medical record number) when there is one, else the first. */
function patientIdOf(pid: Hl7Segment): string {
  const field = pid.getField(3);
  if (!field) return '';
  const repetitions = field.components;
  const mr = repetitions.find((r) => r[4] === 'MR');
  return (mr ?? repetitions[0])?.[0]?.trim() ?? '';
}

/** An HD field's namespace id and universal id (components 1 and 2), the non-empty ones, in that order. */
function namesOf(segment: Hl7Segment, field: number): string[] {
  return [...new Set([comp(segment, field, 1).trim(), comp(segment, field, 2).trim()].filter((n) => n !== ''))];
}

/** A component, '' when the field or component is absent (medplum returns undefined fields). */
function comp(segment: Hl7Segment, field: number, component: number): string {
  if (!segment.getField(field)) return '';
  return segment.getComponent(field, component) ?? '';
}

function raw(segment: Hl7Segment, field: number): string {
  return segment.getField(field)?.toString() ?? '';
}
