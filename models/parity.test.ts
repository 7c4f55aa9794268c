import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxRiskModel } from './risk-model-onnx.ts';
import type { OnnxRiskModel } from './risk-model-onnx.ts';
import { computeFeatures, FEATURE_COUNT, FEATURE_NAMES } from './features.ts';
import { readGoldenInputs, toScoringInput } from './golden-inputs.ts';
import { ensurePythonStack, MODELS_DIR, runPython } from './python-stack.ts';
import { budget } from '../core/contracts/wait-for.ts';

/**
 * Serving equals training: on the golden inputs (test-set prediction points and edge cases that
 * train.py wrote), the TypeScript features equal the Python training features, and the ONNX model
 * under onnxruntime-node gives the scikit-learn model's predict_proba.
 */

const inputs = readGoldenInputs();
const stack = await ensurePythonStack();
if (!stack.ready && process.env.CI === 'true') throw new Error(stack.reason);
if (!stack.ready) console.warn(`\n*** SKIPPING the recovery-risk parity test: ${stack.reason} ***\n`);

describe.skipIf(!stack.ready)('recovery-risk parity: TypeScript serving vs Python training', () => {
  let python: { features: number[][]; probabilities: number[] };
  let model: OnnxRiskModel;

  beforeAll(async () => {
    python = JSON.parse(await runPython('parity.py', JSON.stringify(inputs))) as typeof python;
    model = await loadOnnxRiskModel({ path: path.join(MODELS_DIR, 'recovery-risk.onnx') });
  }, budget(300_000));
  afterAll(() => model?.close());

  it('has golden inputs covering both labels and the edge cases', () => {
    expect(inputs.length).toBeGreaterThanOrEqual(50);
    expect(inputs.some((i) => i.readings.length === 0)).toBe(true);
    expect(inputs.some((i) => i.baselineConfusion === true)).toBe(true);
    expect(inputs.some((i) => i.spo2Scale === 2)).toBe(true);
  });

  it('computes every feature as the training code does (|Δ| ≤ 1e-6)', () => {
    let worst = { delta: 0, feature: '', input: -1 };
    inputs.forEach((input, i) => {
      const ts = computeFeatures(input);
      const py = python.features[i]!;
      expect(py).toHaveLength(FEATURE_COUNT);
      ts.forEach((value, f) => {
        const delta = Math.abs(value - py[f]!);
        if (delta > worst.delta) worst = { delta, feature: FEATURE_NAMES[f]!, input: i };
      });
    });
    expect(worst.delta, `worst: ${JSON.stringify(worst)}`).toBeLessThanOrEqual(1e-6);
  });

  it('scores as scikit-learn does (|Δ| ≤ 1e-5), batched in one run and through score()', async () => {
    const rows = new Float32Array(inputs.length * FEATURE_COUNT);
    inputs.forEach((input, i) => rows.set(computeFeatures(input), i * FEATURE_COUNT));
    const served = await model.run(rows, inputs.length);
    const scored = await model.score(inputs.map((input, i) => toScoringInput(input, `P${i}`)));
    inputs.forEach((_, i) => {
      expect(Math.abs(served[i]! - python.probabilities[i]!)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(scored[i]!.probability - python.probabilities[i]!)).toBeLessThanOrEqual(1e-5);
    });
    // The fixtures are not all the same score (a constant model would pass the check above).
    expect(Math.max(...python.probabilities) - Math.min(...python.probabilities)).toBeGreaterThan(0.2);
  });
});
