import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadOnnxRiskModel } from '../models/risk-model-onnx.ts';
import type { ScoringInput } from '../core/ports/risk-model.ts';
import { FEATURE_COUNT, writeFeatures } from '../models/features.ts';
import { readGoldenInputs, toScoringInput } from '../models/golden-inputs.ts';

/**
 * Scoring figures for `npm run bench`: patients scored per second in batches, the p99 latency of
 * one patient's re-score (features + run, as the processor does it when a reading arrives), and the
 * overhead of the serving path against a bare `session.run` on the same patients' feature rows.
 * Inputs are the golden fixtures (real 6-hour windows from the test cohort), cycled.
 */

export interface ScoringBenchOptions {
  readonly modelPath?: string;
  /** Patients per batch (default 256). */
  readonly batchSize?: number;
  /** Batches timed (default 20). */
  readonly batches?: number;
  /** Single-patient re-scores timed for the p99 (default 500). */
  readonly rescores?: number;
}

export interface ScoringBenchResult {
  readonly batchSize: number;
  /** score() with factors (what the processor runs), patients per second. */
  readonly patientsPerSecond: number;
  /** score() without factors, patients per second. */
  readonly patientsPerSecondNoFactors: number;
  /** One patient's score() with factors, p50 and p99 in ms. */
  readonly rescoreP50Ms: number;
  readonly rescoreP99Ms: number;
  /** Bare session.run on the batch's precomputed rows, patients per second. */
  readonly bareRunPatientsPerSecond: number;
  /** Feature rows score() runs per patient with factors (1 + its out-of-band vitals). */
  readonly rowsPerPatientWithFactors: number;
  /** score() time / a bare run of the same number of rows: with factors, and without. */
  readonly overheadRatio: number;
  readonly overheadRatioNoFactors: number;
}

export async function benchScoring(options: ScoringBenchOptions = {}): Promise<ScoringBenchResult> {
  const modelPath = options.modelPath ?? path.join(import.meta.dirname, '..', 'models', 'recovery-risk.onnx');
  const batchSize = options.batchSize ?? 256;
  const batches = options.batches ?? 20;
  const rescores = options.rescores ?? 500;
  const fixtures = readGoldenInputs();
  const batch: ScoringInput[] = Array.from({ length: batchSize }, (_, i) => toScoringInput(fixtures[i % fixtures.length]!, `B${i}`));

  const withFactors = await loadOnnxRiskModel({ path: modelPath });
  const noFactors = await loadOnnxRiskModel({ path: modelPath, topFactors: 0 });
  try {
    const rows = new Float32Array(batchSize * FEATURE_COUNT);
    batch.forEach((input, i) => writeFeatures(input, rows, i));
    // Warm-up: the first runs allocate onnxruntime's arenas.
    for (let i = 0; i < 3; i++) await Promise.all([withFactors.score(batch), noFactors.score(batch), withFactors.run(rows, batchSize)]);

    const bare = await timeBatches(batches, () => withFactors.run(rows, batchSize));
    const rowsBefore = withFactors.rowsRun;
    const served = await timeBatches(batches, () => withFactors.score(batch));
    // With factors, score() runs each patient's row plus its out-of-band factors' rows: the fair
    // floor is a bare run of that many rows (the batch's rows repeated), not of one row per patient.
    const servedRows = Math.round((withFactors.rowsRun - rowsBefore) / batches);
    const tiled = new Float32Array(servedRows * FEATURE_COUNT);
    for (let r = 0; r < servedRows; r++) tiled.set(rows.subarray((r % batchSize) * FEATURE_COUNT, (r % batchSize + 1) * FEATURE_COUNT), r * FEATURE_COUNT);
    await withFactors.run(tiled, servedRows);
    const bareSameRows = await timeBatches(batches, () => withFactors.run(tiled, servedRows));
    const servedNoFactors = await timeBatches(batches, () => noFactors.score(batch));

    const latencies: number[] = [];
    for (let i = 0; i < rescores; i++) {
      const one = batch[i % batch.length]!;
      const started = performance.now();
      await withFactors.score([one]);
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    const perSecond = (ms: number) => (batchSize * batches * 1000) / ms;
    return {
      batchSize,
      patientsPerSecond: perSecond(served),
      patientsPerSecondNoFactors: perSecond(servedNoFactors),
      rescoreP50Ms: quantile(latencies, 0.5),
      rescoreP99Ms: quantile(latencies, 0.99),
      bareRunPatientsPerSecond: perSecond(bare),
      rowsPerPatientWithFactors: servedRows / batchSize,
      overheadRatio: served / bareSameRows,
      overheadRatioNoFactors: servedNoFactors / bare,
    };
  } finally {
    await Promise.all([withFactors.close(), noFactors.close()]);
  }
}

async function timeBatches(count: number, batch: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) await batch();
  return performance.now() - started;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

if (import.meta.main) console.log(await benchScoring());
