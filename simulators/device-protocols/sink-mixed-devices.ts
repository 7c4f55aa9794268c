import { createHash } from 'node:crypto';
import type { SimulatedReading } from '../device-faults.ts';
import type { ReadingSink, SinkStats } from '../reading-sink.ts';

/**
 * A demo ward with several kinds of device: each device speaks one protocol (JSON, HL7 v2/MLLP or
 * FHIR), chosen once from its id, so a bed keeps its kind for the whole run. `share`s are relative
 * weights (e.g. JSON 2, HL7 1, FHIR 1).
 */
export interface DeviceKind {
  readonly name: string;
  readonly sink: ReadingSink;
  readonly share: number;
}

export function createMixedDeviceSink(kinds: readonly DeviceKind[]): ReadingSink & { kindOf(deviceId: string): string } {
  const total = kinds.reduce((n, k) => n + k.share, 0);
  if (kinds.length === 0 || !(total > 0)) throw new Error('createMixedDeviceSink: give at least one kind with a positive share');
  const kindOf = (deviceId: string): DeviceKind => {
    // A hash, not the simulator's random stream, so adding a kind does not reshuffle the others' readings.
    const point = createHash('sha256').update(deviceId).digest().readUInt32BE(0) / 2 ** 32 * total;
    let edge = 0;
    for (const kind of kinds) {
      edge += kind.share;
      if (point < edge) return kind;
    }
    return kinds.at(-1)!;
  };
  return {
    kindOf: (deviceId) => kindOf(deviceId).name,
    async write(readings) {
      const byKind = new Map<DeviceKind, SimulatedReading[]>();
      for (const reading of readings) {
        const kind = kindOf(reading.deviceId);
        byKind.set(kind, [...(byKind.get(kind) ?? []), reading]);
      }
      await Promise.all([...byKind].map(([kind, batch]) => kind.sink.write(batch)));
    },
    async flush() {
      await Promise.all(kinds.map((k) => k.sink.flush()));
    },
    stats(): SinkStats {
      const all = kinds.map((k) => k.sink.stats());
      const sum = (key: keyof SinkStats): number => all.reduce((n, s) => n + s[key], 0);
      return { written: sum('written'), accepted: sum('accepted'), rejected: sum('rejected'), retries: sum('retries') };
    },
  };
}
