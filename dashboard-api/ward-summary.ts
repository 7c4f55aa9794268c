import type { PatientSummary } from '../core/domain/patient-summary.ts';
import { summarizePatient } from '../core/domain/patient-summary.ts';
import type { TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import type { WardCensus } from './ward-census.ts';
import { placeOnWard } from './ward-census.ts';

/**
 * Patient summaries read from the time-series store, for `GET /v1/patients` and the stream's
 * first snapshot.
 */

/** Vitals older than this before the newest reading no longer count as "latest". */
export const SUMMARY_WINDOW_MS = 4 * 60 * 60 * 1000;
/** Readings read per patient to find the newest value of each vital. */
export const SUMMARY_READINGS_LIMIT = 200;
/** Patients read at once: enough to hide store latency, few enough not to flood the store. */
export const SUMMARY_CONCURRENCY = 16;

export async function summarizeOne(timeseries: TimeSeriesStore, patientId: string): Promise<PatientSummary> {
  const [latest, score] = await Promise.all([timeseries.latestReading(patientId), timeseries.latestRiskScore(patientId)]);
  if (!latest) return summarizePatient(patientId, [], score);
  const recent = await timeseries.readReadings(patientId, {
    from: latest.observedAt - SUMMARY_WINDOW_MS,
    to: latest.observedAt + 1,
    limit: SUMMARY_READINGS_LIMIT,
    newestFirst: true,
  });
  // `latest` is passed too, so the newest reading wins even from a store that ignores newestFirst.
  return summarizePatient(patientId, [latest, ...recent], score);
}

/** With a `census` (ADT), patients who left the ward are left out and the others carry their bed. */
export async function summarizeWard(timeseries: TimeSeriesStore, options: { concurrency?: number; census?: WardCensus } = {}): Promise<PatientSummary[]> {
  const concurrency = options.concurrency ?? SUMMARY_CONCURRENCY;
  const patientIds = await timeseries.listPatients();
  const summaries: (PatientSummary | undefined)[] = new Array(patientIds.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < patientIds.length) {
      const index = next++;
      const summary = await summarizeOne(timeseries, patientIds[index]!);
      summaries[index] = options.census ? await placeOnWard(summary, options.census) : summary;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, patientIds.length) }, worker));
  return summaries.filter((s): s is PatientSummary => s !== undefined);
}
