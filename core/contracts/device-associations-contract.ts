import { describe, expect, it } from 'vitest';
import type { DeviceAssociations } from '../ports/device-associations.ts';
import { whereaboutsOf } from '../ports/device-associations.ts';
import { openPortForSuite } from './provisioned-port.ts';
import { runPrefix } from './wait-for.ts';

/** The device association contract (core/ports/device-associations.ts), run by every adapter's tests. */
export function describeDeviceAssociationsContract(name: string, make: () => Promise<DeviceAssociations>, options: { testTimeoutMs?: number } = {}): void {
  const prefix = runPrefix('assoc');
  const timeout = options.testTimeoutMs ?? 30_000;
  const T = 1_700_000_000_000;
  const HOUR = 3_600_000;

  describe(`device associations contract: ${name}`, () => {
    let store: DeviceAssociations;
    openPortForSuite(make, (port) => { store = port; }, timeout);

    it('answers by time: a transfer ends the old bed, the bed goes to its next patient, history stays', async () => {
      const [alice, bob, bedA, bedB] = [`${prefix}-alice`, `${prefix}-bob`, `${prefix}-bed-a`, `${prefix}-bed-b`];
      await store.associate({ kind: 'bed', key: bedA, patientId: alice, from: T, source: 'adt' });
      await store.associate({ kind: 'bed', key: bedA, patientId: alice, from: T, source: 'adt' }); // redelivered
      await store.associate({ kind: 'bed', key: bedB, patientId: alice, from: T + HOUR, source: 'adt' });
      await store.associate({ kind: 'bed', key: bedA, patientId: bob, from: T + 2 * HOUR, source: 'adt' });

      expect(await store.patientAt('bed', bedA, T - 1), 'bed A before anyone was admitted').toBeUndefined();
      expect(await store.patientAt('bed', bedA, T + HOUR / 2), 'bed A before the transfer').toBe(alice);
      expect(await store.patientAt('bed', bedA, T + HOUR + 1), 'bed A after Alice left it, before Bob').toBeUndefined();
      expect(await store.patientAt('bed', bedA, T + 3 * HOUR), 'bed A after Bob was admitted to it').toBe(bob);
      expect(await store.patientAt('bed', bedB, T + 3 * HOUR), 'bed B after the transfer').toBe(alice);
      const history = await store.ofPatient(alice);
      expect(history.map((a) => [a.key, a.from, a.to])).toEqual([[bedA, T, T + HOUR], [bedB, T + HOUR, null]]);
      expect(whereaboutsOf(history)).toEqual({ bed: bedB, left: false });
    }, timeout);

    it('a discharge ends every interval, a cancelled discharge reopens them', async () => {
      const [carol, bed, device] = [`${prefix}-carol`, `${prefix}-bed-c`, `${prefix}-monitor-c`];
      await store.associate({ kind: 'bed', key: bed, patientId: carol, from: T, source: 'adt' });
      await store.associate({ kind: 'device', key: device, patientId: carol, from: T + 10, source: 'clinician:nurse' });
      await store.endPatient(carol, T + HOUR);
      expect(await store.patientAt('device', device, T + HOUR), 'the device after discharge').toBeUndefined();
      expect(await store.patientAt('device', device, T + HOUR - 1), 'the device before discharge').toBe(carol);
      expect(whereaboutsOf(await store.ofPatient(carol))).toEqual({ bed: null, left: true });
      await store.reopenPatient(carol, T + HOUR);
      expect(whereaboutsOf(await store.ofPatient(carol))).toEqual({ bed, left: false });
      expect(await store.patientAt('device', device, T + 2 * HOUR)).toBe(carol);
    }, timeout);

    it('a retracted transfer is as if it never happened', async () => {
      const [dave, bedOld, bedNew] = [`${prefix}-dave`, `${prefix}-bed-d1`, `${prefix}-bed-d2`];
      await store.associate({ kind: 'bed', key: bedOld, patientId: dave, from: T, source: 'adt' });
      await store.associate({ kind: 'bed', key: bedNew, patientId: dave, from: T + HOUR, source: 'adt' });
      await store.retract('bed', bedNew, T + HOUR);
      expect(await store.patientAt('bed', bedNew, T + 2 * HOUR)).toBeUndefined();
      expect(await store.patientAt('bed', bedOld, T + 2 * HOUR)).toBe(dave);
      expect((await store.ofPatient(dave)).map((a) => [a.key, a.to])).toEqual([[bedOld, null]]);
    }, timeout);

    it('a merge moves the intervals to the surviving patient', async () => {
      const [lost, kept, bed] = [`${prefix}-lost`, `${prefix}-kept`, `${prefix}-bed-m`];
      await store.associate({ kind: 'bed', key: bed, patientId: lost, from: T, source: 'adt' });
      await store.reassignPatient(lost, kept);
      expect(await store.patientAt('bed', bed, T + 1)).toBe(kept);
      expect(await store.ofPatient(lost)).toEqual([]);
    }, timeout);

    it('a device interval recorded late is bounded by the next one already held', async () => {
      const [device, erin, frank] = [`${prefix}-monitor-x`, `${prefix}-erin`, `${prefix}-frank`];
      await store.associate({ kind: 'device', key: device, patientId: frank, from: T + HOUR, source: 'clinician:nurse' });
      await store.associate({ kind: 'device', key: device, patientId: erin, from: T, source: 'clinician:nurse' });
      expect(await store.patientAt('device', device, T + 1)).toBe(erin);
      expect(await store.patientAt('device', device, T + HOUR + 1), 'never to the wrong patient after the hand-over').toBe(frank);
    }, timeout);

    it('holds readings by device and by bed, once per heldId, until dropped', async () => {
      const [device, bed] = [`${prefix}-gw#1`, `${prefix}-bed-h`];
      const a = { heldId: `${prefix}-h1`, deviceId: device, bed, observedAt: T + 2, reading: '{"heartRate":80}' };
      const b = { heldId: `${prefix}-h2`, deviceId: device, bed: null, observedAt: T + 1, reading: '{"spo2":97}' };
      await store.hold([a, b]);
      await store.hold([a]); // redelivered
      expect(await store.heldFor('device', device)).toEqual([b, a]);
      expect(await store.heldFor('bed', bed)).toEqual([a]);
      expect(await store.heldFor('device', `${prefix}-gw`), 'another device, a prefix of this one').toEqual([]);
      await store.dropHeld([a.heldId]);
      expect(await store.heldFor('device', device)).toEqual([b]);
      expect(await store.heldFor('bed', bed)).toEqual([]);
    }, timeout);
  });
}
