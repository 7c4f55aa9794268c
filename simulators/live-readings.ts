import { sleep } from '../core/retry.ts';
import type { SimulatedReading } from './device-faults.ts';
import type { ReadingSink, SinkStats } from './reading-sink.ts';
import type { Ward } from './ward.ts';

export interface LiveScheduleOptions {
  /** Each patient's monitor sends one reading every `intervalMs` (default 2,000). */
  readonly intervalMs?: number;
  /** Or: total readings per second across the ward (benchmarks); overrides `intervalMs`. */
  readonly readingsPerSecond?: number;
  /** Stop after this long (default: until `signal` aborts). */
  readonly durationMs?: number;
  /** Stop after this many measurements. */
  readonly maxReadings?: number;
  readonly signal?: AbortSignal;
  /** Wall clock; tests pass a fake. Default Date.now. */
  readonly clock?: () => number;
  /** Largest batch yielded at once when catching up. Default 1,000. */
  readonly maxBatch?: number;
}

/** Shortest pause between batches: below this, timers cost more than they are worth. */
const MIN_TICK_MS = 10;

/**
 * Live readings, as an async generator of batches. Beds take turns (round robin) at a steady
 * overall rate; each measurement is stamped with its scheduled time, which is "now" while the
 * consumer keeps up. When the consumer is slower, the generator catches up in batches of at most
 * `maxBatch` rather than skipping readings, so a benchmark sees the rate it actually achieved.
 */
export async function* liveReadings(ward: Ward, options: LiveScheduleOptions = {}): AsyncGenerator<SimulatedReading[]> {
  const clock = options.clock ?? Date.now;
  const perMs = options.readingsPerSecond !== undefined ? options.readingsPerSecond / 1000 : ward.beds / (options.intervalMs ?? 2000);
  if (!(perMs > 0)) throw new RangeError('the reading rate must be positive');
  const maxBatch = options.maxBatch ?? 1000;
  const startedAt = clock();
  const stopAt = options.durationMs !== undefined ? startedAt + options.durationMs : Infinity;
  const maxReadings = options.maxReadings ?? Infinity;
  let measured = 0;
  while (!options.signal?.aborted && measured < maxReadings) {
    const now = clock();
    if (now >= stopAt) return;
    const due = Math.min(maxReadings, Math.floor((now - startedAt) * perMs) + 1, measured + maxBatch);
    const batch: SimulatedReading[] = [];
    for (; measured < due; measured++) {
      const scheduledAt = Math.round(startedAt + measured / perMs);
      batch.push(...ward.observe(measured % ward.beds, scheduledAt));
    }
    if (batch.length > 0) yield batch;
    const nextDueAt = startedAt + measured / perMs;
    const wait = Math.max(MIN_TICK_MS, nextDueAt - clock());
    if (measured < maxReadings) await sleep(Math.min(wait, stopAt - clock()), options.signal);
  }
}

export interface RunSimulationOptions extends LiveScheduleOptions {
  readonly ward: Ward;
  readonly sink: ReadingSink;
  /** Called after each batch the sink took; e.g. for progress lines. */
  readonly onBatch?: (stats: SinkStats & { readonly delivered: number }) => void;
}

/**
 * Runs a ward into a sink until `signal` aborts or the duration / reading count is reached, then
 * flushes the sink. This is what `vigil start` and `vigil simulate` call.
 */
export async function runSimulation(options: RunSimulationOptions): Promise<SinkStats> {
  let delivered = 0;
  try {
    for await (const batch of liveReadings(options.ward, options)) {
      delivered += batch.length;
      await options.sink.write(batch);
      options.onBatch?.({ ...options.sink.stats(), delivered });
    }
  } finally {
    await options.sink.flush();
  }
  return options.sink.stats();
}
