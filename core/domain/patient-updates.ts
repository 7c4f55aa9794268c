import { EventEmitter } from 'node:events';
import type { PatientSummary } from './patient-summary.ts';

/**
 * How a processed reading reaches live viewers (the SSE stream). In one process it is this
 * in-memory fan-out; a split deployment bridges it (see README, "Running at scale").
 */
export interface PatientUpdates {
  publish(update: PatientSummary): void;
  /** Returns the function that unsubscribes. */
  subscribe(listener: (update: PatientSummary) => void): () => void;
}

export function createInMemoryPatientUpdates(): PatientUpdates {
  const emitter = new EventEmitter();
  // Every dashboard connection is a listener; hundreds are normal, not a leak.
  emitter.setMaxListeners(0);
  return {
    publish: (update) => emitter.emit('update', update),
    subscribe(listener) {
      emitter.on('update', listener);
      return () => emitter.off('update', listener);
    },
  };
}
