-- ADT's read-modify-write of admissions (ingest/hl7/adt-records.ts): every admission of $patient_id,
-- cancelled ones too (an A13 or a later visit number may name one), oldest first. Every column:
-- the row is written back whole with the fields the event speaks for changed.
SELECT * FROM admissions WHERE patient_id = $patient_id ORDER BY admitted_at
