import { isAcceptableId } from '../../core/domain/validate-ingest.ts';
import { parseObservedAt } from '../../core/wire/reading-codec.ts';
import type { AdtEvent, AdtPatient, AdtVisit } from '../hl7/adt-to-event.ts';
import { patientIdOfPatient } from './bundle-patients.ts';
import { PATIENT_REFERENCE } from './observation-to-reading.ts';
import type { FhirIssue } from './operation-outcome.ts';

/**
 * FHIR R4 `Patient` and `Encounter` as the ADT events HL7 v2 senders give (ingest/hl7/adt-to-event.ts),
 * so both feeds write the same records (ingest/fhir/README.md, "Patients and encounters"):
 *
 * - `Patient` → an update of the patient (A08): id by the Bundle rule (MR identifier, else the
 *   first identifier, else `id`), `gender`, `birthDate`.
 * - `Encounter` (subject `Patient/<id>`; admission id = first `identifier.value`, else `id`):
 *   - `status` arrived / triaged / in-progress → the admission (A01, start `period.start`), then
 *     the bed: the `location` entry that is `active` (else the last), written as its `identifier.value`,
 *     else `display`, else the id of its `Location/<id>` reference, from its `period.start` (a
 *     transfer when the bed changed, A02);
 *   - `finished` → discharge (A03) at `period.end`, disposition `hospitalization.dischargeDisposition`;
 *   - `cancelled` / `entered-in-error` → cancelled admission (A11);
 *   - `priority` (v3-ActPriority EM / UR / EL) gives the admission type.
 * Times need an offset (FHIR instants do).
 */
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const PRIORITY: Readonly<Record<string, string>> = { EM: 'EMERGENCY', UR: 'URGENT', EL: 'ELECTIVE', R: 'ELECTIVE' };
const OPEN = new Set(['arrived', 'triaged', 'in-progress']);
const CANCELLED = new Set(['cancelled', 'entered-in-error']);

export type FhirAdtResult = { ok: true; events: AdtEvent[] } | { ok: false; issues: FhirIssue[] };

const emptyVisit: AdtVisit = { admissionId: null, bed: null, priorBed: null, admittedAt: null, dischargedAt: null, admissionType: null, dischargeDisposition: null };

export function patientToAdt(resource: unknown, receivedAt: number): FhirAdtResult {
  if (!isObject(resource) || resource.resourceType !== 'Patient') return { ok: false, issues: [{ code: 'structure', expression: 'Patient.resourceType', diagnostics: 'the body must be a Patient' }] };
  const id = patientIdOfPatient(resource, 'Patient');
  if (!id.ok) return id;
  const issues: FhirIssue[] = [];
  const birthDate = resource.birthDate;
  if (birthDate !== undefined && (typeof birthDate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(birthDate))) {
    issues.push({ code: 'value', expression: 'Patient.birthDate', diagnostics: 'birthDate must be a full date (YYYY-MM-DD)' });
  }
  if (issues.length > 0) return { ok: false, issues };
  const patient: AdtPatient = { patientId: id.patientId, gender: typeof resource.gender === 'string' ? resource.gender : null, dateOfBirth: (birthDate as string | undefined) ?? null };
  return { ok: true, events: [{ trigger: 'A08', at: receivedAt, patient, visit: emptyVisit }] };
}

export function encounterToAdt(resource: unknown, receivedAt: number, urlId?: string): FhirAdtResult {
  if (!isObject(resource) || resource.resourceType !== 'Encounter') return { ok: false, issues: [{ code: 'structure', expression: 'Encounter.resourceType', diagnostics: 'the body must be an Encounter' }] };
  const issues: FhirIssue[] = [];
  const reference = isObject(resource.subject) ? resource.subject.reference : undefined;
  const patientId = typeof reference === 'string' ? PATIENT_REFERENCE.exec(reference)?.[1] : undefined;
  if (!patientId) issues.push({ code: 'required', expression: 'Encounter.subject', diagnostics: 'Encounter.subject must reference Patient/<id>' });
  const status = resource.status;
  if (typeof status !== 'string' || !(OPEN.has(status) || status === 'finished' || CANCELLED.has(status))) {
    issues.push({ code: 'not-supported', expression: 'Encounter.status', diagnostics: `status ${JSON.stringify(status)?.slice(0, 30)} is not one Vigil records (arrived, triaged, in-progress, finished, cancelled, entered-in-error)` });
  }
  const identifier = arrayOf(resource.identifier).find((i) => isObject(i) && typeof i.value === 'string') as Json | undefined;
  const admissionId = (identifier?.value as string | undefined) ?? (typeof resource.id === 'string' ? resource.id : urlId);
  if (admissionId !== undefined && !isAcceptableId(admissionId)) issues.push({ code: 'value', expression: 'Encounter.identifier', diagnostics: 'the admission id has characters Vigil does not accept in ids' });
  const instant = (value: unknown, expression: string): number | null => {
    if (value === undefined) return null;
    const ms = parseObservedAt(value);
    if (ms === undefined) issues.push({ code: 'value', expression, diagnostics: `${expression} must be an instant with an offset` });
    return ms ?? null;
  };
  const period = isObject(resource.period) ? resource.period : {};
  const start = instant(period.start, 'Encounter.period.start');
  const end = instant(period.end, 'Encounter.period.end');
  const locations = arrayOf(resource.location).filter(isObject);
  const current = locations.find((l) => l.status === 'active') ?? locations.at(-1);
  const bed = current ? bedOf(current) : null;
  const bedSince = current && isObject(current.period) ? instant(current.period.start, 'Encounter.location.period.start') : null;
  if (issues.length > 0 || !patientId) return { ok: false, issues };

  const priority = isObject(resource.priority) ? arrayOf(resource.priority.coding).find(isObject)?.code : undefined;
  const disposition = isObject(resource.hospitalization) && isObject(resource.hospitalization.dischargeDisposition)
    ? arrayOf(resource.hospitalization.dischargeDisposition.coding).find(isObject)?.code : undefined;
  const patient: AdtPatient = { patientId, gender: null, dateOfBirth: null };
  const visit: AdtVisit = {
    ...emptyVisit,
    admissionId: admissionId ?? null,
    admittedAt: start,
    dischargedAt: end,
    admissionType: typeof priority === 'string' ? PRIORITY[priority] ?? priority : null,
    dischargeDisposition: typeof disposition === 'string' ? disposition : null,
  };
  if (CANCELLED.has(status as string)) return { ok: true, events: [{ trigger: 'A11', at: receivedAt, patient, visit }] };
  if (status === 'finished') return { ok: true, events: [{ trigger: 'A03', at: end ?? receivedAt, patient, visit }] };
  const admit: AdtEvent = { trigger: 'A01', at: start ?? receivedAt, patient, visit };
  if (!bed) return { ok: true, events: [admit] };
  return { ok: true, events: [admit, { trigger: 'A02', at: bedSince ?? start ?? receivedAt, patient, visit: { ...visit, bed } }] };
}

/** The bed a location entry names: its identifier, else its display, else its Location id. */
function bedOf(entry: Json): string | null {
  const location = isObject(entry.location) ? entry.location : {};
  const identifier = isObject(location.identifier) && typeof location.identifier.value === 'string' ? location.identifier.value : undefined;
  const display = typeof location.display === 'string' ? location.display : undefined;
  const id = typeof location.reference === 'string' ? /(?:^|\/)Location\/([^/]+)$/.exec(location.reference)?.[1] : undefined;
  return identifier ?? display ?? id ?? null;
}
