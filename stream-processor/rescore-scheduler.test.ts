import { describe, expect, it } from 'vitest';
import { budget, delay, waitFor } from '../core/contracts/wait-for.ts';
import { createRescoreScheduler } from './rescore-scheduler.ts';
import type { RescoreSchedulerOptions } from './rescore-scheduler.ts';

function recorder(overrides: Partial<RescoreSchedulerOptions> = {}, rounds: string[][] = []) {
  const errors: unknown[] = [];
  const scheduler = createRescoreScheduler({
    debounceMs: 30, maxPending: 100, maxBatch: 10, concurrency: 1,
    score: async (ids) => { rounds.push(ids); },
    onError: (error) => errors.push(error),
    ...overrides,
  });
  return { scheduler, rounds, errors };
}

describe('createRescoreScheduler', () => {
  it('scores a patient not scored lately at once, and the rest of a burst once, a debounce after that round', async () => {
    // The scheduler's own clock, moved by hand: what is due depends on it alone, not on how fast
    // this machine runs the test.
    let now = Date.parse('2026-11-22T10:00:00Z');
    const { scheduler, rounds } = recorder({ debounceMs: 50, clock: () => now });
    const seen = () => `rounds so far: ${JSON.stringify(rounds)}`;
    await scheduler.schedule(['P1']);
    await waitFor(() => rounds.length === 1, 1_000, 'P1 scored at once', seen);
    now += 10;
    await scheduler.schedule(['P1', 'P2']);
    await scheduler.schedule(['P1']);
    // P2 had no round lately; P1's readings wait for the end of its interval.
    await waitFor(() => rounds.length === 2, 1_000, 'P2 scored at once', seen);
    expect(rounds).toEqual([['P1'], ['P2']]);
    // Real time passing changes nothing while the scheduler's clock stands before P1 is due.
    await delay(60);
    expect(rounds).toEqual([['P1'], ['P2']]);
    now += 40;
    await waitFor(() => rounds.length === 3, 1_000, 'P1 scored again once its debounce was over', seen);
    expect(rounds).toEqual([['P1'], ['P2'], ['P1']]);
    expect(scheduler.pending).toBe(0);
  });

  it('scores a patient again when a reading arrives after its round', async () => {
    const { scheduler, rounds } = recorder({ debounceMs: 0 });
    await scheduler.schedule(['P1']);
    await scheduler.flush();
    await scheduler.schedule(['P1']);
    await scheduler.flush();
    expect(rounds).toEqual([['P1'], ['P1']]);
  });

  it('splits rounds at maxBatch', async () => {
    const { scheduler, rounds } = recorder({ maxBatch: 2, debounceMs: 1000 });
    await scheduler.schedule(['a', 'b', 'c', 'd', 'e']);
    await scheduler.flush();
    expect(rounds).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('flush scores pending patients without waiting for the debounce', async () => {
    const { scheduler, rounds } = recorder({ debounceMs: 60_000 });
    await scheduler.schedule(['P1']);
    await scheduler.flush();
    await scheduler.schedule(['P1']); // due a minute after the first round
    const started = Date.now();
    await scheduler.flush();
    expect(rounds).toEqual([['P1'], ['P1']]);
    // Far below the minute of debounce, even on a busy machine.
    expect(Date.now() - started).toBeLessThan(budget(5_000));
  });

  it('never runs two rounds for the same patient at once', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    let release!: () => void;
    const firstRoundHeld = new Promise<void>((resolve) => { release = resolve; });
    const { scheduler } = recorder({
      debounceMs: 0, concurrency: 4,
      score: async () => {
        active++;
        calls++;
        maxActive = Math.max(maxActive, active);
        if (calls === 1) await firstRoundHeld;
        active--;
      },
    });
    await scheduler.schedule(['P1']);
    await waitFor(() => active === 1, 1_000, "P1's first round to start");
    // A new reading while that round runs, with three slots free: it must wait for the round.
    await scheduler.schedule(['P1']);
    expect(scheduler.pending).toBe(1);
    release();
    await scheduler.flush();
    expect(calls).toBe(2);
    expect(maxActive).toBe(1);
  });

  it('makes schedule wait while the pending set is full, then lets it in', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const { scheduler, rounds } = recorder({ maxPending: 2, score: async (ids) => { await gate; rounds.push(ids); } });
    await scheduler.schedule(['x']); // its round holds the only slot
    await scheduler.schedule(['a', 'b']);
    let admitted = false;
    const third = scheduler.schedule(['c']).then(() => { admitted = true; });
    // Nothing can admit it before the gate opens; the pause gives a wrong admission the chance to show.
    await delay(5);
    expect(admitted).toBe(false);
    expect(scheduler.pending).toBe(2);
    release();
    await third;
    await scheduler.flush();
    expect(rounds.flat().sort()).toEqual(['a', 'b', 'c', 'x']);
  });

  it('reports a failed round and keeps going', async () => {
    let calls = 0;
    const { scheduler, errors } = recorder({ debounceMs: 0, score: async () => { if (++calls === 1) throw new Error('store down'); } });
    await scheduler.schedule(['P1']);
    await scheduler.flush();
    await scheduler.schedule(['P1']);
    await scheduler.flush();
    expect(errors).toHaveLength(1);
    expect(calls).toBe(2);
  });
});
