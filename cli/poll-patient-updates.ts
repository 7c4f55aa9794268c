import type { PatientUpdates } from '../core/domain/patient-updates.ts';
import { summarizePatient } from '../core/domain/patient-summary.ts';
import type { Logger } from '../core/observability/logger.ts';
import type { TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import { sleep } from '../core/retry.ts';
import type { WardCensus } from '../dashboard-api/ward-census.ts';

const RECENT_WINDOW_MS = 6 * 3_600_000;

/**
 * For a dashboard process that runs no processor (split deployments): announces a patient when
 * the shared time-series store holds a newer score than last seen. The store is the only thing
 * processors and dashboards share, so nothing else has to be deployed for live updates.
 */
export function pollPatientUpdates(options: {
  timeseries: TimeSeriesStore; updates: PatientUpdates; logger: Logger; intervalMs: number;
  /** The ward census (ADT): a patient discharged through another instance's edge is announced as left here too. */
  census?: WardCensus;
  /** Every how many polls the census is read (default 10: every 5 s at 500 ms). */
  censusEvery?: number;
}): { stop(): Promise<void> } {
  const { timeseries, updates, logger, intervalMs, census } = options;
  const censusEvery = options.censusEvery ?? 10;
  const lastSeen = new Map<string, number>();
  // Patients announced as left; a patient back on the ward (a cancelled discharge) is forgotten here.
  const left = new Set<string>();
  let polls = 0;
  const abort = new AbortController();

  async function checkCensus(patients: readonly string[]): Promise<void> {
    for (const patientId of patients) {
      if (abort.signal.aborted) return;
      const where = await census!.whereabouts(patientId);
      if (where?.left && !left.has(patientId)) {
        left.add(patientId);
        updates.publishLeft(patientId);
      } else if (!where?.left) {
        left.delete(patientId);
      }
    }
  }

  async function tick(): Promise<void> {
    const patients = await timeseries.listPatients();
    if (census && polls++ % censusEvery === 0) await checkCensus(patients);
    for (const patientId of patients) {
      if (abort.signal.aborted) return;
      const score = await timeseries.latestRiskScore(patientId);
      if (!score || score.scoredAt <= (lastSeen.get(patientId) ?? -Infinity)) continue;
      lastSeen.set(patientId, score.scoredAt);
      const now = Date.now();
      const recent = await timeseries.readReadings(patientId, { from: now - RECENT_WINDOW_MS, to: now + 60_000, limit: 50, newestFirst: true });
      updates.publish(summarizePatient(patientId, recent, score));
    }
  }

  const loop = (async () => {
    while (!abort.signal.aborted) {
      const started = Date.now();
      try {
        await tick();
      } catch (error) {
        logger.warn({ err: error }, 'patient update poll failed; retrying');
      }
      await sleep(Math.max(0, intervalMs - (Date.now() - started)), abort.signal);
    }
  })();

  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}
