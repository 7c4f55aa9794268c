/**
 * The vital-sign vocabulary the HL7 v2 and FHIR edges understand: which observation codes mean
 * which vital, and which units each may come in. Shared by ingest/hl7 (OBX-3 / OBX-6) and
 * ingest/fhir (Observation.code / valueQuantity), so both edges agree on what a code means.
 *
 * Codes: LOINC (what FHIR's vital-signs profile requires) and the IEEE 11073-10101 (MDC) codes that
 * bedside monitors send through IHE PCD-01 gateways. MDC numbers are the 32-bit context-free codes
 * (partition << 16 | term code), e.g. MDC_PULS_OXIM_SAT_O2 = 2 << 16 | 19384 = 150456.
 *
 * Sources: IEEE 11073-10101 as published in the NIST/IHE Rosetta Terminology Mapping (RTMMS), the
 * reference ids and numbers cross-checked against HL7 Denmark's DK Core IG value set
 * `dk-core-IEEEBasicObservation` (which lists 149514, 149522, 149546, 151578, 151658, 188424,
 * 188452 with their 10101 definitions), and the LOINC vital-signs panel (85353-1) that FHIR's
 * vital-signs profile binds. Codes marked "vendor" are not in that value set but are what a
 * monitor's HL7 interface guide documents sending; see ingest/hl7/README.md (Vocabulary).
 */

export type VitalKind = 'heartRate' | 'respiratoryRate' | 'temperature' | 'spo2' | 'systolic' | 'diastolic' | 'bloodPressure';

export interface VitalCode {
  readonly kind: VitalKind;
  /** Lower wins when one message carries the same vital twice (ECG heart rate beats pleth pulse). */
  readonly rank: number;
  readonly name: string;
}

const code = (kind: VitalKind, name: string, rank = 0): VitalCode => Object.freeze({ kind, name, rank });

/** LOINC codes, by code. */
export const LOINC_VITALS: ReadonlyMap<string, VitalCode> = new Map([
  ['8867-4', code('heartRate', 'Heart rate')],
  ['8889-8', code('heartRate', 'Heart rate by Pulse oximetry', 2)],
  ['9279-1', code('respiratoryRate', 'Respiratory rate')],
  ['8310-5', code('temperature', 'Body temperature')],
  ['8331-1', code('temperature', 'Oral temperature', 1)],
  ['8328-7', code('temperature', 'Axillary temperature', 1)],
  ['59408-5', code('spo2', 'Oxygen saturation by pulse oximetry')],
  ['2708-6', code('spo2', 'Oxygen saturation in arterial blood', 1)],
  ['8480-6', code('systolic', 'Systolic blood pressure')],
  ['8462-4', code('diastolic', 'Diastolic blood pressure')],
  ['85354-9', code('bloodPressure', 'Blood pressure panel')],
  ['55284-4', code('bloodPressure', 'Blood pressure systolic and diastolic', 1)],
]);

/**
 * MDC codes, by number. Non-invasive pressures rank before invasive ones, and the ECG heart rate
 * before pulse rates derived from the cuff or the oximeter.
 */
export const MDC_VITALS: ReadonlyMap<string, VitalCode> = new Map([
  // Heart and pulse rate (10101 "rate of blood pulse in an artery" family).
  ['147842', code('heartRate', 'MDC_ECG_HEART_RATE')],
  ['149522', code('heartRate', 'MDC_BLD_PULS_RATE_INV', 1)], // pulse from an arterial line
  ['149546', code('heartRate', 'MDC_PULS_RATE_NON_INV', 1)], // pulse from the NIBP cuff
  ['149514', code('heartRate', 'MDC_PULS_RATE', 2)], // pulse rate, method not stated
  ['149530', code('heartRate', 'MDC_PULS_OXIM_PULS_RATE', 2)],
  // Respiratory rate: unspecified first, then by method.
  ['151562', code('respiratoryRate', 'MDC_RESP_RATE')],
  ['151570', code('respiratoryRate', 'MDC_AWAY_RESP_RATE', 1)], // airway flow
  ['151578', code('respiratoryRate', 'MDC_TTHOR_RESP_RATE', 1)], // transthoracic impedance (ECG leads)
  ['151594', code('respiratoryRate', 'MDC_CO2_RESP_RATE', 1)],
  ['151658', code('respiratoryRate', 'MDC_PULS_OXIM_PLETH_RESP_RATE', 2)], // from the SpO2 plethysmogram
  // Temperature: body temperature first, then by site.
  ['150364', code('temperature', 'MDC_TEMP_BODY')],
  ['150344', code('temperature', 'MDC_TEMP', 1)],
  ['150368', code('temperature', 'MDC_TEMP_CORE', 1)],
  ['150380', code('temperature', 'MDC_TEMP_ORAL', 1)], // the older partition-2 number some gateways send
  ['150392', code('temperature', 'MDC_TEMP_TYMP', 1)],
  ['188420', code('temperature', 'MDC_TEMP_RECT', 1)],
  ['188424', code('temperature', 'MDC_TEMP_ORAL', 1)], // 2 << 16 | 57352, the number DK Core lists
  ['188428', code('temperature', 'MDC_TEMP_EAR', 1)],
  ['188452', code('temperature', 'MDC_TEMP_AXILLA', 1)],
  ['188496', code('temperature', 'MDC_TEMP_AXIL', 1)], // vendor: axillary, as Comen/Mindray-style guides send it
  ['150456', code('spo2', 'MDC_PULS_OXIM_SAT_O2')],
  // Blood pressure: non-invasive (NIBP and the cuff family, the same measurement) before invasive.
  ['150020', code('bloodPressure', 'MDC_PRESS_BLD_NONINV')],
  ['150021', code('systolic', 'MDC_PRESS_BLD_NONINV_SYS')],
  ['150022', code('diastolic', 'MDC_PRESS_BLD_NONINV_DIA')],
  ['150300', code('bloodPressure', 'MDC_PRESS_CUFF')],
  ['150301', code('systolic', 'MDC_PRESS_CUFF_SYS')],
  ['150302', code('diastolic', 'MDC_PRESS_CUFF_DIA')],
  ['150016', code('bloodPressure', 'MDC_PRESS_BLD', 1)],
  ['150017', code('systolic', 'MDC_PRESS_BLD_SYS', 1)],
  ['150018', code('diastolic', 'MDC_PRESS_BLD_DIA', 1)],
  ['150032', code('bloodPressure', 'MDC_PRESS_BLD_ART', 2)],
  ['150033', code('systolic', 'MDC_PRESS_BLD_ART_SYS', 2)],
  ['150034', code('diastolic', 'MDC_PRESS_BLD_ART_DIA', 2)],
  ['150036', code('bloodPressure', 'MDC_PRESS_BLD_ART_ABP', 2)],
  ['150037', code('systolic', 'MDC_PRESS_BLD_ART_ABP_SYS', 2)],
  ['150038', code('diastolic', 'MDC_PRESS_BLD_ART_ABP_DIA', 2)],
]);

/** MDC reference ids by number, for codes sent as `150456^MDC_PULS_OXIM_SAT_O2^MDC` or by name only. */
const MDC_BY_NAME: ReadonlyMap<string, string> = new Map([...MDC_VITALS].map(([number, c]) => [c.name, number]));

/** Looks a code up in LOINC and MDC; `name` is the reference id text some gateways send alone. */
export function vitalCodeOf(system: 'loinc' | 'mdc', identifier: string, name = ''): VitalCode | undefined {
  if (system === 'loinc') return LOINC_VITALS.get(identifier);
  return MDC_VITALS.get(identifier) ?? MDC_VITALS.get(MDC_BY_NAME.get(name) ?? MDC_BY_NAME.get(identifier) ?? '');
}

/** The canonical unit of each vital in the bus record. */
export type CanonicalUnit = '/min' | '%' | 'Cel' | 'mm[Hg]';

export const CANONICAL_UNIT: Readonly<Record<VitalKind, CanonicalUnit>> = Object.freeze({
  heartRate: '/min',
  respiratoryRate: '/min',
  temperature: 'Cel',
  spo2: '%',
  systolic: 'mm[Hg]',
  diastolic: 'mm[Hg]',
  bloodPressure: 'mm[Hg]',
});

interface UnitRule {
  readonly canonical: CanonicalUnit;
  readonly convert: (value: number) => number;
}

const same = (value: number): number => value;
const fahrenheitToCelsius = (value: number): number => Math.round(((value - 32) * 5 / 9) * 100) / 100;

/**
 * Units by UCUM code, MDC dimension number and MDC dimension name (MDC_PART_DIM = 4, so
 * MDC_DIM_MMHG = 4 << 16 | 3872 = 266016). Only unambiguous spellings: a unit we cannot be sure of
 * is refused rather than guessed.
 */
const UNITS: ReadonlyMap<string, UnitRule> = new Map<string, UnitRule>([
  ...spellings(['/min', '{beats}/min', '{beat}/min', '{breaths}/min', '{breath}/min', '264864', 'MDC_DIM_BEAT_PER_MIN', '264928', 'MDC_DIM_RESP_PER_MIN'], '/min', same),
  ...spellings(['%', '262688', 'MDC_DIM_PERCENT'], '%', same),
  ...spellings(['Cel', '268192', 'MDC_DIM_DEGC'], 'Cel', same),
  ...spellings(['[degF]', '266560', 'MDC_DIM_FAHR'], 'Cel', fahrenheitToCelsius),
  ...spellings(['mm[Hg]', '266016', 'MDC_DIM_MMHG'], 'mm[Hg]', same),
]);

function spellings(units: readonly string[], canonical: CanonicalUnit, convert: (value: number) => number): [string, UnitRule][] {
  return units.map((u) => [u, { canonical, convert }]);
}

/** True when `unit` is a spelling this table accepts (the target of a sender's unit alias must be). */
export function isKnownUnit(unit: string): boolean {
  return UNITS.has(unit);
}

export type QuantityResult = { ok: true; value: number } | { ok: false; reason: string };

/**
 * Converts a value in `unit` to the vital's canonical unit (°F to °C, rounded to 0.01). The unit
 * is tried as given and by its alternative spellings (an HL7 CWE carries code and text).
 */
export function toCanonical(kind: VitalKind, value: number, units: readonly string[], aliases?: Readonly<Record<string, string>>): QuantityResult {
  const wanted = CANONICAL_UNIT[kind];
  const given = units.filter((u) => u.length > 0);
  if (given.length === 0) return { ok: false, reason: `unit missing; expected ${expectedUnits(wanted)}` };
  for (const unit of given) {
    // A sender's configured alias (`bpm` → `/min`) stands for the unit it names, nothing more.
    const rule = UNITS.get(aliases !== undefined && Object.hasOwn(aliases, unit) ? aliases[unit]! : unit);
    if (rule?.canonical === wanted) return { ok: true, value: rule.convert(value) };
  }
  return { ok: false, reason: `unit "${given[0]}" is not valid for ${kind}; expected ${expectedUnits(wanted)}` };
}

function expectedUnits(canonical: CanonicalUnit): string {
  return canonical === 'Cel' ? 'Cel or [degF]' : canonical;
}

/** Blood pressure as the bus record carries it: "systolic/diastolic" in mmHg, at most 2 decimals. */
export function formatBloodPressure(systolic: number, diastolic: number): string {
  const text = (n: number): string => String(Math.round(n * 100) / 100);
  return `${text(systolic)}/${text(diastolic)}`;
}
