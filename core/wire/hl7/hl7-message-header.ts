/**
 * The parts of an HL7 v2 message header (MSH) and of its error vocabulary (table 0357) that both
 * the MLLP edge and its ACKs use; simulated devices build and read the same fields.
 */

/** HL7 table 0357 (message error condition codes) entries this edge uses. */
export const HL7_ERROR = Object.freeze({
  segmentSequence: { code: '100', text: 'Segment sequence error' },
  requiredFieldMissing: { code: '101', text: 'Required field missing' },
  dataType: { code: '102', text: 'Data type error' },
  tableValueNotFound: { code: '103', text: 'Table value not found' },
  unsupportedMessageType: { code: '200', text: 'Unsupported message type' },
  unsupportedEvent: { code: '201', text: 'Unsupported event code' },
  unknownKey: { code: '204', text: 'Unknown key identifier' },
  applicationError: { code: '207', text: 'Application internal error' },
});

export type Hl7ErrorCondition = (typeof HL7_ERROR)[keyof typeof HL7_ERROR];

export interface MessageHeader {
  /** MSH-3.1, else MSH-3.2 (a sender such as Philips Efficia writes `^EfficiaCM`). */
  readonly sendingApplication: string;
  /** MSH-4.1, else MSH-4.2. */
  readonly sendingFacility: string;
  /** Every name the sender gives itself: MSH-3.1 and MSH-3.2 (HD namespace id and universal id), non-empty. */
  readonly applicationNames: readonly string[];
  /** MSH-4.1 and MSH-4.2, non-empty. */
  readonly facilityNames: readonly string[];
  /** Raw (still escaped) MSH-3..6, echoed swapped in the ACK. */
  readonly rawSender: readonly [string, string];
  readonly rawReceiver: readonly [string, string];
  readonly messageType: string;
  readonly triggerEvent: string;
  /** MSH-10, echoed in MSA-2. */
  readonly controlId: string;
  readonly processingId: string;
  readonly version: string;
}

export interface Problem {
  readonly condition: Hl7ErrorCondition;
  readonly reason: string;
  /** ERR-2 error location, e.g. `OBX^3^6` (segment^sequence^field). */
  readonly location?: string;
}
