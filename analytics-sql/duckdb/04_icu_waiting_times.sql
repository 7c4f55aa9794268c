-- icu_waiting_times: one row per admission with at least one ICU stay: whole minutes (elapsed,
-- truncated) from hospital admission to the FIRST ICU entry of that admission.
--
-- ICU entry before the recorded admission (real MIMIC data has it: patients taken to the ICU
-- from the emergency department before the admission was registered) gives waiting_minutes NULL
-- and icu_before_admission TRUE. A negative wait is not a wait: clamping it to 0 would assert a
-- zero wait nobody recorded and pull averages down, and keeping it negative would do the same
-- the other way; NULL keeps those rows out of AVG and percentiles while the row, with both
-- timestamps, stays visible and countable through the flag.
CREATE OR REPLACE VIEW icu_waiting_times AS
SELECT
  a.patient_id,
  a.admission_id,
  a.admitted_at,
  i.icu_intime,
  CASE WHEN i.icu_intime >= a.admitted_at
       THEN (epoch_ms(i.icu_intime) - epoch_ms(a.admitted_at)) // 60000
  END AS waiting_minutes,
  i.icu_intime < a.admitted_at AS icu_before_admission
FROM admissions AS a
JOIN (
  SELECT admission_id, min(icu_intime) AS icu_intime
  FROM icustays
  GROUP BY admission_id
) AS i ON i.admission_id = a.admission_id;
