import type { PatientIdResult } from './bundle-patients.ts';
import { bundleSubjectResolver, patientIdOfPatient } from './bundle-patients.ts';
import { PATIENT_REFERENCE } from './observation-to-reading.ts';

/**
 * The patient a FHIR request body names, for filing a refused request under its patient: the
 * `subject` of an Observation, or of a Bundle's entries when they all name the same patient
 * (`urn:uuid:` subjects read through the Bundle's Patient entries).
 * The FHIR edge also files the resources of one failed merge as JSON lines. Null when the text is
 * not JSON, names no patient, or names several.
 */
export function patientIdOfFhirPayload(text: string): string | null {
  const bodies = parseJsonOrLines(text);
  if (!bodies) return null;
  const patients = new Set<string>();
  for (const body of bodies) {
    const bundle = isObject(body) && body.resourceType === 'Bundle' && Array.isArray(body.entry) ? body.entry as unknown[] : undefined;
    const resources = bundle ? bundle.map((entry) => (isObject(entry) ? entry.resource : undefined)) : [body];
    // A Bundle's urn:uuid subjects mean its Patient entries (bundle-patients.ts has the rule).
    const patientEntries = new Map<number, PatientIdResult>();
    resources.forEach((resource, i) => {
      if (isObject(resource) && resource.resourceType === 'Patient') patientEntries.set(i, patientIdOfPatient(resource, `Bundle.entry[${i}].resource`));
    });
    const resolve = bundleSubjectResolver(bundle ?? [], patientEntries);
    for (const resource of resources) {
      const reference = isObject(resource) && isObject(resource.subject) ? resource.subject.reference : undefined;
      if (typeof reference !== 'string') continue;
      const resolved = resolve(reference);
      if (resolved?.ok) patients.add(resolved.patientId);
      const match = PATIENT_REFERENCE.exec(reference);
      if (match) patients.add(match[1]!);
    }
  }
  return patients.size === 1 ? [...patients][0]! : null;
}

function parseJsonOrLines(text: string): unknown[] | undefined {
  try {
    return [JSON.parse(text)];
  } catch {
    try {
      return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as unknown);
    } catch {
      return undefined;
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
