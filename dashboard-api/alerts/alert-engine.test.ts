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
import type { AlertStore } from './alert-store-sqlite.ts';
import { createSqliteAlertStore } from './alert-store-sqlite.ts';

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

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup(store: AlertStore = createSqliteAlertStore({ path: ':memory:' })) {
  const clock = { t: Date.parse('2026-11-22T10:00:00Z'), now() { return this.t; } };
  const updates = createInMemoryPatientUpdates();
  const engine = createAlertEngine({ updates, store, thresholds, clock, sweepIntervalMs: 0 });
  const events: AlertView[] = [];
  engine.subscribe((a) => events.push(a));
  cleanups.push(() => engine.stop());
  const at = (minutes: number, update: PatientSummary) => {
    clock.t = Date.parse('2026-11-22T10:00:00Z') + minutes * MINUTE;
    updates.publish(update);
  };
  return { engine, events, clock, updates, at, store };
}

describe('alert engine', () => {
  it('opens when NEWS2 reaches the threshold, not below it', () => {
    const { engine, at } = setup();
    at(0, summary('P1', 4));
    expect(engine.list()).toEqual([]);
    at(1, summary('P1', 5));
    expect(engine.list()).toMatchObject([{ patientId: 'P1', status: 'open', reasons: ['news2'], news2Score: 5, openedAt: '2026-11-22T10:01:00.000Z', visible: true }]);
  });

  it('opens on a single red parameter (level low-medium) and on model risk', () => {
    const { engine, at } = setup();
    at(0, summary('P1', 3, { level: 'low-medium' }));
    at(0, summary('P2', 1, { risk: 0.45 }));
    at(0, summary('P3', 1, { risk: 0.39 }));
    const byPatient = Object.fromEntries(engine.list().map((a) => [a.patientId, a.reasons]));
    expect(byPatient).toEqual({ P1: ['news2-red-parameter'], P2: ['risk'] });
  });

  it('keeps one alert through a dip shorter than the hold period (no crying wolf)', () => {
    const { engine, at } = setup();
    at(0, summary('P1', 6));
    at(2, summary('P1', 3));
    at(8, summary('P1', 4));
    at(9, summary('P1', 7));
    at(15, summary('P1', 2));
    at(24, summary('P1', 2));
    const all = engine.list({ include: 'all' });
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'open', peakNews2: 7, belowSince: '2026-11-22T10:15:00.000Z' });
  });

  it('closes only after staying below for the hold period, and stays visible until acknowledged', () => {
    const { engine, at } = setup();
    at(0, summary('P1', 8));
    at(5, summary('P1', 2));
    at(14, summary('P1', 2));
    expect(engine.list()[0]!.status).toBe('open');
    at(15, summary('P1', 2));
    const [closed] = engine.list();
    expect(closed).toMatchObject({ status: 'closed', closedAt: '2026-11-22T10:15:00.000Z', visible: true, acknowledgedAt: null });

    at(16, summary('P1', 1));
    engine.acknowledge(closed!.id, 'nurse-a');
    expect(engine.list()).toEqual([]);
    expect(engine.list({ include: 'all' })[0]).toMatchObject({ acknowledgedBy: 'nurse-a', acknowledgedAt: '2026-11-22T10:16:00.000Z', visible: false });
  });

  it('an acknowledged open alert stays visible until it closes; a later episode is a new alert', () => {
    const { engine, at } = setup();
    at(0, summary('P1', 6));
    const first = engine.list()[0]!;
    expect(engine.acknowledge(first.id, 'dr-b')).toMatchObject({ acknowledgedBy: 'dr-b', visible: true });
    // Idempotent: the first acknowledgement stands.
    expect(engine.acknowledge(first.id, 'dr-c').acknowledgedBy).toBe('dr-b');
    at(1, summary('P1', 1));
    at(11, summary('P1', 1));
    expect(engine.list()).toEqual([]);
    at(30, summary('P1', 5));
    const [second] = engine.list();
    expect(second!.id).not.toBe(first.id);
    expect(engine.list({ include: 'all' })).toHaveLength(2);
  });

  it('closes a quiet patient by the sweep once the hold period has passed', () => {
    const { engine, at, clock } = setup();
    at(0, summary('P1', 5));
    at(1, summary('P1', 0));
    clock.t += 10 * MINUTE;
    engine.sweep();
    expect(engine.list()[0]!.status).toBe('closed');
  });

  it('ignores summaries without any score', () => {
    const { engine, at } = setup();
    at(0, summary('P1', 6));
    at(1, summary('P1', null));
    at(20, summary('P1', null));
    expect(engine.list()[0]).toMatchObject({ status: 'open', belowSince: null });
  });

  it('announces every change: opened, settling, closed, acknowledged', () => {
    const { engine, events, at } = setup();
    at(0, summary('P1', 5));
    at(0.5, summary('P1', 5));
    at(1, summary('P1', 0));
    at(11, summary('P1', 0));
    engine.acknowledge(events[0]!.id, 'n');
    expect(events.map((e) => [e.status, e.belowSince !== null, e.acknowledgedBy])).toEqual([
      ['open', false, null], ['open', true, null], ['closed', true, null], ['closed', true, 'n'],
    ]);
  });

  it('refuses an unknown alert id with NOT_FOUND', () => {
    const { engine } = setup();
    expect(() => engine.acknowledge('nope', 'n')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('keeps open alerts across a restart (state in the SQLite file)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-alerts-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'alerts.sqlite');
    const first = setup(createSqliteAlertStore({ path: file }));
    first.at(0, summary('P1', 7));
    first.engine.stop();
    first.store.close();

    const store = createSqliteAlertStore({ path: file });
    cleanups.push(() => store.close());
    const second = setup(store);
    expect(second.engine.list()).toMatchObject([{ patientId: 'P1', status: 'open' }]);
    // Still the same episode: a further high reading does not open another.
    second.at(1, summary('P1', 8));
    expect(second.engine.list({ include: 'all' })).toMatchObject([{ peakNews2: 8 }]);
  });

  it('an incomplete observation set is its own alert state, answered (closed, off the ward) by a complete set below every threshold', () => {
    const { engine, at } = setup();
    at(0, summary('P1', 0, { missing: ['respiratoryRate', 'spo2', 'temperature'] }));
    at(1, summary('P1', 0, { missing: ['spo2'] }));
    expect(engine.list()).toMatchObject([{ patientId: 'P1', status: 'open', reasons: ['observations-incomplete'], news2Score: 0, visible: true }]);
    at(5, summary('P1', 1));
    expect(engine.list()).toEqual([]);
    expect(engine.list({ include: 'all' })).toMatchObject([{ status: 'closed', closedAt: '2026-11-22T10:05:00.000Z', reasons: ['observations-incomplete'], visible: false }]);
    // Incomplete again later: a new episode.
    at(30, summary('P1', 0, { missing: ['temperature'] }));
    expect(engine.list()).toMatchObject([{ status: 'open', reasons: ['observations-incomplete'] }]);
    expect(engine.list({ include: 'all' })).toHaveLength(2);
  });

  it('a complete set that still crosses a threshold keeps the episode, which then needs acknowledging', () => {
    const { engine, at } = setup();
    at(0, summary('P1', 2, { missing: ['temperature'] }));
    at(1, summary('P1', 5));
    at(2, summary('P1', 1));
    expect(engine.list()).toMatchObject([{ status: 'open', reasons: ['news2', 'observations-incomplete'], belowSince: '2026-11-22T10:02:00.000Z' }]);
    at(12, summary('P1', 1));
    expect(engine.list()).toMatchObject([{ status: 'closed', visible: true }]);
  });

  it('an incomplete alert that escalates shows the more urgent reason first', () => {
    const { engine, at } = setup();
    at(0, summary('P1', 2, { missing: ['temperature'] }));
    at(1, summary('P1', 6, { missing: ['temperature'] }));
    expect(engine.list({ include: 'all' })).toMatchObject([{ status: 'open', reasons: ['news2', 'observations-incomplete'], peakNews2: 6 }]);
  });

  it('in silent risk mode the model never opens or holds an alert', () => {
    const updates = createInMemoryPatientUpdates();
    const engine = createAlertEngine({ updates, store: createSqliteAlertStore({ path: ':memory:' }), thresholds: { ...thresholds, riskMode: 'silent' }, sweepIntervalMs: 0 });
    cleanups.push(() => engine.stop());
    updates.publish(summary('P1', 1, { risk: 0.95 }));
    updates.publish({ ...summary('P2', null), risk: { score: 0.99, model: 'm@1', factors: [], scoredAt: new Date(0).toISOString() } });
    updates.publish(summary('P3', 5, { risk: 0.95 }));
    expect(engine.list().map((a) => [a.patientId, a.reasons, a.riskScore, a.peakRisk])).toEqual([['P3', ['news2'], null, null]]);
  });

  it('takes the risk threshold from the configuration, else the model card, else the default', () => {
    const configured = { news2: 5, news2RedParameter: true, holdMs: 0 };
    expect(resolveAlertThresholds({ ...configured, risk: 0.5 }, { model: { deployedThreshold: 0.12 } }).risk).toBe(0.5);
    expect(resolveAlertThresholds({ ...configured, risk: null }, { model: { deployedThreshold: 0.12 } }).risk).toBe(0.12);
    expect(resolveAlertThresholds({ ...configured, risk: null }, { model: {} }).risk).toBe(DEFAULT_ALERT_THRESHOLDS.risk);
    expect(resolveAlertThresholds({ ...configured, risk: null }).risk).toBe(0.33);
    expect(resolveAlertThresholds({ ...configured, risk: null }, { riskMode: 'silent' }).riskMode).toBe('silent');
  });

  it('fails fast on thresholds that make no sense', () => {
    const updates = createInMemoryPatientUpdates();
    const store = createSqliteAlertStore({ path: ':memory:' });
    expect(() => createAlertEngine({ updates, store, thresholds: { ...thresholds, risk: 0 } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => createAlertEngine({ updates, store, thresholds: { ...thresholds, news2: 0 } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
