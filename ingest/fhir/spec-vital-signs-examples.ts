/**
 * Test data: Observations with the JSON structure of the FHIR R4 specification's own vital-signs
 * examples (observation-example-heart-rate, -bloodpressure, -body-temperature, -satO2): the same
 * elements, codings, narrative, identifiers and reference ranges, posted as-is.
 *
 * Two deliberate differences from the published files: the spec's heart rate, blood pressure and
 * temperature examples are dated "1999-07-02" (a day, no time), which Vigil refuses because a
 * vital sign needs its moment, so each has a recent effectiveDateTime with an offset; and the
 * temperature is in °F ([degF]) to exercise the conversion.
 */
const VITAL_SIGNS_CATEGORY = [{
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }],
  text: 'Vital Signs',
}];

/** An ISO time with a +01:00 offset, `minutesAgo` before now (readings must not be in the future). */
export function recentTime(minutesAgo = 10): string {
  const local = new Date(Date.now() - minutesAgo * 60_000 + 3_600_000).toISOString().slice(0, 19);
  return `${local}+01:00`;
}

export function heartRateExample(effectiveDateTime = recentTime()) {
  return {
    resourceType: 'Observation',
    id: 'heart-rate',
    meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] },
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p><b>Generated Narrative</b></p></div>' },
    status: 'final',
    category: VITAL_SIGNS_CATEGORY,
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }], text: 'Heart rate' },
    subject: { reference: 'Patient/example' },
    effectiveDateTime,
    valueQuantity: { value: 44, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
  };
}

export function bloodPressureExample(effectiveDateTime = recentTime()) {
  return {
    resourceType: 'Observation',
    id: 'blood-pressure',
    meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] },
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p><b>Generated Narrative</b></p></div>' },
    identifier: [{ system: 'urn:ietf:rfc:3986', value: 'urn:uuid:187e0c12-8dd2-67e2-99b2-bf273c878281' }],
    basedOn: [{ identifier: { system: 'https://acme.org/identifiers', value: '1234' } }],
    status: 'final',
    category: VITAL_SIGNS_CATEGORY,
    code: {
      coding: [{ system: 'http://loinc.org', code: '85354-9', display: 'Blood pressure panel with all children optional' }],
      text: 'Blood pressure systolic & diastolic',
    },
    subject: { reference: 'Patient/example' },
    effectiveDateTime,
    performer: [{ reference: 'Practitioner/example' }],
    interpretation: [{
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'L', display: 'low' }],
      text: 'Below low normal',
    }],
    bodySite: { coding: [{ system: 'http://snomed.info/sct', code: '368209003', display: 'Right arm' }] },
    component: [
      {
        code: {
          coding: [
            { system: 'http://loinc.org', code: '8480-6', display: 'Systolic blood pressure' },
            { system: 'http://snomed.info/sct', code: '271649006', display: 'Systolic blood pressure' },
            { system: 'http://acme.org/devices/clinical-codes', code: 'bp-s', display: 'Systolic Blood pressure' },
          ],
        },
        valueQuantity: { value: 107, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
        interpretation: [{
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'N', display: 'normal' }],
          text: 'Normal',
        }],
      },
      {
        code: { coding: [{ system: 'http://loinc.org', code: '8462-4', display: 'Diastolic blood pressure' }] },
        valueQuantity: { value: 60, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
        interpretation: [{
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'L', display: 'low' }],
          text: 'Below low normal',
        }],
      },
    ],
  };
}

export function bodyTemperatureFahrenheitExample(effectiveDateTime = recentTime()) {
  return {
    resourceType: 'Observation',
    id: 'body-temperature',
    meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] },
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p><b>Generated Narrative</b></p></div>' },
    status: 'final',
    category: VITAL_SIGNS_CATEGORY,
    code: { coding: [{ system: 'http://loinc.org', code: '8310-5', display: 'Body temperature' }], text: 'Body temperature' },
    subject: { reference: 'Patient/example' },
    effectiveDateTime,
    valueQuantity: { value: 99.5, unit: 'F', system: 'http://unitsofmeasure.org', code: '[degF]' },
  };
}

export function oxygenSaturationExample(effectiveDateTime = recentTime()) {
  return {
    resourceType: 'Observation',
    id: 'satO2',
    meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] },
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p><b>Generated Narrative</b></p></div>' },
    identifier: [{ system: 'http://goodcare.org/observation/id', value: 'o1223435-10' }],
    partOf: [{ reference: 'Procedure/ob' }],
    status: 'final',
    category: VITAL_SIGNS_CATEGORY,
    code: {
      coding: [
        { system: 'http://loinc.org', code: '2708-6', display: 'Oxygen saturation in Arterial blood' },
        { system: 'http://loinc.org', code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry' },
        { system: 'urn:iso:std:iso:11073:10101', code: '150456', display: 'MDC_PULS_OXIM_SAT_O2' },
      ],
    },
    subject: { reference: 'Patient/example' },
    effectiveDateTime,
    valueQuantity: { value: 95, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
    interpretation: [{
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'N', display: 'Normal' }],
      text: 'Normal (applies to non-numeric results)',
    }],
    device: { reference: 'DeviceMetric/example' },
    referenceRange: [{
      low: { value: 90, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
      high: { value: 99, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
    }],
  };
}
