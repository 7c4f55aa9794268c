import { loadConfig } from '../../core/config.ts';
import { evaluateCohort, readCard } from '../../models/evaluate-cohort.ts';
import { CohortError } from '../../models/local-cohort.ts';
import { readLocalCalibration } from '../../models/local-calibration.ts';
import { recalibrateCohort } from '../../models/recalibrate-cohort.ts';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs } from '../command.ts';

const EVALUATE_HELP = `Usage: vigil model evaluate --cohort <dir> [options]

The model card's evaluation on a site's own cohort: prediction points as the card defines them,
scored by the served ONNX model and by NEWS2 (each patient's SpO2 scale and baseline confusion
from profiles.csv when present). Prints ONE JSON object with the card's keys: metrics (model,
news2: auroc, auprc, brier, calibrationSlope, calibrationIntercept, ci95; difference), alertBurden,
earlyStay, subgroups, testSet, and calibrationCurve. models/README.md defines each figure.

  --cohort <dir>        the cohort: patients.csv, admissions.csv, vitals.csv, outcomes.csv
                        (and optionally profiles.csv), the layout vigil simulate --write-csv writes
  --calibration <file>  apply a local calibration first (vigil model recalibrate's file, fitted
                        for this model; another model's is refused)
  --bootstrap <n>       patient-level bootstrap replicates for the 95 % intervals (default 200)
  --seed <n>            bootstrap seed (default 20261204)
  --model <file.onnx>   the model (default VIGIL_MODEL or models/recovery-risk.onnx; its
                        <name>.card.json beside it gives deployedThreshold and the NEWS2 mapping)

Progress goes to stderr. Exit 0 with the JSON on stdout; 65 when the cohort is missing or
unreadable (the message names the file and the reason).

Environment: VIGIL_MODEL.`;

const RECALIBRATE_HELP = `Usage: vigil model recalibrate --cohort <dir> [--out <file>] [options]

Fits a logistic recalibration of the served model on a site's own outcomes,
p' = 1 / (1 + exp(-(a + b * logit(p)))), by Newton's method (deterministic), and writes it as a
versioned file (local-1, local-2, ... one more than the file it replaces). The server applies it
to every served probability and names the model <name>@<version>+local-<n>. Prints the written
calibration (JSON) to stdout.

  --cohort <dir>        the cohort, as for vigil model evaluate
  --out <file>          where to write (default VIGIL_RISK_CALIBRATION, else
                        <VIGIL_DATA_DIR>/local-calibration.json: where the server looks)
  --bootstrap <n>       replicates for the intervals of the recorded evaluation (default 200)
  --seed <n>            bootstrap seed (default 20261204)
  --model <file.onnx>   the model (default VIGIL_MODEL or models/recovery-risk.onnx)

The recorded after-calibration figures are in-sample; check them on another cohort with
vigil model evaluate --cohort <other> --calibration <file>.

Environment: VIGIL_MODEL, VIGIL_RISK_CALIBRATION, VIGIL_DATA_DIR.`;

const help = `Usage: vigil model <subcommand> [options]

Local validation of the recovery-risk model, what a hospital does before it trusts a score:
  evaluate      the model card's metrics on a site's own cohort (JSON)
  recalibrate   fit a local calibration on a site's outcomes; the server loads it

Run "vigil model <subcommand> --help" for its options.`;

const SUBCOMMAND_HELP: Readonly<Record<string, string>> = { evaluate: EVALUATE_HELP, recalibrate: RECALIBRATE_HELP };

function count(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new UsageError(`--${option} must be a non-negative integer, got "${text}"`);
  return value;
}

const progress = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

/** A cohort that cannot be read is the user's data, not a crash: one line naming the file, exit 65. */
async function withCohortErrors(dir: string, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CohortError) {
      console.error(`vigil model: cohort ${dir}: ${error.message}`);
      return 65; // EX_DATAERR
    }
    throw error;
  }
}

const model: CliCommand & { helpFor(argv: readonly string[]): string } = {
  name: 'model',
  summary: 'evaluate the risk model on a local cohort, or recalibrate it',
  help,
  helpFor: (argv) => SUBCOMMAND_HELP[argv[0] ?? ''] ?? help,
  async run(argv) {
    const [subcommand, ...rest] = argv;
    if (subcommand !== 'evaluate' && subcommand !== 'recalibrate') {
      throw new UsageError(subcommand === undefined ? 'a subcommand is needed: evaluate or recalibrate' : `unknown subcommand "${subcommand}" (expected evaluate or recalibrate)`);
    }
    const { values } = parseCommandArgs(rest, {
      cohort: { type: 'string' }, model: { type: 'string' }, bootstrap: { type: 'string' }, seed: { type: 'string' },
      ...(subcommand === 'evaluate' ? { calibration: { type: 'string' } } : { out: { type: 'string' } }),
    } as const);
    const cohortDir = values.cohort;
    if (cohortDir === undefined) throw new UsageError(`vigil model ${subcommand} needs --cohort <dir>`);
    const config = loadConfig();
    const common = {
      cohortDir,
      modelPath: values.model ?? config.modelPath,
      replicates: count(values.bootstrap, 'bootstrap', 200),
      seed: count(values.seed, 'seed', 20261204),
      onProgress: progress,
    };
    if (subcommand === 'evaluate') {
      const file = (values as { calibration?: string }).calibration;
      let calibration = null;
      if (file !== undefined) {
        try {
          calibration = readLocalCalibration(file);
        } catch (error) {
          console.error(`vigil model evaluate: ${(error as Error).message}`);
          return 66; // EX_NOINPUT
        }
        // As the server does: a calibration describes the model it was fitted for, no other.
        const card = readCard(common.modelPath);
        const served = `${card.name ?? 'recovery-risk'}@${card.version}`;
        if (calibration.model !== served) {
          console.error(`vigil model evaluate: local calibration ${file} (${calibration.version}) was fitted for ${calibration.model}, not ${served}`);
          return 65;
        }
      }
      return withCohortErrors(cohortDir, async () => {
        console.log(JSON.stringify(await evaluateCohort({ ...common, calibration }), null, 2));
        return 0;
      });
    }
    const out = (values as { out?: string }).out ?? config.riskCalibration.path;
    return withCohortErrors(cohortDir, async () => {
      const calibration = await recalibrateCohort({ ...common, out });
      progress(`wrote ${calibration.version} to ${out}: a=${calibration.a.toFixed(4)} b=${calibration.b.toFixed(4)}; calibration slope ${calibration.before.calibrationSlope.toFixed(3)} before, ${calibration.after.calibrationSlope.toFixed(3)} after (in-sample)`);
      console.log(JSON.stringify({ file: out, ...calibration }, null, 2));
      return 0;
    });
  },
};

export default model;
