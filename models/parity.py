"""Training-stack side of parity.test.ts: reads feature inputs (JSON list on stdin), writes the
Python features (float32) and the sklearn model's probabilities for them (JSON on stdout)."""

import json
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np

from features import compute_features


def main():
    inputs = json.load(sys.stdin)
    rows = np.vstack([compute_features(i["now"], i["readings"], i.get("spo2Scale", 1), i.get("baselineConfusion", False)) for i in inputs])
    model_path = Path(__file__).parent / (sys.argv[1] if len(sys.argv) > 1 else "recovery-risk.sklearn.joblib")
    model = joblib.load(model_path)
    probabilities = model.predict_proba(rows.astype(np.float64))[:, 1]
    json.dump({"features": rows.astype(float).tolist(), "probabilities": probabilities.tolist()}, sys.stdout)


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    main()
