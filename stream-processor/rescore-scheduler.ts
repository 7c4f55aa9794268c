/**
 * Debounced, bounded re-scoring. A burst of readings for one patient causes one re-scoring
 * `debounceMs` after the first of them (readings arriving meanwhile ride along), so a patient is
 * scored at most about once per `debounceMs` and an update is never delayed by more than that.
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
  // Insertion order is due order: every entry is due `debounceMs` after it was added.
  const pending = new Map<string, number>();
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
        if (due.length >= options.maxBatch || (dueAt > now && flushing === 0)) break;
        // A patient being scored waits for that round to finish, so its rounds never overlap.
        if (!scoring.has(patientId)) due.push(patientId);
      }
      if (due.length === 0) break;
      for (const patientId of due) {
        pending.delete(patientId);
        scoring.add(patientId);
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
    const next = pending.values().next();
    if (!next.done && running.size < options.concurrency) {
      timer = setTimeout(pump, Math.max(0, next.value - now));
      timer.unref();
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
      if (!pending.has(patientId)) pending.set(patientId, clock() + options.debounceMs);
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
