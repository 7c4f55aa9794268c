import { describe, expect, it } from 'vitest';
import { mergeReading, mergeReadings } from './merge-reading.ts';
import type { VitalReading } from './reading.ts';

const T0 = Date.UTC(2026, 10, 22, 10);
const none = { heartRate: null, systolic: null, diastolic: null, temperatureC: null, spo2: null, respiratoryRate: null, onOxygen: null, consciousness: null } as const;
const part = (vitals: Partial<VitalReading>, receivedAt = T0 + 1_000): VitalReading =>
  ({ readingId: 'r1', patientId: 'P1', deviceId: 'bed-1', observedAt: T0, receivedAt, ...none, ...vitals });

describe('the reading merge rule', () => {
  it('fills in absent vitals and keeps the first arrival\'s identity and receivedAt', () => {
    const outcome = mergeReading(part({ systolic: 150, diastolic: 92 }), part({ heartRate: 88, onOxygen: false }, T0 + 2_000));
    expect(outcome).toEqual({ merged: part({ systolic: 150, diastolic: 92, heartRate: 88, onOxygen: false }), changed: true, conflicts: [] });
  });

  it('keeps a held value against a different later one and reports it; false and 0 count as held values', () => {
    const held = part({ heartRate: 88, onOxygen: false, spo2: 0 as number });
    const outcome = mergeReading(held, part({ heartRate: 120, onOxygen: true, spo2: 0, consciousness: 'A' }));
    expect(outcome.merged).toEqual({ ...held, consciousness: 'A' });
    expect(outcome.conflicts).toEqual([
      { readingId: 'r1', vital: 'heartRate', held: '88', offered: '120' },
      { readingId: 'r1', vital: 'onOxygen', held: 'false', offered: 'true' },
    ]);
  });

  it('treats blood pressure as one vital: half of another pair neither completes nor changes a held pair', () => {
    const outcome = mergeReading(part({ systolic: 150, diastolic: 92 }), part({ systolic: 150, diastolic: 80 }));
    expect(outcome.merged).toEqual(part({ systolic: 150, diastolic: 92 }));
    expect(outcome.conflicts).toEqual([{ readingId: 'r1', vital: 'bloodPressure', held: '150/92', offered: '150/80' }]);
  });

  it('an identical redelivery changes nothing', () => {
    const held = part({ heartRate: 88, systolic: 150, diastolic: 92 });
    expect(mergeReading(held, { ...held, receivedAt: T0 + 9_000 })).toEqual({ merged: held, changed: false, conflicts: [] });
    expect(mergeReading(held, part({ heartRate: 88 }))).toEqual({ merged: held, changed: false, conflicts: [] });
  });

  it('merges a sequence per id in arrival order, starting from what is held', () => {
    const other = { ...part({ heartRate: 60 }), readingId: 'r2' };
    const { merged, conflicts } = mergeReadings([part({ heartRate: 88 }), other, part({ heartRate: 90, spo2: 97 })], new Map([['r1', part({ temperatureC: 37.2 })]]));
    expect([...merged.values()]).toEqual([part({ temperatureC: 37.2, heartRate: 88, spo2: 97 }), other]);
    expect(conflicts).toEqual([{ readingId: 'r1', vital: 'heartRate', held: '88', offered: '90' }]);
  });
});
