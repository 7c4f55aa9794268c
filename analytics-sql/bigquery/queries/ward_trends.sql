-- GET /v1/ward/trends: every patient's vitals since @from as means per bucket of ${bucket_ms} ms (epoch ms, floored).
SELECT patient_id, DIV(UNIX_MILLIS(observed_at), ${bucket_ms}) * ${bucket_ms} AS bucket,
  AVG(heart_rate) AS heart_rate, AVG(respiratory_rate) AS respiratory_rate, AVG(spo2) AS spo2,
  AVG(systolic) AS systolic, AVG(temperature_c) AS temperature_c
FROM vitals
WHERE observed_at >= @from
GROUP BY patient_id, bucket
ORDER BY patient_id, bucket
