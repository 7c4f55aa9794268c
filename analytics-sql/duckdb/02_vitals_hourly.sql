-- vitals_hourly: per patient per UTC hour of observed_at, the number of readings and the mean
-- (rounded to 2 decimals), minimum and maximum of each vital. Absent vitals are ignored by the
-- aggregates; a vital absent for the whole hour gives NULLs. on_oxygen_readings counts readings
-- taken on supplemental oxygen.
CREATE OR REPLACE VIEW vitals_hourly AS
SELECT
  patient_id,
  date_trunc('hour', observed_at) AS hour,
  count(*) AS readings,
  round(avg(heart_rate), 2) AS heart_rate_mean, min(heart_rate) AS heart_rate_min, max(heart_rate) AS heart_rate_max,
  round(avg(systolic), 2) AS systolic_mean, min(systolic) AS systolic_min, max(systolic) AS systolic_max,
  round(avg(diastolic), 2) AS diastolic_mean, min(diastolic) AS diastolic_min, max(diastolic) AS diastolic_max,
  round(avg(temperature_c), 2) AS temperature_c_mean, min(temperature_c) AS temperature_c_min, max(temperature_c) AS temperature_c_max,
  round(avg(spo2), 2) AS spo2_mean, min(spo2) AS spo2_min, max(spo2) AS spo2_max,
  round(avg(respiratory_rate), 2) AS respiratory_rate_mean, min(respiratory_rate) AS respiratory_rate_min, max(respiratory_rate) AS respiratory_rate_max,
  count(CASE WHEN on_oxygen THEN 1 END) AS on_oxygen_readings
FROM vitals
GROUP BY patient_id, date_trunc('hour', observed_at);
