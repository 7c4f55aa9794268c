import { isAcceptableId } from '../../core/domain/validate-ingest.ts';
import type { FhirIssue } from './operation-outcome.ts';

/**
 * `Patient` entries of a batch or transaction Bundle, as Synthea and other clients write them: the
 * Patient with `fullUrl` `urn:uuid:…`, and Observations whose `subject.reference` is that
 * `urn:uuid:`. Vigil keeps no Patient resources; an entry only tells which patient id the
 * Bundle's references mean.
 *
 * The patient id of a Patient resource (the stated rule):
 * 1. the `value` of the first `identifier` whose `type` has the v2-0203 code `MR` (medical record
 *    number);
 * 2. else the `value` of the first `identifier` that has one;
 * 3. else the Patient's `id`.
 * The chosen value must pass the ingest id rule (`isAcceptableId`); there is no fall-through to
 * the next candidate when it does not, so one Patient always means one id.
 */
export const MEDICAL_RECORD_TYPE = 'MR';
export const V2_IDENTIFIER_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const URN_UUID = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export type PatientIdResult = { ok: true; patientId: string; from: string } | { ok: false; issues: FhirIssue[] };

/** The patient id of a Patient resource by the rule above; `path` is its FHIRPath prefix. */
export function patientIdOfPatient(resource: Json, path: string): PatientIdResult {
  const identifiers = arrayOf(resource.identifier);
  const hasValue = (i: unknown): i is Json => isObject(i) && typeof i.value === 'string';
  const isMedicalRecord = (i: Json): boolean => isObject(i.type) && arrayOf(i.type.coding).some((c) =>
    isObject(c) && c.code === MEDICAL_RECORD_TYPE && (c.system === undefined || c.system === V2_IDENTIFIER_TYPE_SYSTEM));
  let index = identifiers.findIndex((i) => hasValue(i) && isMedicalRecord(i));
  if (index === -1) index = identifiers.findIndex(hasValue);
  const [value, element, from] = index !== -1
    ? [(identifiers[index] as Json).value, `identifier[${index}].value`, isMedicalRecord(identifiers[index] as Json) ? 'the MR identifier' : 'the first identifier']
    : [resource.id, 'id', 'the Patient id'];
  if (value === undefined) {
    return { ok: false, issues: [{ code: 'required', expression: `${path}.identifier`, diagnostics: 'a Patient entry needs an identifier (MR preferred) or an id to give the patient id' }] };
  }
  if (!isAcceptableId(value)) {
    return { ok: false, issues: [{ code: 'value', expression: `${path}.${element}`, diagnostics: `${from} is not an acceptable patient id (letters, digits and . _ : @ -, at most 128 characters)` }] };
  }
  return { ok: true, patientId: value, from };
}

/** What a `urn:uuid:` subject reference means inside one Bundle. */
export type SubjectResolution = { ok: true; patientId: string } | { ok: false; diagnostics: string };
export type SubjectResolver = (reference: string) => SubjectResolution | undefined;

/**
 * Reads the Patient entries of a Bundle and returns the resolver for `urn:uuid:` references:
 * undefined for other references (read as `Patient/<id>` as usual), else the patient id or why not.
 */
export function bundleSubjectResolver(entries: readonly unknown[], patients: ReadonlyMap<number, PatientIdResult>): SubjectResolver {
  const byFullUrl = new Map<string, { index: number; result: PatientIdResult }>();
  const otherFullUrls = new Set<string>();
  entries.forEach((entry, index) => {
    const fullUrl = isObject(entry) ? entry.fullUrl : undefined;
    if (typeof fullUrl !== 'string') return;
    const result = patients.get(index);
    if (result && !byFullUrl.has(fullUrl)) byFullUrl.set(fullUrl, { index, result });
    else otherFullUrls.add(fullUrl);
  });
  return (reference) => {
    if (!reference.startsWith('urn:uuid:')) return undefined;
    const found = byFullUrl.get(reference);
    if (found) {
      return found.result.ok
        ? { ok: true, patientId: found.result.patientId }
        : { ok: false, diagnostics: `subject.reference names the Patient of Bundle.entry[${found.index}], which was refused` };
    }
    if (!URN_UUID.test(reference)) return { ok: false, diagnostics: 'subject.reference is not a valid urn:uuid' };
    return { ok: false, diagnostics: otherFullUrls.has(reference)
      ? 'subject.reference names an entry of this Bundle that is not a Patient'
      : 'subject.reference names a urn:uuid that is no Patient entry\'s fullUrl in this Bundle' };
  };
}
