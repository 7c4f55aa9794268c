import { formatHl7Timestamp } from './hl7-timestamp.ts';
import type { Hl7ErrorCondition, MessageHeader, Problem } from './hl7-message-header.ts';

/**
 * HL7 v2 original-mode acknowledgements: MSH + MSA (+ ERR when refused).
 *
 * MSA-1 is AA (the bus has the readings), AE (the content is wrong: fix and resend) or AR (the
 * message was rejected as a whole: unknown sender, unsupported type, not HL7, or the system is
 * unavailable and the sender should retry later). MSA-2 echoes MSH-10. MSA-3 carries a short
 * reason for people reading gateway logs; ERR-2/3/8 carry the location, the table 0357 code and
 * the reason for systems, one ERR segment per problem so a sender sees all of them at once.
 */
export type AckCode = 'AA' | 'AE' | 'AR';

export interface AckOptions {
  readonly code: AckCode;
  /** The header of the message answered, or undefined when it had none we could read. */
  readonly header?: MessageHeader;
  readonly text: string;
  readonly error?: { readonly condition: Hl7ErrorCondition; readonly location?: string };
  /** Every problem of the message, one ERR segment each (ERR repeats); replaces `error`'s single ERR. */
  readonly problems?: readonly Problem[];
  /** MSH-10 of the ACK itself. */
  readonly ackControlId: string;
  readonly now: number;
}

/** Vigil's own application name in MSH-3 of its ACKs when the message did not name a receiver. */
export const VIGIL_APPLICATION = 'VIGIL';
const DEFAULT_VERSION = '2.6';

export function buildAck(options: AckOptions): string {
  const h = options.header;
  const [receiverApp, receiverFacility] = h?.rawReceiver ?? ['', ''];
  const msh = [
    'MSH', '^~\\&',
    receiverApp || VIGIL_APPLICATION, receiverFacility,
    h?.rawSender[0] ?? '', h?.rawSender[1] ?? '',
    formatHl7Timestamp(options.now), '',
    `ACK^${escapeHl7(h?.triggerEvent || 'R01')}^ACK`,
    escapeHl7(options.ackControlId),
    escapeHl7(h?.processingId || 'P'),
    escapeHl7(h?.version || DEFAULT_VERSION),
  ].join('|');
  const msa = ['MSA', options.code, h?.controlId ?? '', escapeHl7(options.text.slice(0, 80))].join('|');
  const segments = [msh, msa];
  const errors: Problem[] = options.problems && options.problems.length > 0 ? [...options.problems]
    : options.error ? [{ ...options.error, reason: options.text }] : [];
  for (const { condition, location, reason } of errors) {
    segments.push(['ERR', '', location ?? '', `${condition.code}^${condition.text}^HL70357`, 'E', '', '', '', escapeHl7(reason.slice(0, 250))].join('|'));
  }
  return segments.join('\r');
}

/** HL7 escape sequences for text we put into a field (our own reasons quote sender values). */
export function escapeHl7(text: string): string {
  return text
    .replace(/\\/g, '\\E\\')
    .replace(/\|/g, '\\F\\')
    .replace(/\^/g, '\\S\\')
    .replace(/&/g, '\\T\\')
    .replace(/~/g, '\\R\\')
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f]/g, ' ');
}
