import { describe, expect, it } from 'vitest';
import { sleep } from '../core/retry.ts';
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
    const { scheduler, rounds } = recorder({ debounceMs: 50 });
    await scheduler.schedule(['P1']);
    await sleep(0);
    expect(rounds).toEqual([['P1']]);
    await scheduler.schedule(['P1', 'P2']);
    await scheduler.schedule(['P1']);
    await sleep(10);
    // P2 had no round lately; P1's readings wait for the end of its interval.
    expect(rounds).toEqual([['P1'], ['P2']]);
    await sleep(80);
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
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('never runs two rounds for the same patient at once', async () => {
    let active = 0;
    let maxActive = 0;
    const { scheduler } = recorder({
      debounceMs: 0, concurrency: 4,
      score: async () => { active++; maxActive = Math.max(maxActive, active); await sleep(20); active--; },
    });
    await scheduler.schedule(['P1']);
    await sleep(5);
    await scheduler.schedule(['P1']);
    await scheduler.flush();
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
    await sleep(5);
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
