import type { RawReading } from '../../core/domain/reading.ts';
import type { FieldError } from '../../core/domain/validate-ingest.ts';
import { toRawReading } from '../../core/domain/validate-ingest.ts';
import type { VitalCode, VitalKind } from '../hl7/vital-codes.ts';
import { LOINC_VITALS, formatBloodPressure, toCanonical } from '../hl7/vital-codes.ts';
import type { SubjectResolver } from './bundle-patients.ts';
import type { FhirIssue } from './operation-outcome.ts';

/**
 * FHIR R4 vital-signs Observations to bus readings.
 *
 * What is required (the vital-signs profile, plus what Vigil needs to place a reading):
 * `status` final/amended/corrected/preliminary; a `category` coding `vital-signs`; a LOINC
 * `code` Vigil tracks (heart rate 8867-4, respiratory rate 9279-1, body temperature 8310-5,
 * SpO2 2708-6/59408-5, blood-pressure panel 85354-9 with components 8480-6 and 8462-4);
 * `subject` a Patient reference; `effectiveDateTime` (or `effectiveInstant`, or `effectivePeriod`:
 * its start, else its end) with a time and an offset; a `valueQuantity` (components for the panel) in UCUM (`/min`, `%`, `Cel`, `[degF]`,
 * `mm[Hg]`). The device is `device` (Device/<id> or DeviceMetric/<id>), else the authenticated
 * device's token subject.
 *
 * Every problem is reported, each with the FHIRPath of the failing element.
 */
export const FHIR_SOURCE = 'fhir';
export const LOINC_SYSTEM = 'http://loinc.org';
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-category';
const ACCEPTED_STATUSES = ['final', 'amended', 'corrected', 'preliminary'];

/** What one Observation says, before it is merged with others of the same moment. */
export interface ObservationVitals {
  readonly patientId: string;
  readonly deviceId: string;
  readonly observedAt: string;
  /** Where the moment came from (`effectiveDateTime`, `effectivePeriod.start`, …), for errors. */
  readonly observedAtElement: string;
  readonly kind: VitalKind;
  readonly value: number | string;
}

export type ObservationResult = { ok: true; vitals: ObservationVitals } | { ok: false; issues: FhirIssue[] };

const DATE_TIME_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const DATE_ONLY = /^\d{4}(-\d{2}(-\d{2})?)?$/;
export const PATIENT_REFERENCE = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;
const DEVICE_REFERENCE = /(?:^|\/)(?:Device|DeviceMetric)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Reads one Observation. `path` is its FHIRPath prefix (`Observation`, or
 * `Bundle.entry[3].resource` inside a bundle); `defaultDeviceId` is the token subject;
 * `resolveSubject` reads `urn:uuid:` subjects against the Patient entries of the Bundle; with
 * `receivedAt` (the clock of the time-window rule), a refused Observation also reports the shared
 * ingest rules its readable elements break.
 */
export function readObservation(resource: unknown, path: string, defaultDeviceId: string | undefined, resolveSubject?: SubjectResolver, receivedAt?: number): ObservationResult {
  const issues: FhirIssue[] = [];
  const issue = (code: FhirIssue['code'], element: string, diagnostics: string): void => {
    issues.push({ code, expression: element ? `${path}.${element}` : path, diagnostics });
  };
  if (!isObject(resource)) return { ok: false, issues: [{ code: 'structure', expression: path, diagnostics: 'must be a JSON object' }] };
  if (resource.resourceType !== 'Observation') {
    return { ok: false, issues: [{ code: 'structure', expression: `${path}.resourceType`, diagnostics: `resourceType must be "Observation", not ${JSON.stringify(resource.resourceType)?.slice(0, 40)}` }] };
  }

  if (resource.status === undefined) issue('required', 'status', 'status is required');
  else if (!ACCEPTED_STATUSES.includes(resource.status as string)) issue('value', 'status', `status "${String(resource.status).slice(0, 30)}" is not a result; expected one of ${ACCEPTED_STATUSES.join(', ')}`);

  const vitalSigns = arrayOf(resource.category).some((c) => isObject(c) && arrayOf(c.coding).some((coding) =>
    isObject(coding) && coding.system === OBSERVATION_CATEGORY_SYSTEM && coding.code === 'vital-signs'));
  if (!vitalSigns) issue('required', 'category', `category must include ${OBSERVATION_CATEGORY_SYSTEM}|vital-signs`);

  const code = loincCodeOf(resource.code);
  if (!code) {
    issue('code-invalid', 'code', 'code has no LOINC vital sign Vigil tracks (8867-4, 9279-1, 8310-5, 2708-6, 59408-5, 85354-9)');
  } else if (code.kind === 'systolic' || code.kind === 'diastolic') {
    issue('not-supported', 'code', `${code.name} alone cannot be stored; send the blood-pressure panel 85354-9 with systolic and diastolic components`);
  }

  const subject = isObject(resource.subject) ? resource.subject.reference : undefined;
  const resolved = typeof subject === 'string' ? resolveSubject?.(subject) : undefined;
  let patientId: string | undefined;
  if (resolved) {
    if (resolved.ok) patientId = resolved.patientId;
    else issue('value', 'subject.reference', resolved.diagnostics);
  } else {
    patientId = typeof subject === 'string' ? PATIENT_REFERENCE.exec(subject)?.[1] : undefined;
    if (subject === undefined) issue('required', 'subject', 'subject (a Patient reference) is required');
    else if (patientId === undefined) issue('value', 'subject.reference', 'subject.reference must be "Patient/<id>" (or, in a Bundle, the urn:uuid fullUrl of a Patient entry)');
  }

  let deviceId = defaultDeviceId;
  if (resource.device !== undefined) {
    const reference = isObject(resource.device) ? resource.device.reference : undefined;
    const match = typeof reference === 'string' ? DEVICE_REFERENCE.exec(reference) : null;
    if (match) deviceId = match[1];
    else issue('value', 'device.reference', 'device.reference must be "Device/<id>" or "DeviceMetric/<id>"');
  } else if (deviceId === undefined) {
    issue('required', 'device', 'device (a Device reference) is required');
  }

  const effective = readEffective(resource, issue);

  let value: number | string | undefined;
  if (code && code.kind === 'bloodPressure') value = readPanel(resource, issue);
  else if (code && code.kind !== 'systolic' && code.kind !== 'diastolic') value = readQuantity(resource.valueQuantity, 'valueQuantity', code, resource, issue);

  if (issues.length > 0 || !code || patientId === undefined || !deviceId || !effective || value === undefined) {
    // Every problem at once: the shared ingest rules (id rule, time window, blood-pressure pair)
    // on the elements that could be read, so a sender does not find them one resend at a time.
    if (receivedAt !== undefined) {
      const read: Record<string, unknown> = { patientId, deviceId, observedAt: effective?.at };
      if (code && value !== undefined) read[code.kind] = value;
      issues.push(...ruleIssuesOfReadElements(read, path, effective?.element ?? 'effective', receivedAt));
    }
    return { ok: false, issues };
  }
  return { ok: true, vitals: { patientId, deviceId, observedAt: effective.at, observedAtElement: effective.element, kind: code.kind, value } };
}

type Issue = (code: FhirIssue['code'], element: string, diagnostics: string) => void;

function loincCodeOf(concept: unknown): VitalCode | undefined {
  if (!isObject(concept)) return undefined;
  let best: VitalCode | undefined;
  for (const coding of arrayOf(concept.coding)) {
    if (!isObject(coding) || coding.system !== LOINC_SYSTEM || typeof coding.code !== 'string') continue;
    const found = LOINC_VITALS.get(coding.code);
    if (found && (!best || found.rank < best.rank)) best = found;
  }
  return best;
}

/**
 * The moment of the Observation: `effectiveDateTime` or `effectiveInstant`, or an
 * `effectivePeriod` (allowed by the vital-signs profile, e.g. a measurement over a minute): its
 * `start`, or its `end` when only the end is given. Each must carry seconds and an offset.
 */
function readEffective(resource: Json, issue: Issue): { at: string; element: string } | undefined {
  if (resource.effectiveDateTime === undefined && resource.effectiveInstant === undefined && resource.effectivePeriod !== undefined) {
    return readPeriod(resource.effectivePeriod, issue);
  }
  const element = resource.effectiveDateTime !== undefined ? 'effectiveDateTime' : resource.effectiveInstant !== undefined ? 'effectiveInstant' : undefined;
  if (!element) {
    issue('required', 'effective', 'effectiveDateTime, effectiveInstant or effectivePeriod (a time with its UTC offset) is required');
    return undefined;
  }
  const at = checkInstant(resource[element], element, issue);
  return at === undefined ? undefined : { at, element };
}

function readPeriod(period: unknown, issue: Issue): { at: string; element: string } | undefined {
  if (!isObject(period)) {
    issue('structure', 'effectivePeriod', 'effectivePeriod must be a Period with start (or end)');
    return undefined;
  }
  if (period.start === undefined && period.end === undefined) {
    issue('required', 'effectivePeriod', 'effectivePeriod needs a start (or an end): a time with seconds and an offset');
    return undefined;
  }
  const start = period.start === undefined ? undefined : checkInstant(period.start, 'effectivePeriod.start', issue);
  const end = period.end === undefined ? undefined : checkInstant(period.end, 'effectivePeriod.end', issue);
  if ((period.start !== undefined && start === undefined) || (period.end !== undefined && end === undefined)) return undefined;
  if (start !== undefined && end !== undefined && Date.parse(end) < Date.parse(start)) {
    issue('value', 'effectivePeriod.end', 'effectivePeriod.end is before its start');
    return undefined;
  }
  return start !== undefined ? { at: start, element: 'effectivePeriod.start' } : { at: end!, element: 'effectivePeriod.end' };
}

function checkInstant(value: unknown, element: string, issue: Issue): string | undefined {
  if (typeof value === 'string' && DATE_TIME_WITH_OFFSET.test(value)) return value;
  const reason = typeof value === 'string' && DATE_ONLY.test(value)
    ? `"${value}" has no time of day; a vital sign needs the moment it was taken, with its offset`
    : 'must be a dateTime with seconds and an offset, e.g. 2026-11-22T10:00:00+01:00';
  issue('value', element, reason);
  return undefined;
}

function readQuantity(quantity: unknown, element: string, code: VitalCode, resource: Json, issue: Issue, kind: VitalKind = code.kind): number | undefined {
  if (quantity === undefined) {
    const absent = resource.dataAbsentReason !== undefined ? ' (dataAbsentReason given: nothing to store)' : '';
    issue('required', element, `${element} is required for ${code.name}${absent}`);
    return undefined;
  }
  if (!isObject(quantity)) {
    issue('structure', element, `${element} must be a Quantity`);
    return undefined;
  }
  // Each problem of the Quantity is reported, not only the first.
  let acceptable = true;
  const hasValue = typeof quantity.value === 'number' && Number.isFinite(quantity.value);
  if (!hasValue) {
    issue('required', `${element}.value`, `${element}.value must be a number`);
    acceptable = false;
  }
  if (quantity.comparator !== undefined) {
    issue('value', `${element}.comparator`, 'a comparator (<, >) is not an exact measurement');
    acceptable = false;
  }
  if (quantity.system !== undefined && quantity.system !== UCUM_SYSTEM) {
    issue('value', `${element}.system`, `${element}.system must be ${UCUM_SYSTEM}`);
    acceptable = false;
  }
  // Without a value the unit cannot be checked (the conversion checks the value's range too).
  if (!hasValue) return undefined;
  // The UCUM code is authoritative; without one, the display unit is tried as a UCUM code.
  const [unitElement, unit] = typeof quantity.code === 'string' ? ['code', quantity.code] : ['unit', typeof quantity.unit === 'string' ? quantity.unit : ''];
  const converted = toCanonical(kind, quantity.value as number, [unit]);
  if (!converted.ok) {
    issue(unit === '' ? 'required' : 'code-invalid', `${element}.${unitElement}`, `${element}.${unitElement}: ${converted.reason}`);
    return undefined;
  }
  return acceptable ? converted.value : undefined;
}

function readPanel(resource: Json, issue: Issue): string | undefined {
  const components = arrayOf(resource.component);
  const find = (kind: 'systolic' | 'diastolic'): number | undefined => {
    const index = components.findIndex((c) => isObject(c) && loincCodeOf(c.code)?.kind === kind);
    if (index === -1) {
      issue('required', 'component', `the ${kind} component (LOINC ${kind === 'systolic' ? '8480-6' : '8462-4'}) is missing`);
      return undefined;
    }
    const component = components[index] as Json;
    return readQuantity(component.valueQuantity, `component[${index}].valueQuantity`, LOINC_VITALS.get(kind === 'systolic' ? '8480-6' : '8462-4')!, component, issue);
  };
  const systolic = find('systolic');
  const diastolic = find('diastolic');
  return systolic === undefined || diastolic === undefined ? undefined : formatBloodPressure(systolic, diastolic);
}

/** One reading per patient, device and moment, with the FHIRPaths of the Observations it came from. */
export interface MergedReading {
  readonly paths: string[];
  readonly result: { ok: true; reading: RawReading } | { ok: false; issues: FhirIssue[] };
}

/**
 * Merges Observations of the same patient, device and moment into one reading (the reading id is
 * derived from those three, so separate readings would be duplicates of each other) and runs the
 * edge validation every ingest path shares.
 */
export function mergeObservations(items: readonly { path: string; vitals: ObservationVitals }[], receivedAt: number): MergedReading[] {
  const groups = new Map<string, { paths: string[]; first: ObservationVitals; values: Map<VitalKind, number | string> }>();
  for (const { path, vitals } of items) {
    const key = `${vitals.patientId}\u0000${vitals.deviceId}\u0000${Date.parse(vitals.observedAt)}`;
    let group = groups.get(key);
    if (!group) {
      group = { paths: [], first: vitals, values: new Map() };
      groups.set(key, group);
    }
    group.paths.push(path);
    group.values.set(vitals.kind, vitals.value);
  }
  return [...groups.values()].map(({ paths, first, values }) => {
    const temperature = values.get('temperature');
    const result = toRawReading({
      deviceId: first.deviceId,
      patientId: first.patientId,
      observedAt: first.observedAt,
      heartRate: values.get('heartRate') ?? null,
      respiratoryRate: values.get('respiratoryRate') ?? null,
      spo2: values.get('spo2') ?? null,
      temperature: temperature ?? null,
      temperatureUnit: temperature === undefined ? null : 'C',
      bloodPressure: values.get('bloodPressure') ?? null,
    }, { receivedAt, source: FHIR_SOURCE });
    if (result.ok) return { paths, result };
    return { paths, result: { ok: false, issues: issuesOfFieldErrors(result.errors, paths[0]!, first.observedAtElement) } };
  });
}

/** Reading-field errors of `toRawReading` as FHIR issues at the element each field came from. */
function issuesOfFieldErrors(errors: readonly FieldError[], path: string, observedAtElement: string): FhirIssue[] {
  const elementOf: Record<string, string> = { patientId: 'subject.reference', deviceId: 'device.reference', observedAt: observedAtElement };
  return errors.map((e) => ({
    code: 'value' as const,
    expression: `${path}.${elementOf[e.field] ?? 'value[x]'}`,
    diagnostics: `${elementOf[e.field] ?? e.field} ${e.reason}`,
  }));
}

/** The shared ingest rules broken by the fields that were read (absent fields already have their issue). */
function ruleIssuesOfReadElements(read: Record<string, unknown>, path: string, observedAtElement: string, receivedAt: number): FhirIssue[] {
  const present = Object.fromEntries(Object.entries(read).filter(([, v]) => v !== undefined));
  const result = toRawReading(present, { receivedAt, source: FHIR_SOURCE });
  if (result.ok) return [];
  return issuesOfFieldErrors(result.errors.filter((e) => e.field in present), path, observedAtElement);
}
