import { describe, expect, it } from 'vitest';
import { checkMessageType, oruToReadings, parseHeader } from './oru-to-readings.ts';
import { parseHl7Timestamp } from '../../core/wire/hl7/hl7-timestamp.ts';

const RECEIVED = Date.UTC(2026, 10, 22, 10, 5);
const MSH = 'MSH|^~\\&|MONITOR|ICU^1.2.3^ISO|VIGIL|HOSP|20261122100000+0000||ORU^R01^ORU_R01|MSG0001|P|2.6';
const PID = 'PID|1||A77^^^H^PI~P0012^^^HOSP^MR||Doe^Jane';
const OBR = 'OBR|1|||182777000^monitoring of patient^SCT|||20261122100000+0000';

function map(...segments: string[]) {
  const parsed = parseHeader(segments.join('\r'));
  if (!parsed.ok) throw new Error(parsed.reason);
  return oruToReadings(parsed.message, parsed.header, RECEIVED);
}

describe('oruToReadings: IHE PCD-01 monitor message', () => {
  it('maps MDC codes, units and the NIBP pair into one reading', () => {
    const result = map(MSH, PID, 'PV1|1|I|ICU^BED12', OBR,
      'OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1|||||||X|||||||0123456789ABCDEF^EUI-64',
      'OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.1|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||20261122100000+0000||||bed-12',
      'OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.2.1|97|262688^MDC_DIM_PERCENT^MDC|||||R|||20261122100000+0000||||bed-12',
      'OBX|4|NM|151562^MDC_RESP_RATE^MDC|1.1.3.1|16|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R|||20261122100000+0000||||bed-12',
      'OBX|5|NM|150364^MDC_TEMP_BODY^MDC|1.1.4.1|98.6|266560^MDC_DIM_FAHR^MDC|||||R|||20261122100000+0000||||bed-12',
      'OBX|6||150020^MDC_PRESS_BLD_NONINV^MDC|1.1.5|||||||X|||20261122100000+0000||||bed-12',
      'OBX|7|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.5.1|121|266016^MDC_DIM_MMHG^MDC|||||R|||20261122100000+0000||||bed-12',
      'OBX|8|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.1.5.2|79|266016^MDC_DIM_MMHG^MDC|||||R|||20261122100000+0000||||bed-12',
      'OBX|9|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.1.5.3|93|266016^MDC_DIM_MMHG^MDC|||||R|||20261122100000+0000||||bed-12');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.readings).toHaveLength(1);
    expect(result.readings[0]).toMatchObject({
      deviceId: 'bed-12', patientId: 'P0012', observedAt: Date.UTC(2026, 10, 22, 10), receivedAt: RECEIVED, source: 'hl7v2',
      heartRate: 72, spo2: 97, respiratoryRate: 16, temperature: 37, temperatureUnit: 'C', bloodPressure: '121/79',
    });
    expect(result.ignoredCodes).toEqual(['150023^MDC']);
  });

  it('maps LOINC codes with UCUM units, the time from OBR-7 and the device from MSH-3', () => {
    const result = map(MSH, 'PID|1||P0013^^^HOSP^MR', 'OBR|1||||||20261122103000+0130',
      'OBX|1|NM|8867-4^Heart rate^LN||88|/min^beats/min^UCUM|||||F',
      'OBX|2|ST|85354-9^Blood pressure panel^LN||140/90|mm[Hg]^mmHg^UCUM|||||F',
      'OBX|3|NM|8310-5^Body temperature^LN||38.2|Cel^C^UCUM|||||F');
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.readings[0]).toMatchObject({
      deviceId: 'MONITOR', patientId: 'P0013', observedAt: Date.UTC(2026, 10, 22, 9),
      heartRate: 88, bloodPressure: '140/90', temperature: 38.2, spo2: null,
    });
  });

  it('reads a combined pressure as SN and NA too', () => {
    for (const obx of ['OBX|1|SN|85354-9^BP^LN||^118^/^76|mm[Hg]', 'OBX|1|NA|150020^MDC_PRESS_BLD_NONINV^MDC||118^76^90|266016^MDC_DIM_MMHG^MDC']) {
      const result = map(MSH, PID, OBR, obx);
      expect(result.ok && result.readings[0]!.bloodPressure).toBe('118/76');
    }
  });

  it('splits observations taken at different times into separate readings', () => {
    const result = map(MSH, PID, OBR,
      'OBX|1|NM|8867-4^HR^LN||70|/min|||||F|||20261122100000+0000',
      'OBX|2|NM|8867-4^HR^LN||75|/min|||||F|||20261122100100+0000');
    expect(result.ok && result.readings.map((r) => r.heartRate)).toEqual([70, 75]);
  });
});

describe('oruToReadings: refusals name the segment and field', () => {
  const cases: [string, string[], string, RegExp][] = [
    ['missing PID', [MSH, OBR, 'OBX|1|NM|8867-4^HR^LN||70|/min'], 'OBR^1', /PID/],
    ['missing OBR', [MSH, PID, 'OBX|1|NM|8867-4^HR^LN||70|/min'], 'OBX^1', /OBR segment missing/],
    ['no OBX', [MSH, PID, OBR], 'OBX', /no OBX/],
    ['wrong unit', [MSH, PID, OBR, 'OBX|1|NM|8867-4^HR^LN||70|%'], 'OBX^1^6', /unit "%" is not valid for heartRate/],
    ['missing unit', [MSH, PID, OBR, 'OBX|1|NM|8310-5^Temp^LN||37'], 'OBX^1^6', /unit missing/],
    ['unknown codes only', [MSH, PID, OBR, 'OBX|1|NM|12345-6^Mystery^LN||70|/min'], 'OBX^1^3', /no vital sign Vigil tracks.*12345-6\^LN/],
    ['not a number', [MSH, PID, OBR, 'OBX|1|NM|8867-4^HR^LN||seventy|/min'], 'OBX^1^5', /"seventy" is not a number/],
    ['time without offset', [MSH, PID, 'OBR|1||||||20261122100000', 'OBX|1|NM|8867-4^HR^LN||70|/min'], 'OBR^1^7', /no UTC offset/],
    ['no time at all', [MSH, PID, 'OBR|1', 'OBX|1|NM|8867-4^HR^LN||70|/min'], 'OBR^1^7', /time missing/],
    ['systolic alone', [MSH, PID, OBR, 'OBX|1|NM|8480-6^SBP^LN||120|mm[Hg]'], 'OBX^1^3', /without its diastolic/],
    ['empty patient id', [MSH, 'PID|1||', OBR, 'OBX|1|NM|8867-4^HR^LN||70|/min'], 'PID^1^3', /PID-3/],
    ['patient id with a slash', [MSH, 'PID|1||P/12', OBR, 'OBX|1|NM|8867-4^HR^LN||70|/min'], 'PID^1^3', /patient id \(PID-3\)/],
    ['future time', [MSH, PID, 'OBR|1||||||20271122100000+0000', 'OBX|1|NM|8867-4^HR^LN||70|/min'], 'OBX^1^14', /future/],
  ];
  it.each(cases)('%s → AE', (_name, segments, location, reason) => {
    const result = map(...segments);
    expect(result).toMatchObject({ ok: false, ackCode: 'AE', location });
    expect(!result.ok && result.reason).toMatch(reason);
  });
});

describe('parseHeader and checkMessageType', () => {
  it('refuses text that is not HL7 and message types other than ORU^R01 (AR)', () => {
    expect(parseHeader('hello')).toMatchObject({ ok: false, ackCode: 'AR' });
    expect(parseHeader('MSH|^~\\&|A|B|C|D|20260101000000+0000||ORU^R01|')).toMatchObject({ ok: false, ackCode: 'AR', location: 'MSH^1^10' });
    const adt = parseHeader('MSH|^~\\&|A|B|C|D|20260101000000+0000||ADT^A01|X1|P|2.5');
    expect(adt.ok && checkMessageType(adt.header)).toMatchObject({ ackCode: 'AR', condition: { code: '200' } });
    const oru = parseHeader(MSH);
    expect(oru.ok && oru.header).toMatchObject({ sendingApplication: 'MONITOR', sendingFacility: 'ICU', controlId: 'MSG0001', version: '2.6' });
    expect(oru.ok && checkMessageType(oru.header)).toBeUndefined();
  });
});

describe('parseHl7Timestamp', () => {
  it('reads offsets and fractions, refuses local and impossible times', () => {
    expect(parseHl7Timestamp('20261122100000.25-0500')).toEqual({ ok: true, epochMs: Date.UTC(2026, 10, 22, 15, 0, 0, 250) });
    expect(parseHl7Timestamp('202611221000+0000')).toEqual({ ok: true, epochMs: Date.UTC(2026, 10, 22, 10) });
    expect(parseHl7Timestamp('20261122')).toMatchObject({ ok: false, reason: expect.stringMatching(/no hour/) });
    expect(parseHl7Timestamp('20260231100000+0000')).toMatchObject({ ok: false, reason: expect.stringMatching(/calendar/) });
    expect(parseHl7Timestamp('2026-11-22T10:00Z')).toMatchObject({ ok: false });
  });
});
