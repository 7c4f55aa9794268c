-- latest_risk: the newest risk_scores row per patient, one row per scored patient.
-- (patient_id, scored_at) is the table's key, so "newest" has no ties; a row streamed twice (appends
-- are at least once here) is still picked once, as DuckDB's key keeps it once.
CREATE OR REPLACE VIEW `${dataset}.latest_risk` AS
SELECT patient_id, scored_at, news2_score, news2_level, risk_score, model, factors, news2_complete, news2_missing
FROM (
  SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.patient_id ORDER BY r.scored_at DESC) AS newest_first
  FROM `${dataset}.risk_scores` AS r
) AS ranked
WHERE newest_first = 1;
