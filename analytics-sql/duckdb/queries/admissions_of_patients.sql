-- The processor's admission lookup: every admission of the patients in $patient_ids (ids joined
-- by commas, which a patient id never holds: core/domain/validate-ingest.ts ID_PATTERN), with the date of birth;
-- an admission cancelled by ADT (A11, A13 sets cancelled_at) never happened.
SELECT a.patient_id, a.admitted_at, a.discharged_at, a.admission_type, p.date_of_birth
FROM admissions AS a LEFT JOIN patients AS p ON p.patient_id = a.patient_id
WHERE list_contains(string_split($patient_ids, ','), a.patient_id)
  AND a.cancelled_at IS NULL
