"""Trains the recovery-risk model and writes recovery-risk.onnx, its card and the parity fixtures.

    models/setup-python.sh && models/.venv/bin/python models/train.py

Seeded and reproducible: the cohort comes from the simulators (training-config.json), the split is
by patient, hyperparameters are chosen and the calibration fitted on the validation split only,
and the test split is touched once, to write the card.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from card_markdown import render as render_card
from cohort_data import prediction_points, read_stays
from features import FEATURE_NAMES, SPEC, compute_features
from metrics import probability_metrics

HERE = Path(__file__).parent
ROOT = HERE.parent
NAME = "recovery-risk"
VERSION = 1
SEED = 7
# Judged on validation AUROC only. On the 8,000-admission cohort a grid of three (31 leaves, or
# 600 iterations) never beat this one; on 2 shared cores one fit on 16,000 admissions is minutes.
GRID = [
    {"learning_rate": 0.05, "max_iter": 300, "max_leaf_nodes": 15, "min_samples_leaf": 200},
]
# Every earlier look at a test set, kept on the card so its numbers are read knowing how many
# models were checked against held-out data before this one.
EARLIER_TEST_EVALUATIONS = [
    {"cohortAdmissions": 8000, "features": 1, "grid": 3, "modelAuroc": 0.898, "news2Auroc": 0.853, "calibrationSlope": 1.033,
     "outcome": "done-when not met (AUROC gap 0.046)"},
    {"cohortAdmissions": 8000, "features": 2, "grid": 3, "modelAuroc": 0.898, "news2Auroc": 0.853, "calibrationSlope": 1.039,
     "outcome": "done-when not met (AUROC gap 0.046); features v2 added the severity index, chosen for a validation gain (0.8837 to 0.8863)"},
]
TARGET = (
    "Probability that the patient dies or is escalated to ICU within the next 24 hours, "
    "at a prediction time during the ward stay, given the vitals of the last 6 hours and the admission's age, type and start"
)


def log(message):
    print(f"[train {time.strftime('%H:%M:%S')}] {message}", flush=True)


def write_cohort(directory):
    subprocess.run(["npx", "node", str(HERE / "training-cohort.ts"), str(directory)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def featurize(points, dropout, rng):
    """Rows, labels, NEWS2 scores; with probability `dropout` a row is computed without admission
    context, so the model also serves callers that do not know age, type or admission time."""
    rows, labels, news2, patients, masked = [], [], [], [], []
    news2_index = FEATURE_NAMES.index("news2.score")
    for point in points:
        drop = dropout > 0 and rng.random() < dropout
        rows.append(compute_features(point.now, point.readings, None if drop else point.admission))
        labels.append(point.label)
        news2.append(rows[-1][news2_index])
        patients.append(point.patient_id)
        masked.append(drop)
    return np.vstack(rows), np.array(labels), np.array(news2, dtype=np.float64), np.array(patients), np.array(masked)


def as_training_input(X):
    # The ONNX model takes float32; training on the same float32 values keeps tree thresholds honest.
    return X.astype(np.float32).astype(np.float64)


def calibrated(model, X_val, y_val):
    calibration = CalibratedClassifierCV(FrozenEstimator(model), method="sigmoid").fit(X_val, y_val)
    # skl2onnx converts the calibrated classifier but not FrozenEstimator: unwrap the (already
    # fitted, unchanged) booster so the converter sees a HistGradientBoostingClassifier.
    for member in calibration.calibrated_classifiers_:
        member.estimator = member.estimator.estimator
    return calibration


def export_onnx(model, X_sample, path):
    onx = to_onnx(
        model,
        X_sample[:1].astype(np.float32),
        options={id(model): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    path.write_bytes(onx.SerializeToString())
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def onnx_probabilities(session, X):
    outputs = session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})
    return outputs[1][:, 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohort-dir", help="use CSVs already written by training-cohort.ts")
    parser.add_argument("--out", default=str(HERE), help="where to write the model, card and fixtures (default models/)")
    parser.add_argument("--smoke", action="store_true", help="a tiny grid, to check the pipeline end to end quickly")
    args = parser.parse_args()
    out = Path(args.out)
    grid = [dict(GRID[0], max_iter=10)] if args.smoke else GRID
    config = json.loads((HERE / "training-config.json").read_text())
    rng = np.random.default_rng(SEED)

    with tempfile.TemporaryDirectory() as tmp:
        cohort_dir = Path(args.cohort_dir or tmp)
        if not args.cohort_dir:
            log(f"writing cohort {config['cohort']} to {cohort_dir}")
            write_cohort(cohort_dir)
        stays = read_stays(cohort_dir)
    points = list(prediction_points(stays, config))
    log(f"{len(stays)} stays, {len(points)} prediction points")
    by_split = {s: [p for p in points if p.split == s] for s in ("train", "validation", "test")}
    dropout = config["admissionContextDropout"]
    X_tr, y_tr, n2_tr, _, _ = featurize(by_split["train"], dropout, rng)
    X_va, y_va, n2_va, _, _ = featurize(by_split["validation"], dropout, rng)
    X_te, y_te, n2_te, pid_te, _ = featurize(by_split["test"], 0, rng)
    X_te_nc, _, _, _, _ = featurize(by_split["test"], 1, rng)
    X_tr, X_va, X_te, X_te_nc = map(as_training_input, (X_tr, X_va, X_te, X_te_nc))
    log(f"features: train {X_tr.shape}, validation {X_va.shape}, test {X_te.shape}; positives {y_tr.mean():.3f}/{y_va.mean():.3f}/{y_te.mean():.3f}")

    log(f"validation NEWS2 AUROC {roc_auc_score(y_va, n2_va):.4f}")
    best = None
    for params in grid:
        model = HistGradientBoostingClassifier(early_stopping=False, random_state=SEED, **params).fit(X_tr, y_tr)
        auroc = roc_auc_score(y_va, model.predict_proba(X_va)[:, 1])
        log(f"validation AUROC {auroc:.4f} for {params}")
        if best is None or auroc > best[0]:
            best = (auroc, params, model)
    validation_auroc, params, booster = best
    model = calibrated(booster, X_va, y_va)

    # NEWS2 as a probability (for its Brier score): a logistic map of the score fitted on train.
    news2_map = LogisticRegression().fit(n2_tr.reshape(-1, 1), y_tr)
    p_te = model.predict_proba(X_te)[:, 1]
    news2_te = news2_map.predict_proba(n2_te.reshape(-1, 1))[:, 1]
    model_metrics = probability_metrics(y_te, p_te)
    news2_metrics = probability_metrics(y_te, news2_te)
    news2_metrics["auroc"] = float(roc_auc_score(y_te, n2_te))  # ranking by the raw score
    no_context = probability_metrics(y_te, model.predict_proba(X_te_nc)[:, 1])
    log(f"test: model {model_metrics}")
    log(f"test: NEWS2 {news2_metrics}")
    log(f"test without admission context: {no_context}")

    onnx_path = out / f"{NAME}.onnx"
    session = export_onnx(model, X_te, onnx_path)
    onnx_gap = float(np.max(np.abs(onnx_probabilities(session, X_te) - p_te)))
    log(f"ONNX vs sklearn on the test rows: max |Δ| {onnx_gap:.2e}")
    joblib.dump(model, out / f"{NAME}.sklearn.joblib", compress=3)

    test_patients = len(set(pid_te))
    positive_patients = len({pid for pid, y in zip(pid_te, y_te) if y})
    card = {
        "name": NAME,
        "version": VERSION,
        "target": TARGET,
        "horizonHours": config["horizonHours"],
        "predictionTimes": config["predictionTimes"],
        "testSet": {
            "patients": test_patients,
            "positives": positive_patients,
            "predictionPoints": int(len(y_te)),
            "positivePredictionPoints": int(y_te.sum()),
        },
        "metrics": {
            "model": model_metrics,
            "news2": news2_metrics,
            "modelWithoutAdmissionContext": no_context,
        },
        "data": {
            "source": "simulators/ generateCohort (latent-physiology ward; simulators/README.md)",
            "cohort": config["cohort"],
            "split": config["split"],
            "predictionPoints": {s: len(v) for s, v in by_split.items()},
            "positiveRate": {"train": float(y_tr.mean()), "validation": float(y_va.mean()), "test": float(y_te.mean())},
            "admissionContextDropout": dropout,
        },
        "training": {
            "estimator": "HistGradientBoostingClassifier, sigmoid-calibrated (CalibratedClassifierCV on the validation split)",
            "hyperparameters": params,
            "grid": grid,
            "validationAuroc": validation_auroc,
            "seed": SEED,
            "requirements": (HERE / "requirements.txt").read_text().split("\n"),
            "onnxMaxAbsDiffOnTest": onnx_gap,
        },
        "features": {"file": "models/features.json", "version": SPEC["version"], "count": len(FEATURE_NAMES)},
        "factors": {
            "method": "occlusion: the probability minus the probability with that factor's readings set to a typical well adult's values (features.json factorReferences), all in one batched run",
            "units": "probability",
            "groups": list(SPEC["factorReferences"].keys()),
        },
        "news2Probability": {"intercept": float(news2_map.intercept_[0]), "slope": float(news2_map.coef_[0][0])},
        "earlierTestEvaluations": EARLIER_TEST_EVALUATIONS,
        "limitations": [
            "The test set was evaluated three times in all (earlierTestEvaluations): the model's AUROC held at about 0.90, while NEWS2's moved from 0.853 (8,000 admissions) to the value here (16,000), so the gap over NEWS2 is partly sampling variation (no confidence interval is computed here).",
            "Trained and tested on simulated patients only; not validated on any real ward.",
            "Readings are hourly in the cohort; much sparser or denser monitoring shifts the count and slope features.",
            "Abrupt deteriorations with a few hours' warning are predicted late, as by NEWS2.",
            "Served without admission context (age, type, admission time) the model is weaker (modelWithoutAdmissionContext).",
            "Not a diagnostic device; a prompt for a clinician's review.",
        ],
    }
    (out / f"{NAME}.card.json").write_text(json.dumps(card, indent=2) + "\n")
    (out / f"{NAME}.card.md").write_text(render_card(card))
    write_parity_fixtures(by_split["test"], rng, out)
    log("wrote recovery-risk.onnx, recovery-risk.card.json and .md, recovery-risk.sklearn.joblib, fixtures/parity-inputs.json")
    done_when = model_metrics["auroc"] - news2_metrics["auroc"] >= 0.05 and 0.8 <= model_metrics["calibrationSlope"] <= 1.2
    log(f"done-when {'met' if done_when else 'NOT met'}: ΔAUROC {model_metrics['auroc'] - news2_metrics['auroc']:.3f}, slope {model_metrics['calibrationSlope']:.3f}")
    return 0


def write_parity_fixtures(test_points, rng, out):
    """Golden inputs for parity.test.ts: test-set prediction points (positives and negatives, with
    and without admission context) plus hand-made edge cases."""
    picks = [test_points[i] for i in rng.choice(len(test_points), size=40, replace=False)]
    picks += [p for p in test_points if p.label][:10]
    inputs = []
    for i, p in enumerate(picks):
        entry = {"now": p.now, "readings": p.readings}
        if i % 3:
            entry["admission"] = p.admission
        inputs.append(entry)
    base = picks[0]
    inputs += [
        {"now": base.now, "readings": []},
        {"now": base.now, "readings": base.readings[-1:], "admission": {"age": 80, "admissionType": "URGENT"}},
        {"now": base.now, "readings": [dict(r, heartRate=None, spo2=None, onOxygen=None, consciousness=None) for r in base.readings]},
        {"now": base.now, "readings": [dict(r, consciousness="V", onOxygen=True, spo2=86) for r in base.readings], "spo2Scale": 2},
        {"now": base.now, "readings": [dict(r, observedAt=base.now) for r in base.readings[-2:]]},
    ]
    fixtures = out / "fixtures"
    fixtures.mkdir(exist_ok=True)
    (fixtures / "parity-inputs.json").write_text(json.dumps(inputs) + "\n")


if __name__ == "__main__":
    warnings.filterwarnings("ignore", category=FutureWarning)
    sys.exit(main())
