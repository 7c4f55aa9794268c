import { createHash } from 'node:crypto';
import type { RawReading } from '../core/domain/reading.ts';
import type { AssociationKind, DeviceAssociations, HeldReading } from '../core/ports/device-associations.ts';
import { readingIdOf } from '../core/wire/reading-codec.ts';

/**
 * Readings from monitors that name no patient (behind a bedside gateway: only the device id in
 * OBX-18, or the bed in PV1-3) get the patient who held that device, else that bed, at the
 * reading's own time (core/ports/device-associations.ts), so a reading taken before a transfer
 * stays with the patient who was there. A reading nobody held the device or bed for is held (in
 * the same store, before the sender's ACK), never dropped; once an association covering its time
 * arrives (ADT placing a patient in the bed, a clinician's `PUT /v1/devices/:deviceId/association`)
 * it is published under that patient and only then removed from the held ones.
 */
export interface Unattributed {
  /** The parsed reading with `patientId` '' (its `readingId` is set once the patient is known). */
  readonly reading: RawReading;
  readonly bed: string | null;
}

export interface DeviceAttribution {
  /** The readings attributed now (to publish) and how many were held. */
  attribute(items: readonly Unattributed[]): Promise<{ readings: RawReading[]; held: number }>;
  /** After an association of `key` starts: publishes the held readings it now attributes; how many. */
  release(kind: AssociationKind, key: string): Promise<number>;
}

export function createDeviceAttribution(associations: DeviceAssociations, publish: (readings: RawReading[]) => Promise<void>): DeviceAttribution {
  async function patientOf(deviceId: string, bed: string | null, at: number): Promise<string | undefined> {
    return (await associations.patientAt('device', deviceId, at)) ?? (bed ? await associations.patientAt('bed', bed, at) : undefined);
  }

  const attributed = (reading: RawReading, patientId: string): RawReading =>
    ({ ...reading, patientId, readingId: readingIdOf(reading.deviceId, patientId, reading.observedAt) });

  return {
    async attribute(items) {
      const readings: RawReading[] = [];
      const held: HeldReading[] = [];
      for (const { reading, bed } of items) {
        const patientId = await patientOf(reading.deviceId, bed, reading.observedAt);
        if (patientId) readings.push(attributed(reading, patientId));
        else held.push(toHeld(reading, bed));
      }
      if (held.length > 0) await associations.hold(held);
      return { readings, held: held.length };
    },
    async release(kind, key) {
      const held = await associations.heldFor(kind, key);
      const ready: { heldId: string; reading: RawReading }[] = [];
      for (const h of held) {
        const patientId = await patientOf(h.deviceId, h.bed, h.observedAt);
        if (patientId) ready.push({ heldId: h.heldId, reading: attributed(JSON.parse(h.reading) as RawReading, patientId) });
      }
      if (ready.length === 0) return 0;
      // On the bus first: a crash in between publishes them again later, and the reading id
      // (device, patient, time) makes the second copy the same reading.
      await publish(ready.map((r) => r.reading));
      await associations.dropHeld(ready.map((r) => r.heldId));
      return ready.length;
    },
  };
}

function toHeld(reading: RawReading, bed: string | null): HeldReading {
  const { receivedAt: _receivedAt, ...content } = reading;
  // Same device, time and values: the same held reading, however often the message is redelivered.
  const heldId = `${reading.deviceId}|${reading.observedAt}|${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16)}`;
  return { heldId, deviceId: reading.deviceId, bed, observedAt: reading.observedAt, reading: JSON.stringify(reading) };
}
