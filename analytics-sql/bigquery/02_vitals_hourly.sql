-- vitals_hourly: per patient per UTC hour of observed_at, the number of readings and the mean
-- (rounded to 2 decimals), minimum and maximum of each vital. Absent vitals are ignored by the
-- aggregates; a vital absent for the whole hour gives NULLs. on_oxygen_readings counts readings
-- taken on supplemental oxygen. Streaming appends are at least once in BigQuery, so each
-- reading_id counts once (DuckDB's key does the same there).
CREATE OR REPLACE VIEW `${dataset}.vitals_hourly` AS
SELECT
  patient_id,
  TIMESTAMP_TRUNC(observed_at, HOUR) AS hour,
  COUNT(*) AS readings,
  ROUND(AVG(heart_rate), 2) AS heart_rate_mean, MIN(heart_rate) AS heart_rate_min, MAX(heart_rate) AS heart_rate_max,
  ROUND(AVG(systolic), 2) AS systolic_mean, MIN(systolic) AS systolic_min, MAX(systolic) AS systolic_max,
  ROUND(AVG(diastolic), 2) AS diastolic_mean, MIN(diastolic) AS diastolic_min, MAX(diastolic) AS diastolic_max,
  ROUND(AVG(temperature_c), 2) AS temperature_c_mean, MIN(temperature_c) AS temperature_c_min, MAX(temperature_c) AS temperature_c_max,
  ROUND(AVG(spo2), 2) AS spo2_mean, MIN(spo2) AS spo2_min, MAX(spo2) AS spo2_max,
  ROUND(AVG(respiratory_rate), 2) AS respiratory_rate_mean, MIN(respiratory_rate) AS respiratory_rate_min, MAX(respiratory_rate) AS respiratory_rate_max,
  COUNT(CASE WHEN on_oxygen THEN 1 END) AS on_oxygen_readings
FROM (
  SELECT * EXCEPT (delivery) FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY reading_id ORDER BY received_at) AS delivery FROM `${dataset}.vitals`
  ) WHERE delivery = 1
)
GROUP BY patient_id, TIMESTAMP_TRUNC(observed_at, HOUR);
