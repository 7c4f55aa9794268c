"""Writes <name>.card.md (for people) from <name>.card.json (for machines), so the two never disagree.

    models/.venv/bin/python models/card_markdown.py [models/recovery-risk.card.json]
"""

import json
import sys
from pathlib import Path


def fmt(value):
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def render(card):
    m, n, nc = card["metrics"]["model"], card["metrics"]["news2"], card["metrics"].get("modelWithoutAdmissionContext")
    t, d, tr = card["testSet"], card["data"], card["training"]
    rows = [("AUROC", "auroc"), ("AUPRC", "auprc"), ("Brier score", "brier"), ("Calibration slope", "calibrationSlope"), ("Calibration intercept", "calibrationIntercept")]
    table = "\n".join(
        f"| {label} | {fmt(m[key])} | {fmt(n[key]) if key in n else '—'} | {fmt(nc[key]) if nc else '—'} |" for label, key in rows
    )
    limitations = "\n".join(f"- {item}" for item in card["limitations"])
    pt = card["predictionTimes"]
    earlier = "\n".join(
        f"- {e['cohortAdmissions']} admissions, features v{e['features']}, grid of {e['grid']}: model AUROC {e['modelAuroc']}, NEWS2 {e['news2Auroc']}, slope {e['calibrationSlope']}: {e['outcome']}."
        for e in card.get("earlierTestEvaluations", [])
    ) or "None."
    return f"""# Model card: {card['name']}@{card['version']}

*Generated from `{card['name']}.card.json` by `card_markdown.py`; the JSON is authoritative and
`recovery-risk.card.test.ts` re-checks its numbers from the committed `{card['name']}.onnx` in CI.*

## What it predicts

**Target.** {card['target']}.

- **Prediction times:** {pt['firstAfterHours']} h after admission, then every {pt['everyHours']} h while the
  patient is on the ward (before the event or discharge). In the product the model is evaluated
  whenever new vitals arrive, on the same 6-hour window.
- **Horizon:** {card['horizonHours']} h. Positive when the event (death or ICU escalation) happens in
  (t, t + {card['horizonHours']} h]; a discharge counts as no event.
- **Output:** the calibrated probability, 0–1, served as `risk.score`.

## Data

Simulated, not real: `{d['source']}`, {d['cohort']['admissions']} admissions, seed
{d['cohort']['seed']}, device faults `{d['cohort']['faults']}` (dropped fields, duplicates, late and
malformed readings, °F thermometers). Outcomes are decided by a hidden severity process, never by a
measured vital, so no feature can copy the label. Split **by patient** (hash of the patient id):
{d['predictionPoints']['train']} / {d['predictionPoints']['validation']} / {d['predictionPoints']['test']}
prediction points in train / validation / test; positive rate
{d['positiveRate']['train']:.3f} / {d['positiveRate']['validation']:.3f} / {d['positiveRate']['test']:.3f}.

**Test set:** {t['patients']} patients, of whom {t['positives']} have at least one positive prediction
time; {t['predictionPoints']} prediction points, {t['positivePredictionPoints']} positive.

## Features

{card['features']['count']} features declared once in `models/features.json` (version
{card['features']['version']}), computed by `features.ts` for serving and `features.py` for training
(a parity test checks they agree to 1e-6 and that served ONNX scores equal scikit-learn's to 1e-5).
Only data observed up to the prediction time is used: for heart rate, respiratory rate, systolic
and diastolic pressure, temperature and SpO2, the last, mean, min, max, least-squares slope and
count over the last 1 h and 6 h, and hours since the last value; oxygen and consciousness (last and
over 6 h); NEWS2 and its seven components on the latest vitals; age, admission type and hours
since admission with missing flags. In training, {d['admissionContextDropout']:.0%} of the train and
validation rows were computed without the admission context, so the model also serves callers
that do not know it.

## Model

{tr['estimator']}; hyperparameters {json.dumps(tr['hyperparameters'])} chosen from a grid of
{len(tr['grid'])} on validation AUROC ({tr['validationAuroc']:.3f}); seed {tr['seed']}. Exported with
skl2onnx (largest |ONNX − scikit-learn| on the test rows: {tr['onnxMaxAbsDiffOnTest']:.1e}).

## Results on the held-out test set

| metric | model | NEWS2 | model without admission context |
| --- | --- | --- | --- |
{table}

NEWS2 is the score on the latest vitals of the same window (SpO2 scale 1). Its AUROC ranks by the
raw score; its AUPRC and Brier use the score mapped to a probability by a logistic fit on the
training split (intercept {card['news2Probability']['intercept']:.3f}, slope {card['news2Probability']['slope']:.3f}).
The calibration slope and intercept come from the logistic fit y ~ a + b·logit(p) (ideal: 1 and 0).

**Model AUROC − NEWS2 AUROC = {m['auroc'] - n['auroc']:+.3f}.**

## Earlier test evaluations

{earlier}

## Factors

{card['factors']['method']}. Units: {card['factors']['units']}. Factors:
{', '.join(card['factors']['groups'])}. Occlusion was chosen over per-feature attributions because
each vital feeds a dozen correlated features (windows, slopes, NEWS2 component) and a clinician
asks about the vital, not the feature; it costs one extra row per factor in the same batched
`session.run`. The top 3 positive contributions are served.

## Limitations

{limitations}
"""


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "recovery-risk.card.json"
    card = json.loads(path.read_text())
    path.with_name(path.name.replace(".card.json", ".card.md")).write_text(render(card))


if __name__ == "__main__":
    main()
