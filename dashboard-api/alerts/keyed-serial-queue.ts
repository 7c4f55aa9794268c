/**
 * Runs tasks one after the other per key (a patient), keys side by side. A failed task is reported
 * and does not stop the ones queued behind it.
 */
export interface KeyedSerialQueue {
  run(key: string, task: () => Promise<void>): void;
  /** Resolves once every task queued so far (and any queued meanwhile) has finished. */
  idle(): Promise<void>;
}

export function createKeyedSerialQueue(onError: (error: unknown) => void): KeyedSerialQueue {
  const tails = new Map<string, Promise<void>>();
  return {
    run(key, task) {
      const tail = (tails.get(key) ?? Promise.resolve()).then(task).catch(onError);
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
    },
    async idle() {
      while (tails.size > 0) await Promise.all(tails.values());
    },
  };
}
