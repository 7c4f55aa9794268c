import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric Vigil exports, created on one registry per process (no global
 * registry, so tests and several apps in one process do not collide).
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const m = {
    registry,
    readingsIngested: new Counter({ name: 'vigil_readings_ingested_total', help: 'Readings accepted by the edge and published to the bus', labelNames: ['source'] as const, registers: [registry] }),
    readingsRefused: new Counter({ name: 'vigil_readings_refused_total', help: 'Readings refused at the edge (answered 400/AE)', labelNames: ['source'] as const, registers: [registry] }),
    readingsProcessed: new Counter({ name: 'vigil_readings_processed_total', help: 'Readings parsed and written to both stores', registers: [registry] }),
    readingsDuplicate: new Counter({ name: 'vigil_readings_duplicate_total', help: 'Deliveries of a reading already processed', registers: [registry] }),
    deadLetters: new Counter({ name: 'vigil_dead_letters_total', help: 'Messages moved to the dead-letter store', labelNames: ['reason'] as const, registers: [registry] }),
    batchSeconds: new Histogram({ name: 'vigil_processor_batch_seconds', help: 'Time to process one bus batch, from delivery to ack', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] }),
    lagSeconds: new Gauge({ name: 'vigil_processor_lag_seconds', help: 'Age of the newest processed reading at ack time (receivedAt to now)', registers: [registry] }),
    scoresWritten: new Counter({ name: 'vigil_risk_scores_total', help: 'Patient re-scorings written', registers: [registry] }),
    sseClients: new Gauge({ name: 'vigil_sse_clients', help: 'Connected Server-Sent Events clients', registers: [registry] }),
    backendUp: new Gauge({ name: 'vigil_backend_up', help: '1 while a backend answers, 0 while its last ping or store write failed', labelNames: ['backend'] as const, registers: [registry] }),
    storeWriteRetries: new Counter({ name: 'vigil_store_write_retries_total', help: 'Store writes retried while the processor held a batch through an outage', labelNames: ['backend'] as const, registers: [registry] }),
    oldestUnackedSeconds: new Gauge({ name: 'vigil_processor_oldest_unacked_seconds', help: 'Age (since publish) of the oldest message the processor holds unacked; 0 when none', registers: [registry] }),
    busInFlight: new Gauge({ name: 'vigil_bus_in_flight', help: 'Messages delivered and not yet settled', registers: [registry] }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
