/**
 * Turns a stream of single deliveries into batches for one handler: a batch is handed over when it
 * reaches `maxBatchSize` or when its first item has waited `maxBatchWaitMs`, and only one batch is
 * in the handler at a time, so batches reach it in delivery order (what keeps per-key order).
 *
 * Memory stays bounded without a limit here: the caller only pushes what the client's flow control
 * let in (at most maxInFlight unsettled messages), and the items wait here while the handler runs.
 */
export interface BatchDispatcher<T> {
  push(item: T): void;
  /** Stops handing over batches and waits for the one in the handler. Returns what never got handed over. */
  stop(): Promise<T[]>;
}

export function createBatchDispatcher<T>(
  options: { readonly maxBatchSize: number; readonly maxBatchWaitMs: number },
  handle: (batch: T[]) => Promise<void>,
): BatchDispatcher<T> {
  let pending: T[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const schedule = (): void => {
    if (stopped || running || pending.length === 0) return;
    if (pending.length >= options.maxBatchSize || options.maxBatchWaitMs === 0) {
      dispatch();
    } else if (!timer) {
      timer = setTimeout(dispatch, options.maxBatchWaitMs);
    }
  };

  function dispatch(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (stopped || running || pending.length === 0) return;
    const batch = pending.slice(0, options.maxBatchSize);
    pending = pending.slice(batch.length);
    running = handle(batch).finally(() => {
      running = undefined;
      // What piled up while the handler ran has waited long enough: hand it over now.
      if (pending.length > 0 && !stopped) dispatch();
    });
  }

  return {
    push(item) {
      pending.push(item);
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
      const left = pending;
      pending = [];
      return left;
    },
  };
}
