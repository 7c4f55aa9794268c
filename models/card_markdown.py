"""Writes <name>.card.md (for people) from <name>.card.json (for machines), so the two never disagree.

    models/.venv/bin/python models/card_markdown.py [models/recovery-risk.card.json]
"""

import json
import sys
from pathlib import Path


def fmt(value, digits=3):
    if value is None:
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def ci(interval, digits=3):
    return f"{interval[0]:.{digits}f} to {interval[1]:.{digits}f}" if interval else "—"


def pct(value):
    return "—" if value is None else f"{100 * value:.1f} %"


def render(card):
    m, n, diff = card["metrics"]["model"], card["metrics"]["news2"], card["metrics"]["difference"]
    t, d, tr, boot = card["testSet"], card["data"], card["training"], card["bootstrap"]
    rows = [("AUROC", "auroc"), ("AUPRC", "auprc"), ("Brier score", "brier"), ("Calibration slope", "calibrationSlope"), ("Calibration intercept", "calibrationIntercept")]
    digits = {"brier": 4}
    table = "\n".join(
        f"| {label} | {fmt(m[key], digits.get(key, 3))} ({ci(m['ci95'].get(key), digits.get(key, 3))}) | "
        f"{fmt(n.get(key), digits.get(key, 3))} ({ci(n['ci95'].get(key), digits.get(key, 3))}) |"
        for label, key in rows
    )
    burden = "\n".join(
        f"| {b['rule']} | {fmt(b['threshold'], 4)} | {b['alertsPer100PatientDays']:.1f} | {pct(b['sensitivity'])} of {b['eventPatients']} | {fmt(b['medianLeadHours'], 1)} h |"
        for b in card["alertBurden"]
    )
    e = card["earlyStay"]
    early = "\n".join(
        f"| {rule} | {pct(e[rule]['sensitivity'])} of {e[rule]['positivePoints']} | {e[rule]['alertsPer100PatientDays']:.1f} |" for rule in ("model", "news2>=5")
    )
    caught = e["model"]["sensitivity"] >= e["news2>=5"]["sensitivity"]
    quieter = e["model"]["alertsPer100PatientDays"] <= e["news2>=5"]["alertsPer100PatientDays"]
    early_verdict = (
        "**Holds** on this test cohort: the model at its deployed threshold catches at least as many early positive points as NEWS2 ≥ 5, with no more alerts."
        if e["holds"]
        else "**Does NOT hold** on this test cohort: the model at its deployed threshold "
        + ("catches at least as many early positive points as NEWS2 ≥ 5" if caught else "catches FEWER early positive points than NEWS2 ≥ 5")
        + (" and raises no more alerts." if quieter else " but raises MORE alerts in the first 24 h.")
        + " Do not rely on the model alone early in a stay; NEWS2 ≥ 5 stays the early trigger."
    )
    groups = "\n".join(
        f"| {g['name']} | {g['n']} | {g['patients']} | {g['positives']} | {fmt(g['model']['auroc'])} | {fmt(g['news2']['auroc'])} |" for g in card["subgroups"]
    )
    shifts = "\n".join(
        f"| {s['name']} | {s['seed']} | {s['admissions']} ({s['eventAdmissions']} with an event) | {fmt(s['model']['auroc'])} | {fmt(s['news2']['auroc'])} | "
        f"{fmt(s['model']['calibrationSlope'])} | {fmt(s['model']['meanPredicted'], 4)} vs {fmt(s['model']['observedRate'], 4)} |"
        for s in card["shifts"]
    )
    limitations = "\n".join(f"- {item}" for item in card["limitations"])
    pt = card["predictionTimes"]
    verdict = (
        f"The model's AUROC is {fmt(diff['auroc'])} above NEWS2's (95 % interval {ci(diff['ci95']['auroc'])})"
        + ("; the interval excludes 0." if diff["ci95"]["auroc"][0] > 0 else "; the interval includes 0: **no demonstrated advantage over NEWS2** on this cohort." if diff["ci95"]["auroc"][1] >= 0 else "; the model is WORSE than NEWS2 on this cohort.")
    )
    return f"""# Model card: {card['name']}@{card['version']}

*Generated from `{card['name']}.card.json` by `card_markdown.py`; the JSON is authoritative and
`recovery-risk.card.test.ts` re-checks its numbers from the committed `{card['name']}.onnx` in CI.*

> **Trained and tested on simulated patients only. Not validated on any real ward.** Before a
> hospital shows this score it should evaluate it on its own data (`vigil model evaluate`) and
> recalibrate it (`vigil model recalibrate`), ideally in a silent trial (`VIGIL_RISK_MODE=silent`).

## What it predicts

**Target.** {card['target']}.

- **Prediction times:** {pt['firstAfterHours']} h after admission, then every {pt['everyHours']} h while the
  patient is on the ward (before the event or discharge). The window holds the readings that had
  **arrived** by then (`received_at` ≤ t) observed in the last 6 h, as the server sees them.
- **Horizon:** {card['horizonHours']} h. Positive when the event (death or ICU escalation) happens in
  (t, t + {card['horizonHours']} h]; a discharge counts as no event. Stays ending in an expected death under
  palliative care are left out (no prediction points; {t['expectedDeathsExcluded']} in the test cohort).
- **Inputs:** vitals only (windows of 1 h and 6 h, NEWS2 and its components on the patient's SpO2
  scale and recorded baseline confusion). **Not** age, admission type or time since admission:
  severe vitals are never scored down because the stay is young or the patient is of a given
  age or admission type.
- **Output:** the calibrated probability, 0–1, served as `risk.score`. Deployed alert threshold:
  **{card['deployedThreshold']:.4f}**, chosen on the validation split as the lowest threshold at
  which the model raises no more alerts than NEWS2 ≥ 5 on the same prediction points, both over
  whole stays and over the first 24 h of stays.

## Data

Simulated: {d['source']}

- Training cohort: seed {d['trainingCohort']['seed']}, {d['trainingCohort']['admissions']} admissions
  ({d['trainingEventAdmissions']} with an event), split by patient into train / validation
  ({d['predictionPoints']['train']} / {d['predictionPoints']['validation']} prediction points; positive rate
  {d['positiveRate']['train']:.4f} / {d['positiveRate']['validation']:.4f}). The grid, the calibration and the
  deployed threshold saw validation only.
- **Test cohort: its own seed {t['seed']}**, {t['admissions']} admissions ({t['eventAdmissions']} with an event),
  {t['patients']} patients with prediction points, {t['positives']} of them with a positive point;
  {t['predictionPoints']} prediction points, {t['positivePredictionPoints']} positive. **Scored once**, by the
  training run that wrote this card.

## Performance on the test cohort

95 % intervals from a **patient-level bootstrap** ({boot['resamples']} resamples of patients with replacement, seed {boot['seed']}).
NEWS2 is scored on the patient's profile (SpO2 scale 2 where prescribed; baseline confusion scores 0);
its AUROC and AUPRC rank by the raw score, its Brier and calibration use a logistic map of the score
fitted on the training split.

| | model (95 % CI) | NEWS2 (95 % CI) |
| --- | --- | --- |
{table}

{verdict}

Calibration plot (observed event rate against mean predicted risk, deciles of predictions; with
under 1 % of points positive, nine deciles sit below 1 % risk and the top decile carries the
alerts; the bins are in the JSON, `calibration.bins`):
[{card['calibration']['plot']}]({card['calibration']['plot']})

![calibration]({card['calibration']['plot']})

## Alert burden

{card['alertDefinition']}

| rule | threshold | alerts / 100 patient-days | event patients alerted | median lead |
| --- | --- | --- | --- | --- |
{burden}

## Early in the stay (first 24 h)

Positive prediction points in the first 24 h of a stay: the share each rule catches, and the rule's
alerts among all prediction points of the first 24 h per 100 patient-days of first-24-h ward time.

| rule | positive points caught | alerts / 100 patient-days (first 24 h) |
| --- | --- | --- |
{early}

{early_verdict}

## Subgroups

n = prediction points; AUROC "—" where a subgroup has no positive (or no negative) point.

| subgroup | n | patients | positive points | model AUROC | NEWS2 AUROC |
| --- | --- | --- | --- | --- | --- |
{groups}

## Distribution shift

Each shifted cohort is generated with its own seed (simulators/shift-presets.ts `COHORT_SHIFTS`)
and scored with the same model, not recalibrated. A calibration slope far from 1, or mean predicted
far from observed, means the probabilities do not carry over: recalibrate locally.

| shift | seed | admissions | model AUROC | NEWS2 AUROC | model calibration slope | mean predicted vs observed |
| --- | --- | --- | --- | --- | --- | --- |
{shifts}

## Training

`{tr['estimator']}`; hyperparameters `{json.dumps(tr['hyperparameters'])}` (validation AUROC
{tr['validationAuroc']:.4f}); seed {tr['seed']}; {tr['seconds']} s on 2 shared cores. ONNX scores differ from
scikit-learn's by at most {tr['onnxMaxAbsDiffOnTest']:.1e} on the test rows. Features v{card['features']['version']}
({card['features']['count']}, `{card['features']['file']}`).

Factors: {card['factors']['method']}.

## Limitations

{limitations}
"""


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "recovery-risk.card.json")
    card = json.loads(path.read_text())
    path.with_name(path.name.replace(".card.json", ".card.md")).write_text(render(card))
