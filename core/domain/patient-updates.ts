import { EventEmitter } from 'node:events';
import type { PatientSummary } from './patient-summary.ts';

/**
 * How a processed reading reaches live viewers (the SSE stream): this process's in-memory fan-out.
 * It holds no state of record (each update is a view of the shared time-series store); a dashboard
 * without a processor in its process fills it by following that store (cli/poll-patient-updates.ts).
 * Which state is shared and where: core/ports/README.md.
 */
export interface PatientUpdates {
  publish(update: PatientSummary): void;
  /** Returns the function that unsubscribes. */
  subscribe(listener: (update: PatientSummary) => void): () => void;
  /** A patient left the ward (ADT discharge, cancelled admission, merged record): viewers drop them; their history stays. */
  publishLeft(patientId: string): void;
  subscribeLeft(listener: (patientId: string) => void): () => void;
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
    publishLeft: (patientId) => emitter.emit('left', patientId),
    subscribeLeft(listener) {
      emitter.on('left', listener);
      return () => emitter.off('left', listener);
    },
  };
}
