/**
 * Who a bed or a monitor belonged to, and when: the ward census (beds from ADT) and the devices
 * a clinician associated with a patient. A monitor behind a bedside gateway often sends only its
 * device id or bed; its readings belong to whoever held that bed or device at the reading's time,
 * so associations are kept as time intervals, never overwritten (a transfer ends one and starts
 * another; history stays).
 *
 * Lifecycle: create → `provision()` (idempotent) → reads/writes → `close()`.
 *
 * Promises (checked by core/contracts/device-associations-contract.ts on every adapter):
 * - `associate` starts an interval at `from`: the interval of the same key open at `from` ends at
 *   `from`, and for a bed, the patient's own open bed interval ends at `from` (one bed at a time).
 *   The same call twice changes nothing (ADT messages are redelivered).
 * - `endPatient` ends every open interval of the patient at `at` (discharge); history stays.
 * - `retract` removes the interval that started at `from` (a cancelled admission or transfer) and
 *   reopens the intervals that its start had ended, so the state is as if it never happened.
 * - `reopenPatient` reopens the patient's intervals that `endPatient` ended at `at` (cancelled discharge).
 * - `patientAt` answers by time: an interval holds from `from` (inclusive) to `to` (exclusive).
 * - Shared state: any instance reads what another wrote.
 */
export type AssociationKind = 'bed' | 'device';

export interface Association {
  readonly kind: AssociationKind;
  /** The bed (`4N-401-A`, from PV1-3) or the device id (OBX-18 / JSON `deviceId`). */
  readonly key: string;
  readonly patientId: string;
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive; null while current. */
  readonly to: number | null;
  /** Who said so: `adt` or `clinician:<subject>`. */
  readonly source: string;
}

export interface DeviceAssociations {
  readonly kind: string;
  provision(): Promise<void>;
  associate(association: Omit<Association, 'to'>): Promise<void>;
  endPatient(patientId: string, at: number): Promise<void>;
  retract(kind: AssociationKind, key: string, from: number): Promise<void>;
  reopenPatient(patientId: string, at: number): Promise<void>;
  /** Who held the bed or device at `at`; undefined when nobody did. */
  patientAt(kind: AssociationKind, key: string, at: number): Promise<string | undefined>;
  /** The patient's intervals, oldest first. */
  ofPatient(patientId: string): Promise<Association[]>;
  /** Moves every interval of `fromPatient` to `toPatient` (ADT A40 merge). */
  reassignPatient(fromPatient: string, toPatient: string): Promise<void>;
  /** Keeps readings nobody could be attributed to yet (durable before the sender's ACK); the same `heldId` twice is one. */
  hold(readings: readonly HeldReading[]): Promise<void>;
  /** The readings held for a device (by `deviceId`) or a bed (by `bed`), oldest first. */
  heldFor(kind: AssociationKind, key: string): Promise<HeldReading[]>;
  /** Removes held readings once they are on the bus under their patient. */
  dropHeld(heldIds: readonly string[]): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A reading from a monitor that named no patient, and whose device and bed had nobody at its time:
 * held, never dropped, until an association covering its time arrives.
 */
export interface HeldReading {
  /** Unique per device, time and values: a redelivered message holds nothing twice. */
  readonly heldId: string;
  readonly deviceId: string;
  /** The bed the message named (PV1-3), if any. */
  readonly bed: string | null;
  readonly observedAt: number;
  /** The reading as the edge parsed it, JSON, without a patient. */
  readonly reading: string;
}

/** Where the patient is on the ward: the bed held now, or left (every interval ended). */
export interface Whereabouts {
  readonly bed: string | null;
  /** The patient had beds and holds none now: discharged (the ward view leaves them out). */
  readonly left: boolean;
}

/** A patient's whereabouts from their intervals; undefined for a patient ADT never mentioned. */
export function whereaboutsOf(intervals: readonly Association[]): Whereabouts | undefined {
  const beds = intervals.filter((a) => a.kind === 'bed');
  if (beds.length === 0) return undefined;
  const open = beds.filter((a) => a.to === null).sort((a, b) => b.from - a.from)[0];
  return { bed: open?.key ?? null, left: open === undefined };
}
