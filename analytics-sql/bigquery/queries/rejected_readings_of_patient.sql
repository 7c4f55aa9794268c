-- GET /v1/patients/:patientId/rejected: one patient's refused readings in [@from, @to), oldest first.
SELECT dead_letter_id, received_at, source, reason, field, payload
FROM dead_letters
WHERE patient_id = @patient_id AND received_at >= @from AND received_at < @to
ORDER BY received_at, dead_letter_id
LIMIT ${limit}
