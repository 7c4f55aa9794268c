import { createHash } from 'node:crypto';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { withRetry } from '../core/retry.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Keeps what an edge (HL7 v2, FHIR) refused after it had been received: the original message and
 * the reason, in the warehouse `dead_letters` table beside the processor's. The id is the hash of
 * the bytes, so a sender retrying the same bad message leaves one row.
 */
export function createEdgeDeadLetters(warehouse: Warehouse, source: string): (payload: Buffer, reason: string) => Promise<void> {
  return (payload, reason) =>
    withRetry(() =>
      warehouse.append('dead_letters', [{
        dead_letter_id: createHash('sha256').update(source).update('\u0000').update(payload).digest('hex').slice(0, 32),
        received_at: new Date(),
        source,
        reason,
        field: null,
        patient_id: null,
        payload: textOrBase64(payload),
      }]),
    );
}

/** HL7 and FHIR are text: keep them readable; anything that is not valid UTF-8 is kept as base64. */
function textOrBase64(payload: Buffer): string {
  try {
    return strictUtf8.decode(payload);
  } catch {
    return `base64:${payload.toString('base64')}`;
  }
}
