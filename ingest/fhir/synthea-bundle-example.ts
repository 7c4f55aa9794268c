/**
 * Test data: a compact transaction Bundle in the shape Synthea's FHIR R4 exporter writes
 * (one file per patient): a Patient entry whose `fullUrl` is `urn:uuid:<id>`, with Synthea's
 * identifiers (its own system, then MR, SS, DL, PPN), and vital-signs Observations whose `subject`
 * and `encounter` are `urn:uuid:` references, each with `request` POST. Cut down to the entries
 * Vigil reads: Synthea's Encounter, Condition, Claim and laboratory entries are left out.
 */
const SYNTHEA_PATIENT_UUID = '3b5b8e1e-4f34-4c5f-9d43-2a1f5d1c9a77';
export const SYNTHEA_MEDICAL_RECORD_NUMBER = 'b4a8c3f2-6d21-4e0b-9f7a-0c1e2d3f4a5b';

const vitalSigns = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'vital-signs' }] }];

function observation(uuid: string, code: string, display: string, subject: string, effectiveDateTime: string, value: Record<string, unknown>) {
  return {
    fullUrl: `urn:uuid:${uuid}`,
    resource: {
      resourceType: 'Observation',
      id: uuid,
      meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] },
      status: 'final',
      category: vitalSigns,
      code: { coding: [{ system: 'http://loinc.org', code, display }], text: display },
      subject: { reference: subject },
      encounter: { reference: 'urn:uuid:9f0c5e2a-1b7d-4c3e-8a6f-5d4e3c2b1a09' },
      effectiveDateTime,
      issued: effectiveDateTime,
      ...value,
    },
    request: { method: 'POST', url: 'Observation' },
  };
}

export function syntheaPatientEntry() {
  return {
    fullUrl: `urn:uuid:${SYNTHEA_PATIENT_UUID}`,
    resource: {
      resourceType: 'Patient',
      id: SYNTHEA_PATIENT_UUID,
      meta: { profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'] },
      identifier: [
        { system: 'https://github.com/synthetichealth/synthea', value: SYNTHEA_PATIENT_UUID },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical Record Number' }], text: 'Medical Record Number' }, system: 'http://hospital.smarthealthit.org', value: SYNTHEA_MEDICAL_RECORD_NUMBER },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS', display: 'Social Security Number' }], text: 'Social Security Number' }, system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-43-1234' },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'DL', display: 'Driver\'s license number' }], text: 'Driver\'s license number' }, system: 'urn:oid:2.16.840.1.113883.4.3.25', value: 'S99912345' },
      ],
      name: [{ use: 'official', family: 'Kub800', given: ['Ezra917'], prefix: ['Mr.'] }],
      gender: 'male',
      birthDate: '1951-03-14',
    },
    request: { method: 'POST', url: 'Patient' },
  };
}

/** The Bundle, with the Observations at `effectiveDateTime` (with an offset, as Synthea writes it). */
export function syntheaTransactionBundle(effectiveDateTime: string, type: 'transaction' | 'batch' = 'transaction') {
  const subject = `urn:uuid:${SYNTHEA_PATIENT_UUID}`;
  const quantity = (value: number, unit: string) => ({ value, unit, system: 'http://unitsofmeasure.org', code: unit });
  return {
    resourceType: 'Bundle',
    type,
    entry: [
      syntheaPatientEntry(),
      observation('0a1b2c3d-0000-4000-8000-000000000001', '8867-4', 'Heart rate', subject, effectiveDateTime, { valueQuantity: quantity(92, '/min') }),
      observation('0a1b2c3d-0000-4000-8000-000000000002', '9279-1', 'Respiratory rate', subject, effectiveDateTime, { valueQuantity: quantity(14, '/min') }),
      observation('0a1b2c3d-0000-4000-8000-000000000003', '85354-9', 'Blood pressure panel with all children optional', subject, effectiveDateTime, {
        component: [
          { code: { coding: [{ system: 'http://loinc.org', code: '8462-4', display: 'Diastolic Blood Pressure' }] }, valueQuantity: quantity(81, 'mm[Hg]') },
          { code: { coding: [{ system: 'http://loinc.org', code: '8480-6', display: 'Systolic Blood Pressure' }] }, valueQuantity: quantity(128, 'mm[Hg]') },
        ],
      }),
    ],
  };
}
