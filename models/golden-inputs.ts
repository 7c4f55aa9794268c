import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { VitalReading } from '../core/domain/reading.ts';
import type { ScoringInput } from '../core/ports/risk-model.ts';
import type { FeatureInput } from './features.ts';

/** The golden inputs train.py writes (test-set windows and edge cases), for the parity test and the bench. */
export function readGoldenInputs(): FeatureInput[] {
  return JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', 'parity-inputs.json'), 'utf8')) as FeatureInput[];
}

/** A golden input as the processor would hand it to the model (identity fields filled in). */
export function toScoringInput(input: FeatureInput, patientId: string): ScoringInput {
  const readings: VitalReading[] = input.readings.map((r) => ({ ...r, patientId, deviceId: 'bed-01', receivedAt: r.observedAt }));
  return {
    patientId,
    now: input.now,
    readings,
    ...(input.admission ? { admission: input.admission } : {}),
    ...(input.spo2Scale || input.baselineConfusion
      ? { profile: { patientId, spo2Scale: input.spo2Scale ?? 1, ...(input.baselineConfusion ? { baselineConfusion: true } : {}), updatedAt: 0, updatedBy: 'golden' } }
      : {}),
  };
}
