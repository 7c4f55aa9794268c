"""The model card's metrics (models/README.md defines them; model-metrics.ts computes the same)."""

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def calibration_fit(y, p, iterations=50):
    """Logistic recalibration y ~ a + b·logit(p) by Newton's method: (intercept a, slope b).

    A well-calibrated model has slope 1 and intercept 0; slope < 1 means predictions too extreme.
    """
    eps = 1e-12
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    x = np.log(p / (1 - p))
    design = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    for _ in range(iterations):
        mu = 1 / (1 + np.exp(-(design @ beta)))
        gradient = design.T @ (np.asarray(y) - mu)
        hessian = (design * (mu * (1 - mu))[:, None]).T @ design
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    return float(beta[0]), float(beta[1])


def probability_metrics(y, p):
    intercept, slope = calibration_fit(y, p)
    return {
        "auroc": float(roc_auc_score(y, p)),
        "auprc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "calibrationSlope": slope,
        "calibrationIntercept": intercept,
    }
