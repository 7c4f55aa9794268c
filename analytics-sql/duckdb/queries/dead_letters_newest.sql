-- GET /v1/dead-letters: the newest dead letters received since $since; $patient_id '' means any patient.
SELECT dead_letter_id, received_at, source, reason, field, patient_id, payload
FROM dead_letters
WHERE received_at >= $since AND ($patient_id = '' OR patient_id = $patient_id)
ORDER BY received_at DESC, dead_letter_id
LIMIT ${limit}
