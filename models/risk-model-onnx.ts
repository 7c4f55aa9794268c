import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { news2 } from '../core/domain/news2.ts';
import type { News2Parameter } from '../core/domain/news2.ts';
import type { LatestVitals } from '../core/domain/patient-summary.ts';
import type { RiskFactor } from '../core/domain/reading.ts';
import { VigilError } from '../core/errors.ts';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC, prepareFeatureInput, writeFeatures } from './features.ts';
import type { FeatureInput, FeatureOcclusion } from './features.ts';
import { applyCalibration } from './local-calibration.ts';
import type { CalibrationParameters } from './local-calibration.ts';
import type { RiskModel, RiskModelOutput, ScoringInput } from '../core/ports/risk-model.ts';

/**
 * The recovery-risk model served with onnxruntime-node: one InferenceSession, loaded once, and one
 * `session.run` per `score` call however many patients it carries (each patient's row plus its
 * occlusion rows for the factors).
 *
 * Factors are explained by occlusion, which works for any model the card describes: for each
 * factor (features.json `factorReferences`), the patient's readings are rescored with that vital
 * set to a typical well adult's value; the factor's contribution is the probability minus that
 * rescored probability (probability units). The largest positive contributions are returned, so
 * a factor says "this pushed the risk up by this much".
 *
 * A factor is a vital, and it is listed only when the patient's latest value of it (as NEWS2
 * scores it: the latest in the window, the patient's SpO2 scale) is outside the normal band, i.e.
 * scores NEWS2 points. Occlusion against a reference can credit a normal value with a positive
 * contribution (RR 16 against a reference of 16 after other vitals moved); a clinician shown
 * "RR 16 ▲" is told something false. Context (age) is not listed: it is not something to act on.
 */


export interface ModelCard {
  readonly name?: string;
  readonly version: number | string;
  /** The alerting threshold the card was evaluated at (0..1); the alert engine uses it. */
  readonly deployedThreshold?: number;
}

export interface OnnxRiskModelOptions {
  /** The .onnx file. */
  readonly path: string;
  /** The model card (or its name and version); by default the `<name>.card.json` beside `path`. */
  readonly card?: ModelCard;
  /** Factors returned per patient (default 3; 0 skips the occlusion rows). */
  readonly topFactors?: number;
  /** Contributions below this (probability) are not reported as factors. */
  readonly minContribution?: number;
  /** onnxruntime intra-op threads (default 1: the processor scores many small batches). */
  readonly threads?: number;
  /**
   * A site's local recalibration (models/local-calibration.ts), applied to every probability
   * `score` returns, factors included; the name then carries its version
   * (`recovery-risk@1+local-2`). `run` stays the bare model.
   */
  readonly calibration?: CalibrationParameters & { readonly version: string };
}

export interface OnnxRiskModel extends RiskModel {
  score(inputs: readonly ScoringInput[]): Promise<RiskModelOutput[]>;
  /** The bare model: probabilities for ready-made feature rows (row-major, FEATURE_COUNT wide). */
  run(rows: Float32Array, count: number): Promise<Float32Array>;
  /** Feature rows `score` has passed to the model so far (base rows plus occluded factor rows). */
  readonly rowsRun: number;
  close(): Promise<void>;
}

/** Factor group → the NEWS2 parameter whose band says whether the patient's latest value is abnormal. */
const FACTOR_BAND: Readonly<Record<string, News2Parameter | undefined>> = {
  heartRate: 'heartRate', respiratoryRate: 'respiratoryRate', bloodPressure: 'systolic', temperature: 'temperatureC',
  spo2: 'spo2', oxygen: 'onOxygen', consciousness: 'consciousness',
};
const FACTORS = Object.entries(FEATURE_SPEC.factorReferences as Record<string, FeatureOcclusion>).filter(([feature]) => FACTOR_BAND[feature] !== undefined);
const LAST_VALUE_FEATURE: Readonly<Record<string, string | undefined>> = {
  heartRate: 'heartRate.6h.last', respiratoryRate: 'respiratoryRate.6h.last', bloodPressure: 'systolic.6h.last',
  temperature: 'temperatureC.6h.last', spo2: 'spo2.6h.last', oxygen: 'onOxygen.last', consciousness: 'consciousness.last.notAlert', age: 'age',
};

export async function loadOnnxRiskModel(options: OnnxRiskModelOptions): Promise<OnnxRiskModel> {
  const card = options.card ?? (await readCard(options.path));
  const topFactors = options.topFactors ?? 3;
  const minContribution = options.minContribution ?? 0.001;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(options.path, { intraOpNumThreads: options.threads ?? 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  } catch (error) {
    throw new VigilError('CONFIG_INVALID', `cannot load the risk model ${options.path}`, { cause: error });
  }
  const inputName = session.inputNames[0]!;
  const width = session.inputMetadata[0]?.isTensor ? session.inputMetadata[0].shape.at(-1) : undefined;
  if (width !== FEATURE_COUNT || !session.outputNames.includes('probabilities')) {
    await session.release();
    throw new VigilError('CONFIG_INVALID', `risk model ${options.path} takes ${String(width)} features with outputs ${session.outputNames.join(', ')}; features.json declares ${FEATURE_COUNT} and serving reads "probabilities"`);
  }

  async function run(rows: Float32Array, count: number): Promise<Float32Array> {
    const tensor = new ort.Tensor('float32', rows.subarray(0, count * FEATURE_COUNT), [count, FEATURE_COUNT]);
    const out = await session.run({ [inputName]: tensor }, ['probabilities']);
    const probabilities = out.probabilities!.data as Float32Array;
    // Column 1 of [count, 2] is P(event).
    const positive = new Float32Array(count);
    for (let i = 0; i < count; i++) positive[i] = probabilities[i * 2 + 1]!;
    return positive;
  }

  let rowsRun = 0;
  const calibration = options.calibration;
  const calibrated = (p: number): number => (calibration ? applyCalibration(p, calibration) : p);

  return {
    name: `${card.name ?? 'recovery-risk'}@${card.version}${calibration ? `+${calibration.version}` : ''}`,
    ...(card.deployedThreshold === undefined ? {} : { deployedThreshold: card.deployedThreshold }),
    run,
    async score(inputs) {
      if (inputs.length === 0) return [];
      // One buffer per session.run, sized for the most rows the call can need; only the rows written are run.
      const rows = new Float32Array(inputs.length * (topFactors > 0 ? 1 + FACTORS.length : 1) * FEATURE_COUNT);
      // Per patient: its base row, then one occluded row per factor whose vital is out of band.
      // Only such factors can be listed (see above), so occluding the others would be wasted runs:
      // a ward patient has few vitals out of band, so this runs about 2 rows per patient instead of 8.
      const plans: { base: number; occluded: { feature: string; row: number }[] }[] = [];
      let next = 0;
      for (const input of inputs) {
        const prepared = prepareFeatureInput(featureInput(input));
        const base = next++;
        writeFeatures(prepared, rows, base);
        const occluded: { feature: string; row: number }[] = [];
        if (topFactors > 0) {
          const abnormal = abnormalBands(input, prepared.computed.latest ?? null);
          for (const [feature, reference] of FACTORS) {
            if (!abnormal(feature)) continue;
            writeFeatures(prepared, rows, next, reference);
            occluded.push({ feature, row: next++ });
          }
        }
        plans.push({ base, occluded });
      }
      rowsRun += next;
      const probabilities = await run(rows, next);
      return plans.map(({ base, occluded }) => {
        const probability = calibrated(probabilities[base]!);
        const factors: RiskFactor[] = occluded.map(({ feature, row }) => ({
          feature,
          contribution: probability - calibrated(probabilities[row]!),
          value: factorValue(rows, base, feature),
        }))
          .filter((factor) => factor.contribution >= minContribution)
          .sort((a, b) => b.contribution - a.contribution)
          .slice(0, topFactors);
        return { probability, factors };
      });
    },
    get rowsRun() {
      return rowsRun;
    },
    close: () => session.release(),
  };
}

/** Which factors' vitals are outside their normal band (NEWS2 points > 0) in the latest values. */
function abnormalBands(input: ScoringInput, latest: LatestVitals | null): (feature: string) => boolean {
  if (!latest) return () => false;
  // Recorded baseline confusion is that patient's normal.
  const { components } = news2(latest, { spo2Scale: input.profile?.spo2Scale ?? 1, baselineConfusion: input.profile?.baselineConfusion ?? false });
  return (feature) => {
    const parameter = FACTOR_BAND[feature];
    return parameter !== undefined && (components[parameter] ?? 0) > 0;
  };
}

function featureInput(input: ScoringInput): FeatureInput {
  return {
    now: input.now,
    readings: input.readings,
    ...(input.admission ? { admission: input.admission } : {}),
    spo2Scale: input.profile?.spo2Scale ?? 1,
    baselineConfusion: input.profile?.baselineConfusion ?? false,
  };
}

function factorValue(rows: Float32Array, row: number, factor: string): number | null {
  const name = LAST_VALUE_FEATURE[factor];
  if (!name) return null;
  const value = rows[row * FEATURE_COUNT + FEATURE_NAMES.indexOf(name)]!;
  // Round away float32 noise (36.8 reads as 36.79999923706055).
  return Math.round(value * 100) / 100;
}

async function readCard(modelPath: string): Promise<ModelCard> {
  const cardPath = modelPath.replace(/\.onnx$/, '.card.json');
  try {
    const card = JSON.parse(await readFile(cardPath, 'utf8')) as { name?: unknown; version?: unknown; deployedThreshold?: unknown };
    if (typeof card.version !== 'number' && typeof card.version !== 'string') throw new Error('no version');
    const threshold = card.deployedThreshold;
    if (threshold !== undefined && !(typeof threshold === 'number' && threshold > 0 && threshold <= 1)) throw new Error('deployedThreshold must be a number in (0, 1]');
    return {
      version: card.version,
      ...(typeof card.name === 'string' ? { name: card.name } : {}),
      ...(typeof threshold === 'number' && threshold > 0 && threshold <= 1 ? { deployedThreshold: threshold } : {}),
    };
  } catch (error) {
    throw new VigilError('CONFIG_INVALID', `risk model card ${cardPath} is missing, has no version or a bad deployedThreshold; pass options.card`, { cause: error });
  }
}
