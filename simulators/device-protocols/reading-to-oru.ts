import { escapeHl7 } from '../../core/wire/hl7/hl7-ack.ts';
import { formatHl7Timestamp } from '../../core/wire/hl7/hl7-timestamp.ts';

/**
 * An ingest-format reading (the README's "A reading") as a bedside monitor's gateway sends it:
 * an HL7 v2.6 ORU^R01 in the IHE PCD-01 style (MSH, PID, PV1, OBR, one OBX per vital).
 *
 * `codes: 'mdc'` writes IEEE 11073 MDC codes and units (as monitors do), `'loinc'` LOINC with
 * UCUM units (as EHR-side gateways do). Values are written as the reading has them, so a
 * malformed reading (a simulator fault) stays malformed on the wire and the edge refuses it.
 * onOxygen and consciousness have no OBX here: monitors do not measure them.
 */
export interface OruOptions {
  /** MSH-3, and the configured sender on the listener. */
  readonly sendingApplication: string;
  readonly sendingFacility?: string;
  /** MSH-10, unique per message. */
  readonly controlId: string;
  readonly codes?: 'mdc' | 'loinc';
  /** MSH-7; default now. */
  readonly now?: number;
}

interface ObxCode {
  readonly mdc: string;
  readonly loinc: string;
  readonly mdcUnit: string;
  readonly ucum: string;
}

const HEART_RATE: ObxCode = { mdc: '147842^MDC_ECG_HEART_RATE^MDC', loinc: '8867-4^Heart rate^LN', mdcUnit: '264864^MDC_DIM_BEAT_PER_MIN^MDC', ucum: '/min^/min^UCUM' };
const RESP_RATE: ObxCode = { mdc: '151562^MDC_RESP_RATE^MDC', loinc: '9279-1^Respiratory rate^LN', mdcUnit: '264928^MDC_DIM_RESP_PER_MIN^MDC', ucum: '/min^/min^UCUM' };
const SPO2: ObxCode = { mdc: '150456^MDC_PULS_OXIM_SAT_O2^MDC', loinc: '59408-5^Oxygen saturation by pulse oximetry^LN', mdcUnit: '262688^MDC_DIM_PERCENT^MDC', ucum: '%^%^UCUM' };
const TEMP: ObxCode = { mdc: '150364^MDC_TEMP_BODY^MDC', loinc: '8310-5^Body temperature^LN', mdcUnit: '268192^MDC_DIM_DEGC^MDC', ucum: 'Cel^Cel^UCUM' };
const TEMP_F: ObxCode = { ...TEMP, mdcUnit: '266560^MDC_DIM_FAHR^MDC', ucum: '[degF]^[degF]^UCUM' };
const SYSTOLIC: ObxCode = { mdc: '150021^MDC_PRESS_BLD_NONINV_SYS^MDC', loinc: '8480-6^Systolic blood pressure^LN', mdcUnit: '266016^MDC_DIM_MMHG^MDC', ucum: 'mm[Hg]^mm[Hg]^UCUM' };
const DIASTOLIC: ObxCode = { ...SYSTOLIC, mdc: '150022^MDC_PRESS_BLD_NONINV_DIA^MDC', loinc: '8462-4^Diastolic blood pressure^LN' };
const BP_PANEL: ObxCode = { ...SYSTOLIC, mdc: '150020^MDC_PRESS_BLD_NONINV^MDC', loinc: '85354-9^Blood pressure panel^LN' };

export function readingToOru(reading: Readonly<Record<string, unknown>>, options: OruOptions): string {
  const codes = options.codes ?? 'mdc';
  const time = toHl7Time(reading.observedAt);
  const device = text(reading.deviceId);
  const obx: string[] = [];
  const add = (code: ObxCode, value: unknown, type = 'NM'): void => {
    if (value === undefined || value === null) return;
    obx.push([
      'OBX', String(obx.length + 1), type, codes === 'mdc' ? code.mdc : code.loinc, '', escapeHl7(text(value)),
      codes === 'mdc' ? code.mdcUnit : code.ucum, '', '', '', '', 'F', '', '', time, '', '', '', escapeHl7(device),
    ].join('|'));
  };
  add(HEART_RATE, reading.heartRate);
  add(RESP_RATE, reading.respiratoryRate);
  add(SPO2, reading.spo2);
  add(reading.temperatureUnit === 'F' ? TEMP_F : TEMP, reading.temperature);
  if (reading.bloodPressure !== undefined && reading.bloodPressure !== null) {
    // A well-formed pressure goes as the systolic/diastolic pair monitors send; anything else as the text it is.
    const pair = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(text(reading.bloodPressure));
    if (pair) {
      add(SYSTOLIC, pair[1]);
      add(DIASTOLIC, pair[2]);
    } else {
      add(BP_PANEL, reading.bloodPressure, 'ST');
    }
  }
  const now = formatHl7Timestamp(options.now ?? Date.now());
  return [
    ['MSH', '^~\\&', escapeHl7(options.sendingApplication), escapeHl7(options.sendingFacility ?? ''), 'VIGIL', '', now, '',
      'ORU^R01^ORU_R01', escapeHl7(options.controlId), 'P', '2.6', '', '', 'NE', 'AL', '', 'UNICODE UTF-8'].join('|'),
    ['PID', '1', '', `${escapeHl7(text(reading.patientId))}^^^VIGIL^MR`].join('|'),
    ['PV1', '1', 'I'].join('|'),
    ['OBR', '1', '', '', '182777000^monitoring of patient^SCT', '', '', time].join('|'),
    ...obx,
  ].join('\r');
}

function text(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,4})\d*)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * The reading's observedAt as an HL7 timestamp, keeping its offset; a time written without one
 * stays without one (the listener refuses it, as the JSON edge does).
 */
function toHl7Time(observedAt: unknown): string {
  if (typeof observedAt === 'number') return formatHl7Timestamp(observedAt);
  const m = ISO.exec(text(observedAt));
  if (!m) return text(observedAt);
  const [, y, mo, d, h, mi, s = '00', frac, zone] = m;
  const digits = `${y}${mo}${d}${h}${mi}${s}${frac ? `.${frac}` : ''}`;
  if (zone === undefined) return digits;
  return zone === 'Z' ? `${digits}+0000` : `${digits}${zone.replace(':', '')}`;
}
