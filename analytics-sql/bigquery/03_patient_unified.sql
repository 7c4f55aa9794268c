-- patient_unified: one row per patient and admission (a patient without admissions appears once,
-- with NULL admission columns), with the aggregates of the vitals observed during that admission
-- (admitted_at <= observed_at <= discharged_at; an open admission has no upper bound) and the
-- patient's latest risk score. Means are rounded to 2 decimals. Each reading_id counts once.
CREATE OR REPLACE VIEW `${dataset}.patient_unified` AS
SELECT
  p.patient_id, p.gender, p.date_of_birth, p.date_of_death, p.expire_flag,
  a.admission_id, a.admitted_at, a.discharged_at, a.died_at, a.admission_type, a.admission_location,
  a.discharge_location, a.insurance, a.diagnosis, a.hospital_expire_flag, a.total_cost,
  COALESCE(v.vitals_readings, 0) AS vitals_readings,
  v.first_observed_at, v.last_observed_at,
  v.heart_rate_mean, v.heart_rate_max, v.systolic_mean, v.systolic_min, v.spo2_mean, v.spo2_min,
  v.respiratory_rate_mean, v.respiratory_rate_max, v.temperature_c_max,
  lr.scored_at AS latest_scored_at, lr.news2_score AS latest_news2_score, lr.news2_level AS latest_news2_level,
  lr.risk_score AS latest_risk_score, lr.model AS latest_model
FROM `${dataset}.patients` AS p
LEFT JOIN `${dataset}.admissions` AS a ON a.patient_id = p.patient_id
LEFT JOIN (
  SELECT
    ad.admission_id,
    COUNT(*) AS vitals_readings,
    MIN(vi.observed_at) AS first_observed_at, MAX(vi.observed_at) AS last_observed_at,
    ROUND(AVG(vi.heart_rate), 2) AS heart_rate_mean, MAX(vi.heart_rate) AS heart_rate_max,
    ROUND(AVG(vi.systolic), 2) AS systolic_mean, MIN(vi.systolic) AS systolic_min,
    ROUND(AVG(vi.spo2), 2) AS spo2_mean, MIN(vi.spo2) AS spo2_min,
    ROUND(AVG(vi.respiratory_rate), 2) AS respiratory_rate_mean, MAX(vi.respiratory_rate) AS respiratory_rate_max,
    MAX(vi.temperature_c) AS temperature_c_max
  FROM `${dataset}.admissions` AS ad
  JOIN (
    SELECT * EXCEPT (delivery) FROM (
      SELECT *, ROW_NUMBER() OVER (PARTITION BY reading_id ORDER BY received_at) AS delivery FROM `${dataset}.vitals`
    ) WHERE delivery = 1
  ) AS vi
    ON vi.patient_id = ad.patient_id
   AND vi.observed_at >= ad.admitted_at
   AND (ad.discharged_at IS NULL OR vi.observed_at <= ad.discharged_at)
  GROUP BY ad.admission_id
) AS v ON v.admission_id = a.admission_id
LEFT JOIN `${dataset}.latest_risk` AS lr ON lr.patient_id = p.patient_id;
