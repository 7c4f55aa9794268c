import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../domain/alert.ts';
import type { AlertStore } from '../ports/alert-store.ts';
import { runPrefix } from './wait-for.ts';

/**
 * The alert store contract (core/ports/alert-store.ts), run by every adapter's tests. `make`
 * answers two handles on ONE store (two instances of Vigil): the races are run across them.
 */
export function describeAlertStoreContract(name: string, make: () => Promise<[AlertStore, AlertStore]>, options: { testTimeoutMs?: number } = {}): void {
  const prefix = runPrefix('alert');
  const timeout = options.testTimeoutMs ?? 30_000;
  let serial = 0;
  const patient = (label: string): string => `${prefix}-${label}-${serial++}`;
  const T0 = Date.parse('2026-11-22T10:00:00Z');
  const candidate = (patientId: string, overrides: Partial<Alert> = {}): Alert => ({
    id: randomUUID(), patientId, status: 'open', openedAt: T0, closedAt: null, reasons: ['news2'],
    news2Score: 6, riskScore: null, peakNews2: 6, peakRisk: null, belowSince: null, acknowledgedAt: null, acknowledgedBy: null,
    ...overrides,
  });

  describe(`alert store contract: ${name}`, () => {
    let a: AlertStore;
    let b: AlertStore;

    beforeAll(async () => {
      [a, b] = await make();
      await a.provision();
    }, timeout);
    afterAll(async () => {
      await a?.close();
      await b?.close();
    }, timeout);

    it('provision is idempotent and ping answers', async () => {
      await expect(a.provision()).resolves.toBeUndefined();
      await expect(b.ping()).resolves.toBeUndefined();
    }, timeout);

    it('opens an episode once per patient: a second offer gets the open one back, another patient gets its own', async () => {
      const p = patient('once');
      const first = candidate(p);
      expect(await a.openOnce(first)).toEqual({ opened: true, alert: first });
      const second = await b.openOnce(candidate(p, { openedAt: T0 + 1000 }));
      expect(second).toEqual({ opened: false, alert: first });
      expect(await b.openFor(p)).toEqual(first);
      expect(await a.get(first.id)).toEqual(first);
      const other = await a.openOnce(candidate(patient('other')));
      expect(other.opened).toBe(true);
      expect(await a.openFor(patient('never'))).toBeUndefined();
      expect(await a.get(randomUUID())).toBeUndefined();
    }, timeout);

    it('two handles racing to open an episode for one patient: exactly one wins and everyone gets the winner', async () => {
      const p = patient('race');
      const offers = Array.from({ length: 6 }, (_, i) => candidate(p, { openedAt: T0 + i }));
      const results = await Promise.all(offers.map((offer, i) => (i % 2 === 0 ? a : b).openOnce(offer)));
      const winners = results.filter((r) => r.opened);
      expect(winners, 'exactly one offer opened the episode').toHaveLength(1);
      const winner = winners[0]!.alert;
      for (const r of results) expect(r.alert.id).toBe(winner.id);
      expect((await a.listOpen()).filter((x) => x.patientId === p).map((x) => x.id)).toEqual([winner.id]);
    }, timeout);

    it('an update keeps every reason and peak another writer recorded, and never touches the acknowledgement', async () => {
      const p = patient('merge');
      const opened = candidate(p, { reasons: ['observations-incomplete'], news2Score: 3, peakNews2: 3 });
      await a.openOnce(opened);
      await b.acknowledge(opened.id, T0 + 500, 'nurse-a');
      expect(await a.update({ ...opened, reasons: ['news2', 'observations-incomplete'], news2Score: 7, peakNews2: 7 })).toMatchObject({ peakNews2: 7, acknowledgedBy: 'nurse-a' });
      // A writer that read before the first update: its stale peak and reasons do not win.
      const stale = await b.update({ ...opened, reasons: ['risk'], news2Score: 2, riskScore: 0.5, peakRisk: 0.5, belowSince: T0 + 2000 });
      expect(stale).toMatchObject({
        reasons: ['news2', 'risk', 'observations-incomplete'], news2Score: 2, peakNews2: 7, peakRisk: 0.5, belowSince: T0 + 2000,
        acknowledgedAt: T0 + 500, acknowledgedBy: 'nurse-a', status: 'open',
      });
      expect(await a.get(opened.id)).toEqual(stale);
    }, timeout);

    it('concurrent updates from two handles lose no peak and no reason', async () => {
      const opened = candidate(patient('concurrent'), { reasons: ['observations-incomplete'], peakNews2: 5 });
      await a.openOnce(opened);
      const peaks = [9, 14, 7, 12, 8, 13, 6, 11, 10, 5];
      const reasonOf = ['news2', 'risk', 'news2-red-parameter'] as const;
      await Promise.all(peaks.map((peak, i) => (i % 2 === 0 ? a : b).update({ ...opened, news2Score: peak, peakNews2: peak, reasons: [reasonOf[i % 3]!] })));
      expect(await a.get(opened.id)).toMatchObject({ peakNews2: 14, reasons: ['news2', 'news2-red-parameter', 'risk', 'observations-incomplete'], status: 'open' });
    }, timeout);

    it('a closed alert takes no further update, and its patient can open a new episode', async () => {
      const p = patient('close');
      const opened = candidate(p);
      await a.openOnce(opened);
      const closed = await b.update({ ...opened, status: 'closed', closedAt: T0 + 60_000, belowSince: T0 + 1000 });
      expect(closed).toMatchObject({ status: 'closed', closedAt: T0 + 60_000 });
      expect(await a.update({ ...opened, news2Score: 9, peakNews2: 9 })).toBeUndefined();
      expect(await a.get(opened.id)).toMatchObject({ status: 'closed', peakNews2: 6 });
      expect(await a.openFor(p)).toBeUndefined();
      const next = candidate(p, { openedAt: T0 + 120_000 });
      expect(await b.openOnce(next)).toEqual({ opened: true, alert: next });
      expect(await a.update({ ...candidate(p), id: randomUUID() })).toBeUndefined();
    }, timeout);

    it('the first acknowledgement stands, also when two handles race; an unknown id answers undefined', async () => {
      const opened = candidate(patient('ack'));
      await a.openOnce(opened);
      const acks = await Promise.all([a.acknowledge(opened.id, T0 + 1, 'dr-a'), b.acknowledge(opened.id, T0 + 2, 'dr-b'), a.acknowledge(opened.id, T0 + 3, 'dr-c')]);
      const first = acks[0]!;
      expect(['dr-a', 'dr-b', 'dr-c']).toContain(first.acknowledgedBy);
      for (const ack of acks) expect(ack).toEqual(first);
      expect(await b.get(opened.id)).toEqual(first);
      expect(await a.acknowledge(opened.id, T0 + 99, 'late')).toEqual(first);
      expect(await a.acknowledge(randomUUID(), T0, 'x')).toBeUndefined();
    }, timeout);

    it('lists newest first; visible keeps open and unacknowledged alerts, not a closed one only for incomplete observations', async () => {
      const p = (label: string) => patient(`list-${label}`);
      const at = T0 + 3_600_000;
      const openAcked = candidate(p('open-acked'), { openedAt: at + 1 });
      const closedUnacked = candidate(p('closed-unacked'), { openedAt: at + 2 });
      const closedAcked = candidate(p('closed-acked'), { openedAt: at + 3 });
      const closedIncomplete = candidate(p('closed-incomplete'), { openedAt: at + 4, reasons: ['observations-incomplete'] });
      for (const x of [openAcked, closedUnacked, closedAcked, closedIncomplete]) await a.openOnce(x);
      await a.acknowledge(openAcked.id, at + 10, 'n');
      await a.acknowledge(closedAcked.id, at + 10, 'n');
      for (const x of [closedUnacked, closedAcked, closedIncomplete]) await b.update({ ...x, status: 'closed', closedAt: at + 20 });
      const ours = new Set([openAcked.id, closedUnacked.id, closedAcked.id, closedIncomplete.id]);
      const visible = (await b.list({ visibleOnly: true, limit: 10_000 })).filter((x) => ours.has(x.id)).map((x) => x.id);
      expect(visible).toEqual([closedUnacked.id, openAcked.id]);
      const all = (await a.list({ visibleOnly: false, limit: 10_000 })).filter((x) => ours.has(x.id)).map((x) => x.id);
      expect(all).toEqual([closedIncomplete.id, closedAcked.id, closedUnacked.id, openAcked.id]);
      expect(await a.list({ visibleOnly: false, limit: 2 })).toHaveLength(2);
      const open = await b.listOpen();
      expect(open.map((x) => x.id)).toContain(openAcked.id);
      expect(open.every((x) => x.status === 'open')).toBe(true);
      expect(open.map((x) => x.openedAt)).toEqual([...open.map((x) => x.openedAt)].sort((x, y) => x - y));
    }, timeout);
  });
}
