import type { Observation } from '@medplum/fhirtypes';
import type { VitalReading } from '../../core/domain/reading.ts';
import { LOINC_SYSTEM, OBSERVATION_CATEGORY_SYSTEM, UCUM_SYSTEM } from './observation-to-reading.ts';

/**
 * Stored readings as FHIR R4 vital-signs Observations, the shape `GET /fhir/Observation` serves.
 *
 * One reading becomes one Observation per vital it holds: heart rate, respiratory rate, SpO2, body
 * temperature (°C) and the blood-pressure panel 85354-9 with its systolic and diastolic
 * components. Each carries the base vital-signs profile's required elements (status `final`,
 * category `vital-signs`, a LOINC code, subject, effectiveDateTime with offset, a UCUM
 * valueQuantity), so what is served reads back through `readObservation` (the parser the ingest
 * uses) as the same reading: same patient, device and moment, hence the same reading id.
 *
 * `onOxygen` and `consciousness` are not served: they are not in the vital-signs profile, and the
 * FHIR edge takes no code for them, so a served one could not be posted back.
 */

/** What one served Observation stands for, by its id suffix (`<readingId>-<suffix>`). */
export interface VitalSignDefinition {
  readonly suffix: string;
  /** The vital-signs profile this Observation claims (http://hl7.org/fhir/StructureDefinition/...). */
  readonly profile: string;
  /** LOINC codings, preferred first; search by `code` matches any of them. */
  readonly codings: readonly { readonly code: string; readonly display: string }[];
  readonly text: string;
}

export const VITAL_SIGN_DEFINITIONS = {
  heartRate: { suffix: 'hr', profile: 'heartrate', codings: [{ code: '8867-4', display: 'Heart rate' }], text: 'Heart rate' },
  respiratoryRate: { suffix: 'rr', profile: 'resprate', codings: [{ code: '9279-1', display: 'Respiratory rate' }], text: 'Respiratory rate' },
  // US Core's pulse-oximetry coding first, with the base profile's 2708-6 beside it (both are what US Core serves).
  spo2: {
    suffix: 'spo2',
    profile: 'oxygensat',
    codings: [{ code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry' }, { code: '2708-6', display: 'Oxygen saturation in Arterial blood' }],
    text: 'Oxygen saturation',
  },
  temperature: { suffix: 'temp', profile: 'bodytemp', codings: [{ code: '8310-5', display: 'Body temperature' }], text: 'Body temperature' },
  bloodPressure: {
    suffix: 'bp',
    profile: 'bp',
    codings: [{ code: '85354-9', display: 'Blood pressure panel with all children optional' }],
    text: 'Blood pressure systolic and diastolic',
  },
} as const satisfies Record<string, VitalSignDefinition>;

export type ServedVital = keyof typeof VITAL_SIGN_DEFINITIONS;
/** The order Observations of one reading are served in (paging cursors rely on it). */
export const SERVED_VITALS: readonly ServedVital[] = ['heartRate', 'respiratoryRate', 'spo2', 'temperature', 'bloodPressure'];

/** The patient id as a FHIR logical id could carry it (FHIR ids: [A-Za-z0-9-.]{1,64}). */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** The system of Vigil's own patient and device ids, for ids FHIR's id rule cannot carry (`P_001`). */
export const VIGIL_PATIENT_ID_SYSTEM = 'urn:vigil:patient-id';
export const VIGIL_DEVICE_ID_SYSTEM = 'urn:vigil:device-id';

const CATEGORY = [{
  coding: [{ system: OBSERVATION_CATEGORY_SYSTEM, code: 'vital-signs', display: 'Vital Signs' }],
  text: 'Vital Signs',
}];

const quantity = (value: number, unit: string, code: string) => ({ value, unit, system: UCUM_SYSTEM, code });

/** A reference to a Vigil id: `Type/<id>` when the id is a FHIR id, else a logical reference by identifier. */
function referenceTo(type: 'Patient' | 'Device', id: string, system: string) {
  return FHIR_ID.test(id) ? { reference: `${type}/${id}` } : { type, identifier: { system, value: id } };
}

/** The vitals of a reading that are served, in SERVED_VITALS order. */
export function servedVitalsOf(reading: VitalReading): ServedVital[] {
  return SERVED_VITALS.filter((vital) => {
    if (vital === 'bloodPressure') return reading.systolic !== null && reading.diastolic !== null;
    if (vital === 'temperature') return reading.temperatureC !== null;
    return reading[vital] !== null;
  });
}

export function observationOf(reading: VitalReading, vital: ServedVital): Observation {
  const definition: VitalSignDefinition = VITAL_SIGN_DEFINITIONS[vital];
  const base: Observation = {
    resourceType: 'Observation',
    id: `${reading.readingId}-${definition.suffix}`,
    meta: {
      profile: [`http://hl7.org/fhir/StructureDefinition/${definition.profile}`],
      lastUpdated: new Date(reading.receivedAt).toISOString(),
    },
    status: 'final',
    category: CATEGORY,
    code: { coding: definition.codings.map((c) => ({ system: LOINC_SYSTEM, code: c.code, display: c.display })), text: definition.text },
    subject: referenceTo('Patient', reading.patientId, VIGIL_PATIENT_ID_SYSTEM),
    effectiveDateTime: new Date(reading.observedAt).toISOString(),
    device: referenceTo('Device', reading.deviceId, VIGIL_DEVICE_ID_SYSTEM),
  };
  switch (vital) {
    case 'heartRate': return { ...base, valueQuantity: quantity(reading.heartRate!, 'beats/minute', '/min') };
    case 'respiratoryRate': return { ...base, valueQuantity: quantity(reading.respiratoryRate!, 'breaths/minute', '/min') };
    case 'spo2': return { ...base, valueQuantity: quantity(reading.spo2!, '%', '%') };
    case 'temperature': return { ...base, valueQuantity: quantity(reading.temperatureC!, 'C', 'Cel') };
    case 'bloodPressure': return {
      ...base,
      component: [
        { code: { coding: [{ system: LOINC_SYSTEM, code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: quantity(reading.systolic!, 'mmHg', 'mm[Hg]') },
        { code: { coding: [{ system: LOINC_SYSTEM, code: '8462-4', display: 'Diastolic blood pressure' }] }, valueQuantity: quantity(reading.diastolic!, 'mmHg', 'mm[Hg]') },
      ],
    };
  }
}

/** Every Observation of a reading, in SERVED_VITALS order. */
export function observationsOf(reading: VitalReading): Observation[] {
  return servedVitalsOf(reading).map((vital) => observationOf(reading, vital));
}
