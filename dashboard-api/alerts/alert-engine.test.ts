import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PatientSummary } from '../../core/domain/patient-summary.ts';
import { createInMemoryPatientUpdates } from '../../core/domain/patient-updates.ts';
import type { News2Level, News2ParameterName } from '../../core/domain/reading.ts';
import type { AlertView } from './alert.ts';
import { DEFAULT_ALERT_THRESHOLDS, resolveAlertThresholds } from './alert.ts';
import { createAlertEngine } from './alert-engine.ts';
import type { AlertStore } from '../../core/ports/alert-store.ts';
import { createSqliteAlertStore } from '../../adapters/embedded/alert-store-sqlite.ts';

const MINUTE = 60_000;
const thresholds = { ...DEFAULT_ALERT_THRESHOLDS, news2: 5, risk: 0.4, holdMs: 10 * MINUTE };

function summary(patientId: string, news2: number | null, options: { level?: News2Level; risk?: number | null; missing?: News2ParameterName[] } = {}): PatientSummary {
  const level: News2Level = options.level ?? (news2 === null ? 'low' : news2 >= 7 ? 'high' : news2 >= 5 ? 'medium' : 'low');
  return {
    patientId,
    latest: null,
    news2: news2 === null ? null : { score: news2, level, complete: (options.missing ?? []).length === 0, missing: options.missing ?? [], observedAt: new Date(0).toISOString() },
    risk: options.risk === undefined ? null : { score: options.risk, model: 'm@1', factors: [], scoredAt: new Date(0).toISOString() },
  };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(store: AlertStore = createSqliteAlertStore({ path: ':memory:' })) {
  const clock = { t: Date.parse('2026-11-22T10:00:00Z'), now() { return this.t; } };
  const updates = createInMemoryPatientUpdates();
  const engine = await createAlertEngine({ updates, store, thresholds, clock, sweepIntervalMs: 0, refreshIntervalMs: 0 });
  const events: AlertView[] = [];
  engine.subscribe((a) => events.push(a));
  cleanups.push(() => engine.stop());
  // Each update is evaluated before the clock moves on, as updates arrive in real time.
  const at = async (minutes: number, update: PatientSummary) => {
    clock.t = Date.parse('2026-11-22T10:00:00Z') + minutes * MINUTE;
    updates.publish(update);
    await engine.idle();
  };
  return { engine, events, clock, updates, at, store };
}

describe('alert engine', () => {
  it('opens when NEWS2 reaches the threshold, not below it', async () => {
    const { engine, at } = await setup();
    await at(0, summary('P1', 4));
    expect((await engine.list())).toEqual([]);
    await at(1, summary('P1', 5));
    expect((await engine.list())).toMatchObject([{ patientId: 'P1', status: 'open', reasons: ['news2'], news2Score: 5, openedAt: '2026-11-22T10:01:00.000Z', visible: true }]);
  });

  it('opens on a single red parameter (level low-medium) and on model risk', async () => {
    const { engine, at } = await setup();
    await at(0, summary('P1', 3, { level: 'low-medium' }));
    await at(0, summary('P2', 1, { risk: 0.45 }));
    await at(0, summary('P3', 1, { risk: 0.39 }));
    const byPatient = Object.fromEntries((await engine.list()).map((a) => [a.patientId, a.reasons]));
    expect(byPatient).toEqual({ P1: ['news2-red-parameter'], P2: ['risk'] });
  });

  it('keeps one alert through a dip shorter than the hold period (no crying wolf)', async () => {
    const { engine, at } = await setup();
    await at(0, summary('P1', 6));
    await at(2, summary('P1', 3));
    await at(8, summary('P1', 4));
    await at(9, summary('P1', 7));
    await at(15, summary('P1', 2));
    await at(24, summary('P1', 2));
    const all = (await engine.list({ include: 'all' }));
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'open', peakNews2: 7, belowSince: '2026-11-22T10:15:00.000Z' });
  });

  it('closes only after staying below for the hold period, and stays visible until acknowledged', async () => {
    const { engine, at } = await setup();
    await at(0, summary('P1', 8));
    await at(5, summary('P1', 2));
    await at(14, summary('P1', 2));
    expect((await engine.list())[0]!.status).toBe('open');
    await at(15, summary('P1', 2));
    const [closed] = (await engine.list());
    expect(closed).toMatchObject({ status: 'closed', closedAt: '2026-11-22T10:15:00.000Z', visible: true, acknowledgedAt: null });

    await at(16, summary('P1', 1));
    await engine.acknowledge(closed!.id, 'nurse-a');
    expect((await engine.list())).toEqual([]);
    expect((await engine.list({ include: 'all' }))[0]).toMatchObject({ acknowledgedBy: 'nurse-a', acknowledgedAt: '2026-11-22T10:16:00.000Z', visible: false });
  });

  it('an acknowledged open alert stays visible until it closes; a later episode is a new alert', async () => {
    const { engine, at } = await setup();
    await at(0, summary('P1', 6));
    const first = (await engine.list())[0]!;
    expect(await engine.acknowledge(first.id, 'dr-b')).toMatchObject({ acknowledgedBy: 'dr-b', visible: true });
    // Idempotent: the first acknowledgement stands.
    expect((await engine.acknowledge(first.id, 'dr-c')).acknowledgedBy).toBe('dr-b');
    await at(1, summary('P1', 1));
    await at(11, summary('P1', 1));
    expect((await engine.list())).toEqual([]);
    await at(30, summary('P1', 5));
    const [second] = (await engine.list());
    expect(second!.id).not.toBe(first.id);
    expect((await engine.list({ include: 'all' }))).toHaveLength(2);
  });

  it('closes a quiet patient by the sweep once the hold period has passed', async () => {
    const { engine, at, clock } = await setup();
    await at(0, summary('P1', 5));
    await at(1, summary('P1', 0));
    clock.t += 10 * MINUTE;
    await engine.sweep();
    expect((await engine.list())[0]!.status).toBe('closed');
  });

  it('ignores summaries without any score', async () => {
    const { engine, at } = await setup();
    await at(0, summary('P1', 6));
    await at(1, summary('P1', null));
    await at(20, summary('P1', null));
    expect((await engine.list())[0]).toMatchObject({ status: 'open', belowSince: null });
  });

  it('announces every change: opened, settling, closed, acknowledged', async () => {
    const { engine, events, at } = await setup();
    await at(0, summary('P1', 5));
    await at(0.5, summary('P1', 5));
    await at(1, summary('P1', 0));
    await at(11, summary('P1', 0));
    await engine.acknowledge(events[0]!.id, 'n');
    expect(events.map((e) => [e.status, e.belowSince !== null, e.acknowledgedBy])).toEqual([
      ['open', false, null], ['open', true, null], ['closed', true, null], ['closed', true, 'n'],
    ]);
  });

  it('refuses an unknown alert id with NOT_FOUND', async () => {
    const { engine } = await setup();
    await expect(engine.acknowledge('nope', 'n')).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('keeps open alerts across a restart (state in the SQLite file)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-alerts-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'alerts.sqlite');
    const first = await setup(createSqliteAlertStore({ path: file }));
    await first.at(0, summary('P1', 7));
    await first.engine.stop();
    await first.store.close();

    const store = createSqliteAlertStore({ path: file });
    cleanups.push(() => store.close());
    const second = await setup(store);
    expect((await second.engine.list())).toMatchObject([{ patientId: 'P1', status: 'open' }]);
    // Still the same episode: a further high reading does not open another.
    await second.at(1, summary('P1', 8));
    expect((await second.engine.list({ include: 'all' }))).toMatchObject([{ peakNews2: 8 }]);
  });

  it('an incomplete observation set is its own alert state, answered (closed, off the ward) by a complete set below every threshold', async () => {
    const { engine, at } = await setup();
    await at(0, summary('P1', 0, { missing: ['respiratoryRate', 'spo2', 'temperature'] }));
    await at(1, summary('P1', 0, { missing: ['spo2'] }));
    expect((await engine.list())).toMatchObject([{ patientId: 'P1', status: 'open', reasons: ['observations-incomplete'], news2Score: 0, visible: true }]);
    await at(5, summary('P1', 1));
    expect((await engine.list())).toEqual([]);
    expect((await engine.list({ include: 'all' }))).toMatchObject([{ status: 'closed', closedAt: '2026-11-22T10:05:00.000Z', reasons: ['observations-incomplete'], visible: false }]);
    // Incomplete again later: a new episode.
    await at(30, summary('P1', 0, { missing: ['temperature'] }));
    expect((await engine.list())).toMatchObject([{ status: 'open', reasons: ['observations-incomplete'] }]);
    expect((await engine.list({ include: 'all' }))).toHaveLength(2);
  });

  it('a complete set that still crosses a threshold keeps the episode, which then needs acknowledging', async () => {
    const { engine, at } = await setup();
    await at(0, summary('P1', 2, { missing: ['temperature'] }));
    await at(1, summary('P1', 5));
    await at(2, summary('P1', 1));
    expect((await engine.list())).toMatchObject([{ status: 'open', reasons: ['news2', 'observations-incomplete'], belowSince: '2026-11-22T10:02:00.000Z' }]);
    await at(12, summary('P1', 1));
    expect((await engine.list())).toMatchObject([{ status: 'closed', visible: true }]);
  });

  it('an incomplete alert that escalates shows the more urgent reason first', async () => {
    const { engine, at } = await setup();
    await at(0, summary('P1', 2, { missing: ['temperature'] }));
    await at(1, summary('P1', 6, { missing: ['temperature'] }));
    expect((await engine.list({ include: 'all' }))).toMatchObject([{ status: 'open', reasons: ['news2', 'observations-incomplete'], peakNews2: 6 }]);
  });

  it('in silent risk mode the model never opens or holds an alert', async () => {
    const updates = createInMemoryPatientUpdates();
    const engine = await createAlertEngine({ updates, store: createSqliteAlertStore({ path: ':memory:' }), thresholds: { ...thresholds, riskMode: 'silent' }, sweepIntervalMs: 0, refreshIntervalMs: 0 });
    cleanups.push(() => engine.stop());
    updates.publish(summary('P1', 1, { risk: 0.95 }));
    updates.publish({ ...summary('P2', null), risk: { score: 0.99, model: 'm@1', factors: [], scoredAt: new Date(0).toISOString() } });
    updates.publish(summary('P3', 5, { risk: 0.95 }));
    await engine.idle();
    expect((await engine.list()).map((a) => [a.patientId, a.reasons, a.riskScore, a.peakRisk])).toEqual([['P3', ['news2'], null, null]]);
  });

  it('takes the risk threshold from the configuration, else the model card, else the default', async () => {
    const configured = { news2: 5, news2RedParameter: true, holdMs: 0 };
    expect(resolveAlertThresholds({ ...configured, risk: 0.5 }, { model: { deployedThreshold: 0.12 } }).risk).toBe(0.5);
    expect(resolveAlertThresholds({ ...configured, risk: null }, { model: { deployedThreshold: 0.12 } }).risk).toBe(0.12);
    expect(resolveAlertThresholds({ ...configured, risk: null }, { model: {} }).risk).toBe(DEFAULT_ALERT_THRESHOLDS.risk);
    expect(resolveAlertThresholds({ ...configured, risk: null }).risk).toBe(0.33);
    expect(resolveAlertThresholds({ ...configured, risk: null }, { riskMode: 'silent' }).riskMode).toBe('silent');
  });

  it('fails fast on thresholds that make no sense', async () => {
    const updates = createInMemoryPatientUpdates();
    const store = createSqliteAlertStore({ path: ':memory:' });
    await expect(createAlertEngine({ updates, store, thresholds: { ...thresholds, risk: 0 } })).rejects.toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    await expect(createAlertEngine({ updates, store, thresholds: { ...thresholds, news2: 0 } })).rejects.toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('alert engines on several instances (one shared store)', () => {
  async function twoInstances() {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-alerts-shared-'));
    const file = path.join(dir, 'alerts.sqlite');
    const clock = { t: Date.parse('2026-11-22T10:00:00Z'), now() { return this.t; } };
    const instances = await Promise.all([0, 1].map(async () => {
      const store = createSqliteAlertStore({ path: file });
      const updates = createInMemoryPatientUpdates();
      const engine = await createAlertEngine({ updates, store, thresholds, clock, sweepIntervalMs: 0, refreshIntervalMs: 0 });
      const events: AlertView[] = [];
      engine.subscribe((a) => events.push(a));
      return { store, updates, engine, events };
    }));
    cleanups.push(async () => {
      for (const i of instances) {
        await i.engine.stop();
        await i.store.close();
      }
      rmSync(dir, { recursive: true, force: true });
    });
    // Both instances follow the same ward (each dashboard polls the shared time series).
    const publishToBoth = async (update: PatientSummary) => {
      for (const i of instances) i.updates.publish(update);
      await Promise.all(instances.map((i) => i.engine.idle()));
    };
    return { instances, publishToBoth, clock };
  }

  it('opens one episode per patient however many engines see the update', async () => {
    const { instances: [a, b], publishToBoth } = await twoInstances();
    await publishToBoth(summary('P1', 6));
    await publishToBoth(summary('P1', 8));
    const all = await a!.engine.list({ include: 'all' });
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'open', peakNews2: 8 });
    expect(new Set([...a!.events, ...b!.events].map((e) => e.id))).toEqual(new Set([all[0]!.id]));
  });

  it('an acknowledgement on one instance is shown on the other: listed at once, announced and current after a refresh', async () => {
    const { instances: [a, b], publishToBoth } = await twoInstances();
    await publishToBoth(summary('P1', 7));
    const [alert] = await b!.engine.list();
    await a!.engine.acknowledge(alert!.id, 'nurse-on-a');
    expect(await b!.engine.list()).toMatchObject([{ id: alert!.id, acknowledgedBy: 'nurse-on-a' }]);
    // The other instance's own acknowledgement does not win: the first stands everywhere.
    expect(await b!.engine.acknowledge(alert!.id, 'nurse-on-b')).toMatchObject({ acknowledgedBy: 'nurse-on-a' });
    await b!.engine.refresh();
    expect(b!.events.at(-1)).toMatchObject({ id: alert!.id, acknowledgedBy: 'nurse-on-a' });
    expect(b!.engine.current()).toMatchObject([{ id: alert!.id, acknowledgedBy: 'nurse-on-a', visible: true }]);
  });

  it('an alert closed and acknowledged elsewhere leaves the other ward with its final state announced', async () => {
    const { instances: [a, b], publishToBoth, clock } = await twoInstances();
    await publishToBoth(summary('P1', 7));
    const id = b!.engine.current()[0]!.id;
    a!.updates.publish(summary('P1', 1));
    await a!.engine.idle();
    clock.t += 11 * MINUTE;
    a!.updates.publish(summary('P1', 1));
    await a!.engine.idle();
    await a!.engine.acknowledge(id, 'nurse-on-a');
    await b!.engine.refresh();
    expect(b!.events.at(-1)).toMatchObject({ id, status: 'closed', acknowledgedBy: 'nurse-on-a', visible: false });
    expect(b!.engine.current()).toEqual([]);
  });
});
