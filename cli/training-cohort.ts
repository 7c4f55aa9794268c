import { createHash } from 'node:crypto';
import { writeCohortCsv } from '../simulators/cohort-csv.ts';
import type { CohortSummary } from '../simulators/cohort-csv.ts';
import { COHORT_SHIFTS, isCohortShiftName } from '../simulators/shift-presets.ts';
import type { CohortShiftName } from '../simulators/shift-presets.ts';
import { DEFAULT_FAULT_RATES, NO_FAULTS } from '../simulators/simulation-parameters.ts';
import TRAINING_CONFIG from '../models/training-config.json' with { type: 'json' };

/**
 * The recovery-risk data sets as training-config.json declares them: the training cohort (split
 * by patient into train and validation), the test cohort (its own seed, scored once for the card)
 * and one cohort per distribution shift. train.py runs this file to write the CSVs; the card test
 * writes the test cohort again. It lives in the composition layer because it plugs one feature
 * (the simulators' cohort writer) into another's declaration (models/training-config.json).
 */

export { TRAINING_CONFIG };
export type Split = 'train' | 'validation';
export type CohortName = 'training' | 'test' | CohortShiftName;

const faultsOf = (faults: string) => (faults === 'default' ? DEFAULT_FAULT_RATES : NO_FAULTS);

export function writeTrainingCohort(dir: string): Promise<CohortSummary> {
  const { seed, admissions, faults } = TRAINING_CONFIG.cohort;
  return writeCohortCsv({ dir, seed, admissions, faults: faultsOf(faults) });
}

/** The card's test cohort: a different seed from training, so no patient or trajectory is shared. */
export function writeTestCohort(dir: string): Promise<CohortSummary> {
  const { seed, admissions, faults } = TRAINING_CONFIG.testCohort;
  return writeCohortCsv({ dir, seed, admissions, faults: faultsOf(faults) });
}

export function writeShiftCohort(dir: string, shift: CohortShiftName): Promise<CohortSummary> {
  const { admissions, faults, seeds } = TRAINING_CONFIG.shiftCohorts;
  return writeCohortCsv({ dir, seed: seeds[shift], admissions, faults: faultsOf(faults), parameters: COHORT_SHIFTS[shift] });
}

export function writeNamedCohort(dir: string, name: CohortName): Promise<CohortSummary> {
  return name === 'training' ? writeTrainingCohort(dir) : name === 'test' ? writeTestCohort(dir) : writeShiftCohort(dir, name);
}

/** Patient-level split of the training cohort by a hash of the id, so a patient's prediction times never straddle sets. */
export function splitOf(patientId: string): Split {
  const bucket = createHash('sha256').update(patientId).digest().readUInt32BE(0) % 100;
  return bucket < TRAINING_CONFIG.split.validationPercent ? 'validation' : 'train';
}

if (import.meta.main) {
  const [name, dir] = process.argv.slice(2);
  if (!dir || !(name === 'training' || name === 'test' || isCohortShiftName(name!))) {
    console.error('usage: node cli/training-cohort.ts <training|test|shift name> <output-dir>');
    process.exit(2);
  }
  const summary = await writeNamedCohort(dir, name as CohortName);
  console.log(JSON.stringify(summary));
}
