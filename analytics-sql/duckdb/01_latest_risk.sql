-- latest_risk: the newest risk_scores row per patient, one row per scored patient.
-- (patient_id, scored_at) is the table's key, so "newest" has no ties.
CREATE OR REPLACE VIEW latest_risk AS
SELECT patient_id, scored_at, news2_score, news2_level, risk_score, model, factors, news2_complete, news2_missing
FROM (
  SELECT r.*, row_number() OVER (PARTITION BY r.patient_id ORDER BY r.scored_at DESC) AS newest_first
  FROM risk_scores AS r
) AS ranked
WHERE newest_first = 1;
