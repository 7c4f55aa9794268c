-- vigil dead-letters list|replay: oldest first, so a replay keeps each patient's readings in arrival order.
-- @patient_id '' means any patient; @reason '' means any reason, else a case-insensitive substring.
SELECT dead_letter_id, received_at, source, reason, field, patient_id, payload
FROM dead_letters
WHERE received_at >= @since
  AND (@patient_id = '' OR patient_id = @patient_id)
  AND (@reason = '' OR STRPOS(LOWER(reason), LOWER(@reason)) > 0)
ORDER BY received_at, dead_letter_id
LIMIT ${limit} OFFSET ${offset}
