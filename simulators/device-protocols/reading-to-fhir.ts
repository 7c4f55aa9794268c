import type { Bundle, Observation, Quantity } from '@medplum/fhirtypes';
import { isoTimestamp } from '../device-faults.ts';

/**
 * An ingest-format reading (the README's "A reading") as FHIR R4 vital-signs Observations, one per
 * vital (blood pressure as the 85354-9 panel with systolic and diastolic components), or as a
 * Bundle of them. Values are written as the reading has them, so a malformed reading (a simulator
 * fault) stays malformed and the FHIR edge refuses it. onOxygen and consciousness are not vital
 * signs of the FHIR profile and are left out.
 */
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const CATEGORY = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }] }];

const quantity = (value: unknown, code: string, unit = code): Quantity =>
  ({ value: value as number, unit, system: UCUM, code });

export function readingToObservations(reading: Readonly<Record<string, unknown>>): Observation[] {
  const effectiveDateTime = typeof reading.observedAt === 'number' ? isoTimestamp(reading.observedAt) : String(reading.observedAt);
  const base = (code: string, display: string): Observation => ({
    resourceType: 'Observation',
    meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] },
    status: 'final',
    category: CATEGORY,
    code: { coding: [{ system: LOINC, code, display }], text: display },
    ...(reading.patientId === undefined ? {} : { subject: { reference: `Patient/${String(reading.patientId)}` } }),
    effectiveDateTime,
    ...(reading.deviceId === undefined ? {} : { device: { reference: `Device/${String(reading.deviceId)}` } }),
  });
  const present = (field: string): boolean => reading[field] !== undefined && reading[field] !== null;
  const out: Observation[] = [];
  if (present('heartRate')) out.push({ ...base('8867-4', 'Heart rate'), valueQuantity: quantity(reading.heartRate, '/min', 'beats/minute') });
  if (present('respiratoryRate')) out.push({ ...base('9279-1', 'Respiratory rate'), valueQuantity: quantity(reading.respiratoryRate, '/min', 'breaths/minute') });
  if (present('spo2')) out.push({ ...base('59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry'), valueQuantity: quantity(reading.spo2, '%') });
  if (present('temperature')) {
    const fahrenheit = reading.temperatureUnit === 'F';
    out.push({ ...base('8310-5', 'Body temperature'), valueQuantity: quantity(reading.temperature, fahrenheit ? '[degF]' : 'Cel', fahrenheit ? '°F' : '°C') });
  }
  if (present('bloodPressure')) {
    const [systolic, diastolic] = String(reading.bloodPressure).split('/').map((p) => (p.trim() === '' || Number.isNaN(Number(p)) ? p : Number(p)));
    out.push({
      ...base('85354-9', 'Blood pressure panel with all children optional'),
      component: [
        { code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: quantity(systolic, 'mm[Hg]', 'mmHg') },
        { code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }] }, valueQuantity: quantity(diastolic, 'mm[Hg]', 'mmHg') },
      ],
    });
  }
  return out;
}

/** The Observations of several readings as one Bundle (batch: each stands alone; transaction: all or nothing). */
export function readingsToBundle(readings: readonly Readonly<Record<string, unknown>>[], type: 'batch' | 'transaction' = 'batch'): Bundle {
  return {
    resourceType: 'Bundle',
    type,
    entry: readings.flatMap(readingToObservations).map((resource) => ({ resource, request: { method: 'POST', url: 'Observation' } })),
  };
}
