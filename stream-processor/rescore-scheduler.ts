import { LRUCache } from 'lru-cache';

/**
 * Throttled, bounded re-scoring. A patient not scored in the last `debounceMs` is scored at once
 * (a ward patient's reading a minute shows on the dashboard without waiting); readings that
 * arrive within `debounceMs` of a round's start ride along into one more round at the end of
 * that interval. So a patient is scored at most about once per `debounceMs`, and a reading's
 * score is never delayed by the throttle more than that.
 *
 * At most `maxPending` patients wait; when full, `schedule` waits for room, which slows the bus
 * handler (backpressure) instead of growing memory or dropping a patient's update.
 */
export interface RescoreScheduler {
  /** Resolves once every patient is queued (at once unless the pending set is full). */
  schedule(patientIds: Iterable<string>): Promise<void>;
  /** Scores everything pending now, ignoring the debounce, and waits for all scoring to settle. */
  flush(): Promise<void>;
  /** Patients waiting (for metrics and tests). */
  readonly pending: number;
}

export interface RescoreSchedulerOptions {
  readonly debounceMs: number;
  readonly maxPending: number;
  /** Patients scored together (one model call). */
  readonly maxBatch: number;
  /** Scoring batches running at once. */
  readonly concurrency: number;
  readonly score: (patientIds: string[]) => Promise<void>;
  /** Scoring failed for good (after its own retries); the next reading schedules the patient again. */
  readonly onError: (error: unknown, patients: number) => void;
  readonly clock?: () => number;
}

export function createRescoreScheduler(options: RescoreSchedulerOptions): RescoreScheduler {
  const clock = options.clock ?? Date.now;
  // Patient → when it is due. Due now unless a round for it started within the last debounceMs.
  const pending = new Map<string, number>();
  // When each patient's last round started: only the last debounceMs matter, so entries expire
  // (and under extreme patient counts the oldest are dropped, which only makes a round come early).
  // Its ages are read on the scheduler's clock, so a test's clock moves both together.
  const lastRound = new LRUCache<string, number>({ max: 100_000, ttl: Math.max(1, options.debounceMs), perf: { now: clock }, ttlResolution: 0 });
  const scoring = new Set<string>();
  const running = new Set<Promise<void>>();
  let waitingForRoom: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing = 0;

  function pump(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const now = clock();
    while (running.size < options.concurrency) {
      const due: string[] = [];
      for (const [patientId, dueAt] of pending) {
        if (due.length >= options.maxBatch) break;
        // A patient being scored waits for that round to finish, so its rounds never overlap.
        if ((dueAt <= now || flushing > 0) && !scoring.has(patientId)) due.push(patientId);
      }
      if (due.length === 0) break;
      for (const patientId of due) {
        pending.delete(patientId);
        scoring.add(patientId);
        if (options.debounceMs > 0) lastRound.set(patientId, now);
      }
      releaseRoom();
      const round = options.score(due)
        .catch((error: unknown) => options.onError(error, due.length))
        .finally(() => {
          for (const patientId of due) scoring.delete(patientId);
          running.delete(round);
          pump();
        });
      running.add(round);
    }
    if (pending.size > 0 && running.size < options.concurrency) {
      let nextDue = Number.POSITIVE_INFINITY;
      for (const [patientId, dueAt] of pending) if (!scoring.has(patientId) && dueAt < nextDue) nextDue = dueAt;
      // Only patients still being scored are left: the end of their round pumps again.
      if (nextDue !== Number.POSITIVE_INFINITY) {
        timer = setTimeout(pump, Math.max(0, nextDue - now));
        timer.unref();
      }
    }
  }

  function releaseRoom(): void {
    const waiters = waitingForRoom;
    waitingForRoom = [];
    for (const wake of waiters) wake();
  }

  async function schedule(patientIds: Iterable<string>): Promise<void> {
    for (const patientId of patientIds) {
      if (pending.has(patientId)) continue;
      while (pending.size >= options.maxPending) {
        await new Promise<void>((resolve) => waitingForRoom.push(resolve));
        if (pending.has(patientId)) break;
      }
      if (!pending.has(patientId)) {
        const since = lastRound.get(patientId);
        pending.set(patientId, since === undefined ? clock() : since + options.debounceMs);
      }
    }
    pump();
  }

  async function flush(): Promise<void> {
    flushing++;
    try {
      while (pending.size > 0 || running.size > 0) {
        pump();
        await Promise.race(running);
      }
    } finally {
      flushing--;
    }
  }

  return {
    schedule,
    flush,
    get pending() {
      return pending.size;
    },
  };
}
