-- ADT's read-modify-write of a patient (ingest/hl7/adt-records.ts): the row of $patient_id, every
-- column, since it is written back whole with the fields the event speaks for changed.
SELECT * FROM patients WHERE patient_id = $patient_id
