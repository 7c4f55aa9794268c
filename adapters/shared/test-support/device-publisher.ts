import { delay } from '../../../core/contracts/wait-for.ts';
import { toRawReading } from '../../../core/domain/validate-ingest.ts';
import type { Bus } from '../../../core/ports/bus.ts';
import { READING_ATTRIBUTES, encodeReading } from '../../../core/wire/reading-codec.ts';
import type { ReadingLedger } from './reading-ledger.ts';

/**
 * Readings flowing onto the bus the whole time a fault test runs, as a ward of devices sends them
 * through the edge: one reading per tick, patients in turn, observed in the past (the edge refuses
 * readings from the future). A reading the bus did not confirm is sent again with the same id
 * until it is, as a device resends what got no answer; the ledger records each as accepted once
 * confirmed.
 */
export interface DevicePublisher {
  /** Stops after the reading in hand is confirmed. */
  stop(): Promise<void>;
}

export interface DevicePublisherOptions {
  readonly bus: Bus;
  readonly topic: string;
  readonly ledger: ReadingLedger;
  /** Patient ids are this prefix and a three-digit number. */
  readonly patientPrefix: string;
  readonly patients: number;
  readonly perSecond: number;
}

export function startDevicePublisher(options: DevicePublisherOptions): DevicePublisher {
  const { bus, topic, ledger } = options;
  const t0 = Date.now() - 2 * 3_600_000;
  let publishing = true;
  let tick = 0;
  const running = (async () => {
    while (publishing) {
      const patient = tick % options.patients;
      const result = toRawReading({
        deviceId: `bed-${patient}`, patientId: `${options.patientPrefix}${String(patient).padStart(3, '0')}`, observedAt: t0 + tick * 1_000,
        heartRate: 60 + (tick % 30), spo2: 96, respiratoryRate: 16,
      }, { receivedAt: Date.now(), source: 'json' });
      tick++;
      if (!result.ok) throw new Error(`test reading invalid: ${JSON.stringify(result.errors)}`);
      const reading = result.reading;
      for (;;) {
        try {
          await bus.publish(topic, [{ data: encodeReading(reading), attributes: READING_ATTRIBUTES, orderingKey: reading.patientId }]);
          ledger.accepted(reading.readingId);
          break;
        } catch {
          await delay(500);
        }
      }
      await delay(1_000 / options.perSecond);
    }
  })();
  return {
    async stop() {
      publishing = false;
      await running;
    },
  };
}
