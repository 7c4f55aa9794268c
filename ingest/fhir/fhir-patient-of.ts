import { PATIENT_REFERENCE } from './observation-to-reading.ts';

/**
 * The patient a FHIR request body names, for filing a refused request under its patient: the
 * `subject` of an Observation, or of a Bundle's entries when they all name the same patient.
 * The FHIR edge also files the resources of one failed merge as JSON lines. Null when the text is
 * not JSON, names no patient, or names several.
 */
export function patientIdOfFhirPayload(text: string): string | null {
  const bodies = parseJsonOrLines(text);
  if (!bodies) return null;
  const resources = bodies.flatMap((body) => (isObject(body) && body.resourceType === 'Bundle' && Array.isArray(body.entry)
    ? body.entry.map((entry: unknown) => (isObject(entry) ? entry.resource : undefined))
    : [body]));
  const patients = new Set<string>();
  for (const resource of resources) {
    const reference = isObject(resource) && isObject(resource.subject) ? resource.subject.reference : undefined;
    const match = typeof reference === 'string' ? PATIENT_REFERENCE.exec(reference) : null;
    if (match) patients.add(match[1]!);
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
