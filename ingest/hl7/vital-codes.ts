/**
 * The vital-sign vocabulary the HL7 v2 and FHIR edges understand: which observation codes mean
 * which vital, and which units each may come in. Shared by ingest/hl7 (OBX-3 / OBX-6) and
 * ingest/fhir (Observation.code / valueQuantity), so both edges agree on what a code means.
 *
 * Codes: LOINC (what FHIR's vital-signs profile requires) and the IEEE 11073-10101 (MDC) codes that
 * bedside monitors send through IHE PCD-01 gateways. MDC numbers are the 32-bit context-free codes
 * (partition << 16 | term code), e.g. MDC_PULS_OXIM_SAT_O2 = 2 << 16 | 19384 = 150456.
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
  ['147842', code('heartRate', 'MDC_ECG_HEART_RATE')],
  ['149546', code('heartRate', 'MDC_PULS_RATE_NON_INV', 1)],
  ['149530', code('heartRate', 'MDC_PULS_OXIM_PULS_RATE', 2)],
  ['151562', code('respiratoryRate', 'MDC_RESP_RATE')],
  ['151594', code('respiratoryRate', 'MDC_CO2_RESP_RATE', 1)],
  ['150364', code('temperature', 'MDC_TEMP_BODY')],
  ['150344', code('temperature', 'MDC_TEMP', 1)],
  ['150380', code('temperature', 'MDC_TEMP_ORAL', 1)],
  ['150392', code('temperature', 'MDC_TEMP_TYMP', 1)],
  ['150456', code('spo2', 'MDC_PULS_OXIM_SAT_O2')],
  ['150020', code('bloodPressure', 'MDC_PRESS_BLD_NONINV')],
  ['150021', code('systolic', 'MDC_PRESS_BLD_NONINV_SYS')],
  ['150022', code('diastolic', 'MDC_PRESS_BLD_NONINV_DIA')],
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

export type QuantityResult = { ok: true; value: number } | { ok: false; reason: string };

/**
 * Converts a value in `unit` to the vital's canonical unit (°F to °C, rounded to 0.01). The unit
 * is tried as given and by its alternative spellings (an HL7 CWE carries code and text).
 */
export function toCanonical(kind: VitalKind, value: number, units: readonly string[]): QuantityResult {
  const wanted = CANONICAL_UNIT[kind];
  const given = units.filter((u) => u.length > 0);
  if (given.length === 0) return { ok: false, reason: `unit missing; expected ${expectedUnits(wanted)}` };
  for (const unit of given) {
    const rule = UNITS.get(unit);
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
