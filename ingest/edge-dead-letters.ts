import { createHash } from 'node:crypto';
import { isAcceptableId } from '../core/domain/validate-ingest.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { withRetry } from '../core/retry.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Keeps what an edge (HL7 v2, FHIR) refused after it had been received: the original message and
 * the reason, in the warehouse `dead_letters` table beside the processor's. The id is the hash of
 * the bytes, so a sender retrying the same bad message leaves one row.
 *
 * `patientOf` reads the patient the payload names (PID-3, a FHIR subject), so refused messages can
 * be found, audited and reprocessed per patient; an id ingest would refuse is not kept as one.
 */
export function createEdgeDeadLetters(
  warehouse: Warehouse,
  source: string,
  patientOf: (text: string) => string | null = () => null,
): (payload: Buffer, reason: string) => Promise<void> {
  return (payload, reason) => {
    const text = strictText(payload);
    const patientId = text === undefined ? null : safely(() => patientOf(text));
    return withRetry(() =>
      warehouse.append('dead_letters', [{
        dead_letter_id: createHash('sha256').update(source).update('\u0000').update(payload).digest('hex').slice(0, 32),
        received_at: new Date(),
        source,
        reason,
        field: null,
        patient_id: isAcceptableId(patientId) ? patientId : null,
        // HL7 and FHIR are text: kept readable; anything that is not valid UTF-8 is kept as base64.
        payload: text ?? `base64:${payload.toString('base64')}`,
      }]),
    );
  };
}

function strictText(payload: Buffer): string | undefined {
  try {
    return strictUtf8.decode(payload);
  } catch {
    return undefined;
  }
}

/** A payload odd enough to trip the reader still becomes a dead letter, without a patient. */
function safely(read: () => string | null): string | null {
  try {
    return read();
  } catch {
    return null;
  }
}
