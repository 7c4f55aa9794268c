import { describe, expect, it } from 'vitest';
import { oruToReadings, parseHeader } from './oru-to-readings.ts';

/**
 * The vocabulary table, code by code, through the ORU^R01 parser: an OBX carrying the code must
 * land in the named reading field. The expectations are written out here (not derived from
 * vital-codes.ts) so a wrong or missing table entry fails.
 */
const RECEIVED = Date.UTC(2026, 10, 22, 10, 5);
const MSH = 'MSH|^~\\&|MONITOR|ICU|VIGIL|HOSP|20261122100000+0000||ORU^R01^ORU_R01|MSG0001|P|2.6';
const PID = 'PID|1||P0012^^^HOSP^MR';
const OBR = 'OBR|1|||182777000^monitoring of patient^SCT|||20261122100000+0000';

function map(...segments: string[]) {
  const parsed = parseHeader([MSH, PID, OBR, ...segments].join('\r'));
  if (!parsed.ok) throw new Error(parsed.reason);
  return oruToReadings(parsed.message, parsed.header, RECEIVED);
}

type Field = 'heartRate' | 'respiratoryRate' | 'temperature' | 'spo2';
const SINGLE: [system: string, code: string, name: string, field: Field, value: string, unit: string, expected: number][] = [
  ['MDC', '147842', 'MDC_ECG_HEART_RATE', 'heartRate', '72', '264864^MDC_DIM_BEAT_PER_MIN^MDC', 72],
  ['MDC', '149514', 'MDC_PULS_RATE', 'heartRate', '73', '264864^MDC_DIM_BEAT_PER_MIN^MDC', 73],
  ['MDC', '149522', 'MDC_BLD_PULS_RATE_INV', 'heartRate', '74', '/min^/min^UCUM', 74],
  ['MDC', '149546', 'MDC_PULS_RATE_NON_INV', 'heartRate', '75', '{beat}/min^{beat}/min^UCUM', 75],
  ['MDC', '149530', 'MDC_PULS_OXIM_PULS_RATE', 'heartRate', '76', '264864^MDC_DIM_BEAT_PER_MIN^MDC', 76],
  ['MDC', '151562', 'MDC_RESP_RATE', 'respiratoryRate', '16', '264928^MDC_DIM_RESP_PER_MIN^MDC', 16],
  ['MDC', '151570', 'MDC_AWAY_RESP_RATE', 'respiratoryRate', '17', '264928^MDC_DIM_RESP_PER_MIN^MDC', 17],
  ['MDC', '151578', 'MDC_TTHOR_RESP_RATE', 'respiratoryRate', '18', '264928^MDC_DIM_RESP_PER_MIN^MDC', 18],
  ['MDC', '151594', 'MDC_CO2_RESP_RATE', 'respiratoryRate', '19', '/min', 19],
  ['MDC', '151658', 'MDC_PULS_OXIM_PLETH_RESP_RATE', 'respiratoryRate', '20', '/min', 20],
  ['MDC', '150364', 'MDC_TEMP_BODY', 'temperature', '37.1', '268192^MDC_DIM_DEGC^MDC', 37.1],
  ['MDC', '150344', 'MDC_TEMP', 'temperature', '98.6', '266560^MDC_DIM_FAHR^MDC', 37],
  ['MDC', '150368', 'MDC_TEMP_CORE', 'temperature', '37.3', 'Cel', 37.3],
  ['MDC', '150380', 'MDC_TEMP_ORAL', 'temperature', '37.4', 'Cel', 37.4],
  ['MDC', '150392', 'MDC_TEMP_TYMP', 'temperature', '37.5', 'Cel', 37.5],
  ['MDC', '188420', 'MDC_TEMP_RECT', 'temperature', '37.6', 'Cel', 37.6],
  ['MDC', '188424', 'MDC_TEMP_ORAL', 'temperature', '37.7', 'Cel', 37.7],
  ['MDC', '188428', 'MDC_TEMP_EAR', 'temperature', '37.8', 'Cel', 37.8],
  ['MDC', '188452', 'MDC_TEMP_AXILLA', 'temperature', '36.9', 'Cel', 36.9],
  ['MDC', '188496', 'MDC_TEMP_AXIL', 'temperature', '36.8', '268192^MDC_DIM_DEGC^MDC', 36.8],
  ['MDC', '150456', 'MDC_PULS_OXIM_SAT_O2', 'spo2', '97', '262688^MDC_DIM_PERCENT^MDC', 97],
  ['LN', '8867-4', 'Heart rate', 'heartRate', '80', '/min', 80],
  ['LN', '8889-8', 'Heart rate by Pulse oximetry', 'heartRate', '81', '/min', 81],
  ['LN', '9279-1', 'Respiratory rate', 'respiratoryRate', '21', '/min', 21],
  ['LN', '8310-5', 'Body temperature', 'temperature', '38.2', 'Cel', 38.2],
  ['LN', '8331-1', 'Oral temperature', 'temperature', '38.3', 'Cel', 38.3],
  ['LN', '8328-7', 'Axillary temperature', 'temperature', '38.4', 'Cel', 38.4],
  ['LN', '59408-5', 'Oxygen saturation by pulse oximetry', 'spo2', '95', '%', 95],
  ['LN', '2708-6', 'Oxygen saturation in arterial blood', 'spo2', '94', '%', 94],
];

const PAIRS: [system: string, sys: string, dia: string, unit: string][] = [
  ['MDC', '150021^MDC_PRESS_BLD_NONINV_SYS', '150022^MDC_PRESS_BLD_NONINV_DIA', '266016^MDC_DIM_MMHG^MDC'],
  ['MDC', '150301^MDC_PRESS_CUFF_SYS', '150302^MDC_PRESS_CUFF_DIA', '266016^MDC_DIM_MMHG^MDC'],
  ['MDC', '150017^MDC_PRESS_BLD_SYS', '150018^MDC_PRESS_BLD_DIA', 'mm[Hg]'],
  ['MDC', '150033^MDC_PRESS_BLD_ART_SYS', '150034^MDC_PRESS_BLD_ART_DIA', 'mm[Hg]'],
  ['MDC', '150037^MDC_PRESS_BLD_ART_ABP_SYS', '150038^MDC_PRESS_BLD_ART_ABP_DIA', 'mm[Hg]'],
  ['LN', '8480-6^Systolic blood pressure', '8462-4^Diastolic blood pressure', 'mm[Hg]'],
];

const COMBINED: [system: string, code: string][] = [
  ['MDC', '150020^MDC_PRESS_BLD_NONINV'], ['MDC', '150300^MDC_PRESS_CUFF'], ['MDC', '150016^MDC_PRESS_BLD'],
  ['MDC', '150032^MDC_PRESS_BLD_ART'], ['MDC', '150036^MDC_PRESS_BLD_ART_ABP'],
  ['LN', '85354-9^Blood pressure panel'], ['LN', '55284-4^Blood pressure systolic and diastolic'],
];

describe('vital vocabulary: each code through an ORU^R01', () => {
  it.each(SINGLE)('%s %s %s → %s', (system, code, name, field, value, unit, expected) => {
    const result = map(`OBX|1|NM|${code}^${name}^${system}|1.1.1.1|${value}|${unit}|||||R|||20261122100000+0000`);
    expect(result, `OBX-3 ${code}^${name}^${system} was not accepted`).toMatchObject({ ok: true, ignoredCodes: [] });
    if (!result.ok) return;
    expect(result.readings).toHaveLength(1);
    expect(result.readings[0]![field]).toBe(expected);
  });

  it.each(SINGLE.filter(([system]) => system === 'MDC'))('MDC %s is also found by its reference id alone (%s)', (_system, _code, name, field, value, unit, expected) => {
    const result = map(`OBX|1|NM|${name}^^MDC|1.1.1.1|${value}|${unit}|||||R`);
    expect(result.ok && result.readings[0]![field]).toBe(expected);
  });

  it.each(PAIRS)('%s systolic %s with diastolic %s → bloodPressure', (system, sys, dia, unit) => {
    const result = map(`OBX|1|NM|${sys}^${system}||128|${unit}|||||R`, `OBX|2|NM|${dia}^${system}||81|${unit}|||||R`);
    expect(result, `pair ${sys} / ${dia} was not accepted`).toMatchObject({ ok: true, ignoredCodes: [] });
    expect(result.ok && result.readings[0]!.bloodPressure).toBe('128/81');
  });

  it.each(COMBINED)('%s combined pressure %s → bloodPressure', (system, code) => {
    const result = map(`OBX|1|ST|${code}^${system}||131/77|mm[Hg]|||||R`);
    expect(result, `combined ${code} was not accepted`).toMatchObject({ ok: true });
    expect(result.ok && result.readings[0]!.bloodPressure).toBe('131/77');
  });

  it('prefers the ECG heart rate to a pulse rate, and impedance respiration to the pleth estimate, whatever the order', () => {
    const result = map(
      'OBX|1|NM|149514^MDC_PULS_RATE^MDC||90|/min|||||R',
      'OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC||72|/min|||||R',
      'OBX|3|NM|151658^MDC_PULS_OXIM_PLETH_RESP_RATE^MDC||25|/min|||||R',
      'OBX|4|NM|151578^MDC_TTHOR_RESP_RATE^MDC||18|/min|||||R');
    expect(result.ok && result.readings[0]).toMatchObject({ heartRate: 72, respiratoryRate: 18 });
  });

  it('lists untracked codes in the result while keeping the tracked ones', () => {
    const result = map(
      'OBX|1|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC||93|266016^MDC_DIM_MMHG^MDC|||||R',
      'OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||98|262688^MDC_DIM_PERCENT^MDC|||||R');
    expect(result).toMatchObject({ ok: true, ignoredCodes: ['150023^MDC'] });
  });

  it('refuses (AE, 103) a PCD-01 message whose every OBX is a code Vigil does not track, naming the codes', () => {
    const result = map(
      'OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1|||||||X',
      'OBX|2|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.1.1.1|93|266016^MDC_DIM_MMHG^MDC|||||R',
      'OBX|3|NM|151708^MDC_AWAY_CO2_ET^MDC|1.1.1.2|38|266016^MDC_DIM_MMHG^MDC|||||R');
    expect(result).toMatchObject({ ok: false, ackCode: 'AE', condition: { code: '103' }, location: 'OBX^1^3' });
    expect(!result.ok && result.reason).toMatch(/no vital sign Vigil tracks.*150023\^MDC.*151708\^MDC/);
  });
});
