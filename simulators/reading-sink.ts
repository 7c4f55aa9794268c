import type { SimulatedReading } from './device-faults.ts';

/**
 * Where simulated readings go: the HTTP edge (sink-http.ts) or straight onto a bus (sink-bus.ts).
 *
 * Lifecycle: create → `write` batches (each call resolves once the sink can take more, which is how
 * a slow edge slows the simulator down: nothing queues without bound) → `flush` at the end. A sink
 * never closes what it was given (the bus, the HTTP agent): the caller owns those.
 */
export interface ReadingSink {
  write(readings: readonly SimulatedReading[]): Promise<void>;
  /** Sends whatever is buffered and waits for every request in flight. */
  flush(): Promise<void>;
  stats(): SinkStats;
}

export interface SinkStats {
  /** Readings handed to the sink. */
  readonly written: number;
  /** Readings the edge or bus accepted. */
  readonly accepted: number;
  /** Readings the edge refused (400) or that went on the bus as JSON for the dead-letter path. */
  readonly rejected: number;
  /** Requests or publishes retried after 429/503 or a transient failure. */
  readonly retries: number;
}
