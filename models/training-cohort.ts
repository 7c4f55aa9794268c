import { createHash } from 'node:crypto';
import { writeCohortCsv } from '../simulators/cohort-csv.ts';
import type { CohortSummary } from '../simulators/cohort-csv.ts';
import { DEFAULT_FAULT_RATES, NO_FAULTS } from '../simulators/simulation-parameters.ts';
import TRAINING_CONFIG from './training-config.json' with { type: 'json' };

/**
 * The recovery-risk data set's cohort and split, as training-config.json declares them: train.py
 * runs this file to write the CSVs it trains on, and the card test writes the same cohort again.
 */

export { TRAINING_CONFIG };
export type Split = 'train' | 'validation' | 'test';

export function writeTrainingCohort(dir: string): Promise<CohortSummary> {
  const { seed, admissions, faults } = TRAINING_CONFIG.cohort;
  return writeCohortCsv({ dir, seed, admissions, faults: faults === 'default' ? DEFAULT_FAULT_RATES : NO_FAULTS });
}

/** Patient-level split by a hash of the id, so a patient's prediction times never straddle sets. */
export function splitOf(patientId: string): Split {
  const bucket = createHash('sha256').update(patientId).digest().readUInt32BE(0) % 100;
  const { testPercent, validationPercent } = TRAINING_CONFIG.split;
  return bucket < testPercent ? 'test' : bucket < testPercent + validationPercent ? 'validation' : 'train';
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node models/training-cohort.ts <output-dir>');
    process.exit(2);
  }
  const summary = await writeTrainingCohort(dir);
  console.log(JSON.stringify(summary));
}
