import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PatientProfile, RiskScore, VitalReading } from '../domain/reading.ts';
import type { TimeSeriesStore } from '../ports/timeseries-store.ts';
import { runPrefix } from './wait-for.ts';

/**
 * The time-series store contract (core/ports/timeseries-store.ts), run by every time-series
 * adapter's tests. Patient ids carry a per-run prefix, so the suite only ever sees its own rows;
 * some are prefixes of others (P1, P10, P100), which row-key stores must keep apart.
 */
export function describeTimeSeriesContract(name: string, makeStore: () => Promise<TimeSeriesStore>, options: { testTimeoutMs?: number } = {}): void {
  const run = runPrefix('ct');
  const timeout = options.testTimeoutMs ?? 60_000;
  const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
  const MIN = 60_000;
  const pid = (p: string): string => `${run}-${p}`;

  const reading = (patient: string, observedAt: number, extra: Partial<VitalReading> = {}): VitalReading => ({
    readingId: `${pid(patient)}-${observedAt}`,
    patientId: pid(patient),
    deviceId: 'bed-1',
    observedAt,
    receivedAt: observedAt + 500,
    heartRate: 72,
    systolic: 120,
    diastolic: 80,
    temperatureC: 37.1,
    spo2: 97,
    respiratoryRate: 16,
    onOxygen: false,
    consciousness: 'A',
    ...extra,
  });

  const score = (patient: string, scoredAt: number, extra: Partial<RiskScore> = {}): RiskScore => ({
    patientId: pid(patient),
    scoredAt,
    news2Score: 3,
    news2Level: 'low-medium',
    news2Complete: false,
    news2Missing: ['spo2', 'temperature'],
    riskScore: 0.25,
    model: 'recovery-risk@1',
    factors: [{ feature: 'heartRate', contribution: 0.1, value: 72 }],
    ...extra,
  });

  describe(`time-series contract: ${name}`, () => {
    let store: TimeSeriesStore;

    beforeAll(async () => {
      store = await makeStore();
      await store.provision();
    }, timeout);

    afterAll(async () => {
      await store?.close();
    });

    it('provision is idempotent and ping resolves', async () => {
      await store.provision();
      await expect(store.ping()).resolves.toBeUndefined();
    }, timeout);

    it('stores readings with every field intact, nulls included', async () => {
      const full = reading('FIELDS', T0);
      const sparse = reading('FIELDS', T0 + MIN, {
        heartRate: null, systolic: null, diastolic: null, temperatureC: 36.55, spo2: null, respiratoryRate: null, onOxygen: true, consciousness: 'C',
      });
      await store.writeReadings([full, sparse]);
      expect(await store.readReadings(pid('FIELDS'), { from: T0, to: T0 + 2 * MIN })).toEqual([full, sparse]);
    }, timeout);

    it('writes idempotently: the same reading twice leaves one copy and reports no conflict', async () => {
      const first = await store.writeReadings([reading('IDEM', T0, { heartRate: 70 }), reading('IDEM', T0 + MIN)]);
      expect(first).toEqual({ stored: [reading('IDEM', T0, { heartRate: 70 }), reading('IDEM', T0 + MIN)], conflicts: [] });
      const again = await store.writeReadings([reading('IDEM', T0, { heartRate: 70 }), reading('IDEM', T0, { heartRate: 70 })]);
      expect(again).toEqual({ stored: [reading('IDEM', T0, { heartRate: 70 })], conflicts: [] });
      const got = await store.readReadings(pid('IDEM'), { from: 0, to: T0 + 10 * MIN });
      expect(got).toEqual([reading('IDEM', T0, { heartRate: 70 }), reading('IDEM', T0 + MIN)]);
    }, timeout);

    // Two messages of one moment, as a PCD-01 monitor sends NIBP and pulse, or a FHIR client one Observation per vital.
    const nothing = { heartRate: null, systolic: null, diastolic: null, temperatureC: null, spo2: null, respiratoryRate: null, onOxygen: null, consciousness: null } as const;
    const bloodPressure = (patient: string, receivedAt: number): VitalReading => reading(patient, T0, { ...nothing, systolic: 150, diastolic: 92, receivedAt });
    const pulse = (patient: string, receivedAt: number, heartRate = 88): VitalReading => reading(patient, T0, { ...nothing, heartRate, receivedAt });

    it('merges two partial readings with one id into one reading holding both; the first arrival stays its receivedAt', async () => {
      await store.writeReadings([bloodPressure('MERGE', T0 + 1_000)]);
      const second = await store.writeReadings([pulse('MERGE', T0 + 2_000)]);
      const both = reading('MERGE', T0, { ...nothing, systolic: 150, diastolic: 92, heartRate: 88, receivedAt: T0 + 1_000 });
      expect(second).toEqual({ stored: [both], conflicts: [] });
      expect(await store.readReadings(pid('MERGE'), { from: T0, to: T0 + 1 })).toEqual([both]);
      expect(await store.latestReading(pid('MERGE'))).toEqual(both);
    }, timeout);

    it('merges partial readings of one id within one call, in array order, naming the position of a conflicting one', async () => {
      const written = await store.writeReadings([pulse('MERGE-ONE-CALL', T0 + 1_000), bloodPressure('MERGE-ONE-CALL', T0 + 2_000), pulse('MERGE-ONE-CALL', T0 + 3_000, 91)]);
      const both = reading('MERGE-ONE-CALL', T0, { ...nothing, systolic: 150, diastolic: 92, heartRate: 88, receivedAt: T0 + 1_000 });
      expect(written).toEqual({ stored: [both], conflicts: [{ readingId: both.readingId, vital: 'heartRate', held: '88', offered: '91', index: 2 }] });
      expect(await store.readReadings(pid('MERGE-ONE-CALL'), { from: T0, to: T0 + 1 })).toEqual([both]);
    }, timeout);

    it('keeps the first value of a vital: a later different value is reported as a conflict and not stored, the rest still merges', async () => {
      await store.writeReadings([pulse('CONFLICT', T0 + 1_000, 88)]);
      const later = reading('CONFLICT', T0, { ...nothing, heartRate: 120, spo2: 95, receivedAt: T0 + 2_000 });
      const written = await store.writeReadings([later]);
      const held = reading('CONFLICT', T0, { ...nothing, heartRate: 88, spo2: 95, receivedAt: T0 + 1_000 });
      expect(written).toEqual({ stored: [held], conflicts: [{ readingId: held.readingId, vital: 'heartRate', held: '88', offered: '120', index: 0 }] });
      expect(await store.readReadings(pid('CONFLICT'), { from: T0, to: T0 + 1 })).toEqual([held]);
      // Blood pressure is one vital: half of another pair neither completes nor changes the held pair.
      await store.writeReadings([bloodPressure('CONFLICT', T0 + 3_000)]);
      const otherCuff = await store.writeReadings([reading('CONFLICT', T0, { ...nothing, systolic: 150, diastolic: 80, receivedAt: T0 + 4_000 })]);
      expect(otherCuff.conflicts).toEqual([{ readingId: held.readingId, vital: 'bloodPressure', held: '150/92', offered: '150/80', index: 0 }]);
      expect((await store.latestReading(pid('CONFLICT')))).toEqual({ ...held, systolic: 150, diastolic: 92 });
    }, timeout);

    it('a redelivery of every message changes nothing and reports no conflict', async () => {
      const messages = [bloodPressure('REDELIVER', T0 + 1_000), pulse('REDELIVER', T0 + 2_000)];
      await store.writeReadings([messages[0]!]);
      await store.writeReadings([messages[1]!]);
      const before = await store.readReadings(pid('REDELIVER'), { from: 0, to: T0 + MIN });
      const redelivered = await store.writeReadings([...messages].reverse());
      expect(redelivered.conflicts).toEqual([]);
      expect(redelivered.stored).toEqual(before);
      expect(await store.readReadings(pid('REDELIVER'), { from: 0, to: T0 + MIN })).toEqual(before);
      expect(before).toHaveLength(1);
    }, timeout);

    it('reads ranges: from inclusive, to exclusive, ascending, limit, newest ones with newestFirst', async () => {
      const times = Array.from({ length: 10 }, (_, i) => T0 + i * MIN);
      // Written out of order, in two calls.
      await store.writeReadings([...times].reverse().slice(0, 5).map((t) => reading('RANGE', t)));
      await store.writeReadings([...times].reverse().slice(5).map((t) => reading('RANGE', t)));
      const at = async (range: Parameters<TimeSeriesStore['readReadings']>[1]): Promise<number[]> =>
        (await store.readReadings(pid('RANGE'), range)).map((r) => (r.observedAt - T0) / MIN);
      expect(await at({ from: T0 + 2 * MIN, to: T0 + 5 * MIN })).toEqual([2, 3, 4]);
      expect(await at({ from: T0 + 2 * MIN, to: T0 + 5 * MIN + 1 })).toEqual([2, 3, 4, 5]);
      expect(await at({ from: T0 + 2 * MIN - 1, to: T0 + 5 * MIN })).toEqual([2, 3, 4]);
      expect(await at({ from: T0, to: T0 + 10 * MIN, limit: 3 })).toEqual([0, 1, 2]);
      expect(await at({ from: T0, to: T0 + 10 * MIN, limit: 3, newestFirst: true })).toEqual([7, 8, 9]);
      expect(await at({ from: T0, to: T0 + 10 * MIN, newestFirst: true })).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(await at({ from: T0 + 20 * MIN, to: T0 + 30 * MIN })).toEqual([]);
      expect(await at({ from: T0 + 5 * MIN, to: T0 + 5 * MIN })).toEqual([]);
    }, timeout);

    it('orders readings at the same time by readingId', async () => {
      await store.writeReadings([
        reading('TIES', T0, { readingId: `${pid('TIES')}-b`, deviceId: 'bed-2' }),
        reading('TIES', T0, { readingId: `${pid('TIES')}-a`, deviceId: 'bed-1' }),
      ]);
      const got = await store.readReadings(pid('TIES'), { from: T0, to: T0 + 1 });
      expect(got.map((r) => r.readingId)).toEqual([`${pid('TIES')}-a`, `${pid('TIES')}-b`]);
    }, timeout);

    it('returns the latest reading, or undefined for a patient without readings', async () => {
      await store.writeReadings([reading('LATEST', T0 + 5 * MIN), reading('LATEST', T0 + 9 * MIN, { heartRate: 130 }), reading('LATEST', T0)]);
      expect(await store.latestReading(pid('LATEST'))).toEqual(reading('LATEST', T0 + 9 * MIN, { heartRate: 130 }));
      expect(await store.latestReading(pid('NOBODY'))).toBeUndefined();
    }, timeout);

    it('keeps patients apart even when one id is a prefix of another', async () => {
      await store.writeReadings([
        reading('P1', T0, { heartRate: 61 }),
        reading('P10', T0 + MIN, { heartRate: 62 }),
        reading('P100', T0 + 2 * MIN, { heartRate: 63 }),
        reading('P1#', T0 + 3 * MIN, { heartRate: 64 }),
      ]);
      await store.writeRiskScores([score('P1', T0, { news2Score: 1 }), score('P10', T0 + MIN, { news2Score: 2 }), score('P100', T0 + 2 * MIN, { news2Score: 3 })]);
      const everything = { from: 0, to: T0 + 60 * MIN };
      expect((await store.readReadings(pid('P1'), everything)).map((r) => r.heartRate)).toEqual([61]);
      expect((await store.readReadings(pid('P10'), everything)).map((r) => r.heartRate)).toEqual([62]);
      expect((await store.latestReading(pid('P1')))?.heartRate).toBe(61);
      expect((await store.latestReading(pid('P10')))?.heartRate).toBe(62);
      expect((await store.readRiskScores(pid('P1'), everything)).map((s) => s.news2Score)).toEqual([1]);
      expect((await store.latestRiskScore(pid('P1')))?.news2Score).toBe(1);
      expect((await store.latestRiskScore(pid('P10')))?.news2Score).toBe(2);
    }, timeout);

    it('writes, reads and finds the latest risk scores, idempotently by patient and time', async () => {
      const first = score('RISK', T0, { riskScore: null, model: null, factors: [] });
      const second = score('RISK', T0 + MIN, { news2Score: 7, news2Level: 'high', news2Complete: true, news2Missing: [], riskScore: 0.91 });
      await store.writeRiskScores([second, first]);
      await store.writeRiskScores([{ ...second, riskScore: 0.93 }]);
      expect(await store.readRiskScores(pid('RISK'), { from: T0, to: T0 + 10 * MIN })).toEqual([first, { ...second, riskScore: 0.93 }]);
      expect(await store.readRiskScores(pid('RISK'), { from: T0, to: T0 + MIN })).toEqual([first]);
      expect(await store.readRiskScores(pid('RISK'), { from: 0, to: T0 + 10 * MIN, limit: 1, newestFirst: true })).toEqual([{ ...second, riskScore: 0.93 }]);
      expect(await store.latestRiskScore(pid('RISK'))).toEqual({ ...second, riskScore: 0.93 });
      expect(await store.latestRiskScore(pid('NOBODY'))).toBeUndefined();
    }, timeout);

    it('stores patient profiles; the last write wins', async () => {
      const profile: PatientProfile = { patientId: pid('PROFILE'), spo2Scale: 2, baselineConfusion: true, updatedAt: T0, updatedBy: 'clinician-1' };
      expect(await store.readPatientProfile(pid('PROFILE'))).toBeUndefined();
      await store.writePatientProfile(profile);
      expect(await store.readPatientProfile(pid('PROFILE'))).toEqual(profile);
      await store.writePatientProfile({ ...profile, spo2Scale: 1, baselineConfusion: false, updatedAt: T0 + MIN, updatedBy: 'clinician-2' });
      expect(await store.readPatientProfile(pid('PROFILE'))).toEqual({ ...profile, spo2Scale: 1, baselineConfusion: false, updatedAt: T0 + MIN, updatedBy: 'clinician-2' });
    }, timeout);

    it('lists every patient with readings, sorted, each once', async () => {
      await store.writeReadings([reading('LIST-b', T0), reading('LIST-a', T0), reading('LIST-a', T0 + MIN), reading('LIST-a1', T0)]);
      await store.writePatientProfile({ patientId: pid('LIST-profile-only'), spo2Scale: 1, baselineConfusion: false, updatedAt: T0, updatedBy: 'x' });
      const all = await store.listPatients();
      expect(all).toEqual([...all].sort());
      expect(new Set(all).size).toBe(all.length);
      expect(all.filter((p) => p.startsWith(pid('LIST-')))).toEqual([pid('LIST-a'), pid('LIST-a1'), pid('LIST-b')]);
    }, timeout);

    it('writes thousands of readings in one batch', async () => {
      const count = 5_000;
      const batch = Array.from({ length: count }, (_, i) => reading(`BULK-${i % 10}`, T0 + Math.floor(i / 10) * 1_000, { heartRate: 60 + (i % 50) }));
      await store.writeReadings(batch);
      const one = await store.readReadings(pid('BULK-3'), { from: 0, to: T0 + 24 * 60 * MIN });
      expect(one).toHaveLength(count / 10);
      expect(one).toEqual(batch.filter((r) => r.patientId === pid('BULK-3')));
    }, timeout);
  });
}
