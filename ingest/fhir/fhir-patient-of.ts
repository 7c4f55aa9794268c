import { PATIENT_REFERENCE } from './observation-to-reading.ts';

/**
 * The patient a FHIR request body names, for filing a refused request under its patient: the
 * `subject` of an Observation, or of a Bundle's entries when they all name the same patient.
 * Null when the body is not JSON, names no patient, or names several.
 */
export function patientIdOfFhirPayload(text: string): string | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  const resources = isObject(body) && body.resourceType === 'Bundle' && Array.isArray(body.entry)
    ? body.entry.map((entry: unknown) => (isObject(entry) ? entry.resource : undefined))
    : [body];
  const patients = new Set<string>();
  for (const resource of resources) {
    const reference = isObject(resource) && isObject(resource.subject) ? resource.subject.reference : undefined;
    const match = typeof reference === 'string' ? PATIENT_REFERENCE.exec(reference) : null;
    if (match) patients.add(match[1]!);
  }
  return patients.size === 1 ? [...patients][0]! : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
