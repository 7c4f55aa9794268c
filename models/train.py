"""Trains the recovery-risk model and writes recovery-risk.onnx, its card, the calibration plot and
the parity fixtures.

    models/setup-python.sh && models/.venv/bin/python models/train.py

Seeded and reproducible (training-config.json). The training cohort is split by patient into
train and validation; hyperparameters, the calibration and the deployed threshold are chosen on
validation only. The test cohort is generated with its OWN seed and scored once, at the end, for
the card; so are the shifted cohorts.
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

import evaluation as ev
from card_markdown import render as render_card
from cohort_data import prediction_points, read_stays, split_of
from features import FEATURE_NAMES, SPEC, compute_features
from metrics import calibration_fit

HERE = Path(__file__).parent
ROOT = HERE.parent
NAME = "recovery-risk"
VERSION = 2
SEED = 7
SHIFTS = ["low-prevalence", "intermittent-observations", "sicker-baseline", "slower-deterioration"]
# Judged on validation AUROC only.
GRID = [
    {"learning_rate": 0.05, "max_iter": 300, "max_leaf_nodes": 15, "min_samples_leaf": 200},
]
TARGET = (
    "Probability that the patient dies or is escalated to ICU within the next 24 hours, "
    "at a prediction time during the ward stay, given the vitals that had arrived from the last 6 hours "
    "and the patient's NEWS2 profile (SpO2 scale, baseline confusion); not age, admission type or time since admission"
)


def log(message):
    print(f"[train {time.strftime('%H:%M:%S')}] {message}", flush=True)


def write_cohorts(root, names):
    """Writes the named cohorts (cli/training-cohort.ts), two at a time, skipping those already there."""
    pending = [n for n in names if not (root / n / "vitals.csv").exists()]
    running = []
    while pending or running:
        while pending and len(running) < 2:
            name = pending.pop(0)
            log(f"writing cohort {name}")
            running.append((name, subprocess.Popen(["npx", "node", str(ROOT / "cli" / "training-cohort.ts"), name, str(root / name)], cwd=ROOT, stdout=subprocess.DEVNULL)))
        name, process = running.pop(0)
        if process.wait() != 0:
            raise SystemExit(f"cohort {name} failed")


def featurize(points):
    """Rows, labels, NEWS2 scores (on the patient's profile), patient ids."""
    news2_index = FEATURE_NAMES.index("news2.score")
    X = np.vstack([compute_features(p.now, p.readings, p.stay.spo2_scale, p.stay.baseline_confusion) for p in points])
    y = np.array([p.label for p in points], dtype=np.int64)
    return X.astype(np.float64), y, X[:, news2_index].astype(np.float64), np.array([p.patient_id for p in points])


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


def stay_list(points):
    return list({id(p.stay): p.stay for p in points}.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohort-root", help="directory holding (or to hold) the cohorts: training/, test/, one per shift; kept for reruns")
    parser.add_argument("--out", default=str(HERE), help="where to write the model, card and fixtures (default models/)")
    parser.add_argument("--smoke", action="store_true", help="a tiny grid and bootstrap, to check the pipeline end to end quickly")
    args = parser.parse_args()
    out = Path(args.out)
    started = time.time()
    grid = [dict(GRID[0], max_iter=10)] if args.smoke else GRID
    config = json.loads((HERE / "training-config.json").read_text())
    resamples = 20 if args.smoke else config["bootstrap"]["resamples"]
    rng = np.random.default_rng(SEED)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.cohort_root or tmp)
        write_cohorts(root, ["training", "test"])
        shift_writer = subprocess.Popen([sys.executable, "-c", "import sys; sys.path.insert(0, %r); import train; from pathlib import Path; train.write_cohorts(Path(%r), train.SHIFTS)" % (str(HERE), str(root))])

        training_stays = read_stays(root / "training")
        points = list(prediction_points(training_stays, config))
        by_split = {s: [p for p in points if split_of(p.patient_id, config) == s] for s in ("train", "validation")}
        log(f"training cohort: {len(training_stays)} stays, {len(points)} prediction points")
        X_tr, y_tr, n2_tr, _ = featurize(by_split["train"])
        X_va, y_va, n2_va, _ = featurize(by_split["validation"])
        log(f"features: train {X_tr.shape}, validation {X_va.shape}; positives {y_tr.mean():.4f}/{y_va.mean():.4f}")

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
        # NEWS2 as a probability (for its Brier score and calibration): a logistic map of the score fitted on train.
        news2_map = LogisticRegression().fit(n2_tr.reshape(-1, 1), y_tr)

        # Deployed threshold, on validation: no more alerts than NEWS2 >= 5 raises on the same
        # points, over the whole stay AND over the first 24 h of it (the early-stay comparison).
        p_va = model.predict_proba(X_va)[:, 1]
        early_va = np.array([p.hours_since_admission <= ev.EARLY_HOURS for p in by_split["validation"]])
        threshold = max(
            ev.threshold_for_alert_count(p_va, int((n2_va >= 5).sum())),
            ev.threshold_for_alert_count(p_va[early_va], int((n2_va[early_va] >= 5).sum())),
        )
        log(f"deployed threshold {threshold:.4f}: validation alerts {(p_va >= threshold).sum()} vs NEWS2>=5 {(n2_va >= 5).sum()}; "
            f"first 24 h {(p_va[early_va] >= threshold).sum()} vs {(n2_va[early_va] >= 5).sum()}")

        onnx_path = out / f"{NAME}.onnx"
        session = export_onnx(model, X_va, onnx_path)
        joblib.dump(model, out / f"{NAME}.sklearn.joblib", compress=3)
        log(f"trained in {time.time() - started:.0f} s; now the test cohort, once")

        # ---- the test cohort: scored once, here ----
        test_stays = read_stays(root / "test")
        test_points = list(prediction_points(test_stays, config))
        X_te, y_te, n2_te, pid_te = featurize(test_points)
        p_te = onnx_probabilities(session, X_te)
        onnx_gap = float(np.max(np.abs(p_te - model.predict_proba(X_te)[:, 1])))
        news2_p_te = news2_map.predict_proba(n2_te.reshape(-1, 1))[:, 1]
        model_metrics, news2_metrics = ev.metrics_with_news2(y_te, p_te, n2_te, news2_p_te)
        log(f"test: model {model_metrics}")
        log(f"test: NEWS2 {news2_metrics}")
        intervals, difference_ci = ev.bootstrap_intervals(
            y_te, {"model": p_te, "news2": news2_p_te}, {"model": p_te, "news2": n2_te}, pid_te, resamples, config["bootstrap"]["seed"]
        )
        model_metrics["ci95"] = intervals["model"]
        news2_metrics["ci95"] = intervals["news2"]
        difference = {"auroc": round(model_metrics["auroc"] - news2_metrics["auroc"], 4), "ci95": {"auroc": difference_ci}}
        log(f"bootstrap done: difference {difference}")
        included = [s for s in test_stays if s.outcome != "expected_death"]
        burden = [
            ev.alert_burden("model", p_te, threshold, test_points, included),
            ev.alert_burden("news2>=5", n2_te, 5, test_points, included),
            ev.alert_burden("news2>=7", n2_te, 7, test_points, included),
        ]
        early = {
            "model": ev.early_stay(p_te, threshold, test_points, included, "model"),
            "news2>=5": ev.early_stay(n2_te, 5, test_points, included, "news2>=5"),
        }
        early["holds"] = bool(
            early["model"]["sensitivity"] >= early["news2>=5"]["sensitivity"]
            and early["model"]["alertsPer100PatientDays"] <= early["news2>=5"]["alertsPer100PatientDays"]
        )
        groups = ev.subgroups(test_points, y_te, p_te, n2_te)
        bins = {"model": ev.calibration_bins(y_te, p_te), "NEWS2 (logistic map)": ev.calibration_bins(y_te, news2_p_te)}
        (out / f"{NAME}.calibration.svg").write_text(ev.calibration_svg(bins, "recovery-risk: calibration on the test cohort"))

        shift_writer.wait()
        shifts = []
        for name in SHIFTS:
            shift_stays = read_stays(root / name)
            shift_points = list(prediction_points(shift_stays, config))
            X_s, y_s, n2_s, _ = featurize(shift_points)
            p_s = onnx_probabilities(session, X_s)
            n2p_s = news2_map.predict_proba(n2_s.reshape(-1, 1))[:, 1]
            m_s, n_s = ev.metrics_with_news2(y_s, p_s, n2_s, n2p_s)
            events = sum(1 for s in shift_stays if s.event_at is not None)
            shifts.append({
                "name": name,
                "seed": config["shiftCohorts"]["seeds"][name],
                "admissions": len(shift_stays),
                "eventAdmissions": events,
                "predictionPoints": len(y_s),
                "positivePredictionPoints": int(y_s.sum()),
                "model": {**m_s, "meanPredicted": round(float(p_s.mean()), 4), "observedRate": round(float(y_s.mean()), 4)},
                "news2": n_s,
            })
            log(f"shift {name}: model AUROC {m_s['auroc']}, slope {m_s['calibrationSlope']}, NEWS2 AUROC {n_s['auroc']}")

    test_events = sum(1 for s in test_stays if s.event_at is not None)
    card = {
        "name": NAME,
        "version": VERSION,
        "target": TARGET,
        "horizonHours": config["horizonHours"],
        "predictionTimes": config["predictionTimes"],
        "deployedThreshold": round(threshold, 6),
        "testSet": {
            "seed": config["testCohort"]["seed"],
            "admissions": len(test_stays),
            "eventAdmissions": test_events,
            "expectedDeathsExcluded": sum(1 for s in test_stays if s.outcome == "expected_death"),
            "patients": len(set(pid_te)),
            "positives": len({pid for pid, y in zip(pid_te, y_te) if y}),
            "predictionPoints": int(len(y_te)),
            "positivePredictionPoints": int(y_te.sum()),
            "scoredOnce": True,
        },
        "metrics": {"model": model_metrics, "news2": news2_metrics, "difference": difference},
        "bootstrap": {"unit": "patient", "resamples": resamples, "seed": config["bootstrap"]["seed"], "interval": "percentile 2.5-97.5"},
        "alertDefinition": "An alert is a prediction point (every 4 h of ward time, from 6 h after admission) whose score is at or above the rule's threshold. alertsPer100PatientDays = alerts / ward days of the stays with prediction points x 100. sensitivity = share of event patients (with at least one prediction point in the 24 h before the event) alerted at one of those points; medianLeadHours = event time minus that patient's first such alert, median over alerted event patients.",
        "alertBurden": burden,
        "earlyStay": early,
        "subgroups": groups,
        "calibration": {"plot": f"{NAME}.calibration.svg", "bins": bins},
        "shifts": shifts,
        "data": {
            "source": "simulators/ generateCohort (simulated ward; simulators/README.md, simulators/PHYSIOLOGY.md). Simulated data only, not validated on any real ward.",
            "trainingCohort": config["cohort"],
            "testCohort": config["testCohort"],
            "split": config["split"],
            "predictionPoints": {"train": len(y_tr), "validation": len(y_va), "test": int(len(y_te))},
            "positiveRate": {"train": round(float(y_tr.mean()), 4), "validation": round(float(y_va.mean()), 4), "test": round(float(y_te.mean()), 4)},
            "trainingEventAdmissions": sum(1 for s in training_stays if s.event_at is not None),
        },
        "training": {
            "estimator": "HistGradientBoostingClassifier, sigmoid-calibrated (CalibratedClassifierCV on the validation split)",
            "hyperparameters": params,
            "grid": grid,
            "validationAuroc": round(validation_auroc, 4),
            "seed": SEED,
            "seconds": round(time.time() - started),
            "requirements": [r for r in (HERE / "requirements.txt").read_text().split("\n") if r],
            "onnxMaxAbsDiffOnTest": onnx_gap,
        },
        "features": {"file": "models/features.json", "version": SPEC["version"], "count": len(FEATURE_NAMES),
                     "excluded": "age, admission type and time since admission (features v3): none can score severe vitals down"},
        "factors": {
            "method": "occlusion: the probability minus the probability with that factor's readings set to a typical well adult's values (features.json factorReferences), all in one batched run",
            "units": "probability",
            "groups": list(SPEC["factorReferences"].keys()),
        },
        "news2Probability": {"intercept": float(news2_map.intercept_[0]), "slope": float(news2_map.coef_[0][0])},
        "limitations": [
            "Trained and tested on simulated patients only; not validated on any real ward. A hospital should run `vigil model evaluate` on its own data (and `vigil model recalibrate`) before showing it.",
            "Earlier model versions (1) were checked against an earlier test split of the training seed several times during development; this version's test cohort has its own seed and was scored once, by this run.",
            "NEWS2 here is scored, like the model, on the newest observation set that had arrived within the 6 h before the prediction time; with 8-12-hourly observation of well patients about a quarter of points have none and score NEWS2 0. Per observation set, as Smith 2013 computed it, NEWS2 discriminates much better on this simulator (simulators/PHYSIOLOGY.md), so the AUROCs here are not comparable with published per-set figures.",
            "Probabilities are calibrated to the simulated training prevalence; the shift table shows how far they move when prevalence, observation frequency or case mix change.",
            "Not a diagnostic device; a prompt for a clinician's review.",
        ],
    }
    (out / f"{NAME}.card.json").write_text(json.dumps(card, indent=2) + "\n")
    (out / f"{NAME}.card.md").write_text(render_card(card))
    write_parity_fixtures(test_points, rng, out)
    log(f"wrote the model, card, plot and fixtures in {time.time() - started:.0f} s")
    log(f"AUROC difference {difference}; early stay {early}")
    return 0

def write_parity_fixtures(test_points, rng, out):
    """Golden inputs for parity.test.ts: test-cohort prediction points (positives and negatives,
    with their profiles) plus hand-made edge cases (empty window, missing vitals, SpO2 scale 2,
    baseline confusion, same-time readings)."""
    def entry(p):
        readings = [{k: v for k, v in r.items() if k != "receivedAt"} for r in p.readings]
        e = {"now": p.now, "readings": readings}
        if p.stay.spo2_scale == 2:
            e["spo2Scale"] = 2
        if p.stay.baseline_confusion:
            e["baselineConfusion"] = True
        return e

    picks = [test_points[i] for i in rng.choice(len(test_points), size=40, replace=False)]
    picks += [p for p in test_points if p.label][:10]
    inputs = [entry(p) for p in picks]
    base = next(e for e in inputs if len(e["readings"]) >= 2)
    now, readings = base["now"], base["readings"]
    inputs += [
        {"now": now, "readings": []},
        {"now": now, "readings": readings[-1:]},
        {"now": now, "readings": [dict(r, heartRate=None, spo2=None, onOxygen=None, consciousness=None) for r in readings]},
        {"now": now, "readings": [dict(r, consciousness="V", onOxygen=True, spo2=86) for r in readings], "spo2Scale": 2},
        {"now": now, "readings": [dict(r, consciousness="C") for r in readings], "baselineConfusion": True},
        {"now": now, "readings": [dict(r, consciousness="C") for r in readings]},
        {"now": now, "readings": [dict(r, observedAt=now) for r in readings[-2:]]},
    ]
    fixtures = out / "fixtures"
    fixtures.mkdir(exist_ok=True)
    (fixtures / "parity-inputs.json").write_text(json.dumps(inputs) + "\n")


if __name__ == "__main__":
    warnings.filterwarnings("ignore", category=FutureWarning)
    sys.exit(main())
