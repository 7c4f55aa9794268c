"""The card's evaluation: patient-level bootstrap intervals, alert burden, early-stay comparison,
subgroups, calibration plot. train.py calls it once on the test cohort (and on each shift cohort);
models/README.md defines every figure.
"""

import numpy as np
from sklearn.metrics import roc_auc_score

from cohort_data import HOUR_MS, patient_days
from metrics import calibration_fit, probability_metrics

EARLY_HOURS = 24


class _Ranked:
    """One score vector sorted once, so weighted AUROC/AUPRC per resample are O(n) reductions."""

    def __init__(self, scores, y):
        order = np.argsort(scores, kind="mergesort")
        s = scores[order]
        self.order = order
        self.starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        self.y = y[order]

    def groups(self, w):
        w = w[self.order]
        pos = np.add.reduceat(w * self.y, self.starts)
        neg = np.add.reduceat(w * (1 - self.y), self.starts)
        return pos, neg

    def auroc(self, w):
        pos, neg = self.groups(w)
        below = np.cumsum(neg) - neg
        return float(np.sum(pos * (below + 0.5 * neg)) / (pos.sum() * neg.sum()))

    def auprc(self, w):
        pos, neg = self.groups(w)
        pos, neg = pos[::-1], neg[::-1]
        tp = np.cumsum(pos)
        total = np.cumsum(pos + neg)
        recall = tp / tp[-1]
        precision = np.divide(tp, total, out=np.zeros_like(tp), where=total > 0)
        return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _weighted_calibration(x, y, w, beta, iterations=6):
    design = np.column_stack([np.ones_like(x), x])
    beta = np.array(beta, dtype=np.float64)
    for _ in range(iterations):
        mu = 1 / (1 + np.exp(-(design @ beta)))
        gradient = design.T @ (w * (y - mu))
        hessian = (design * (w * mu * (1 - mu))[:, None]).T @ design
        beta += np.linalg.solve(hessian, gradient)
    return beta


def bootstrap_intervals(y, probabilities, rank_scores, patients, resamples, seed):
    """95 % percentile intervals from resampling PATIENTS with replacement (a patient's points move
    together). `probabilities` and `rank_scores` are dicts name -> array; AUROC/AUPRC use the rank
    scores (NEWS2's raw score), Brier and calibration the probabilities. Also the AUROC difference
    of the first two names."""
    y = y.astype(np.float64)
    _, patient_index = np.unique(patients, return_inverse=True)
    n_patients = patient_index.max() + 1
    rng = np.random.default_rng(seed)
    ranked = {name: _Ranked(rank_scores[name], y) for name in probabilities}
    logits = {}
    start = {}
    for name, p in probabilities.items():
        q = np.clip(p, 1e-12, 1 - 1e-12)
        logits[name] = np.log(q / (1 - q))
        a, b = calibration_fit(y, p)
        start[name] = (a, b)
    draws = {name: {k: [] for k in ("auroc", "auprc", "brier", "calibrationSlope", "calibrationIntercept")} for name in probabilities}
    differences = []
    names = list(probabilities)
    for _ in range(resamples):
        counts = np.bincount(rng.integers(0, n_patients, n_patients), minlength=n_patients)
        w = counts[patient_index].astype(np.float64)
        for name, p in probabilities.items():
            d = draws[name]
            d["auroc"].append(ranked[name].auroc(w))
            d["auprc"].append(ranked[name].auprc(w))
            d["brier"].append(float(np.sum(w * (p - y) ** 2) / w.sum()))
            a, b = _weighted_calibration(logits[name], y, w, start[name])
            d["calibrationIntercept"].append(float(a))
            d["calibrationSlope"].append(float(b))
        differences.append(draws[names[0]]["auroc"][-1] - draws[names[1]]["auroc"][-1])

    def ci(values):
        lo, hi = np.percentile(values, [2.5, 97.5])
        return [round(float(lo), 4), round(float(hi), 4)]

    intervals = {name: {k: ci(v) for k, v in d.items()} for name, d in draws.items()}
    return intervals, ci(differences)


def threshold_for_alert_count(scores, max_alerts):
    """The lowest threshold at which no more than `max_alerts` scores are at or above it."""
    values = np.unique(scores)
    at_or_above = len(scores) - np.searchsorted(np.sort(scores), values, side="left")
    allowed = values[at_or_above <= max_alerts]
    return float(allowed[0]) if len(allowed) else float(np.nextafter(values[-1], np.inf))


def alert_burden(rule, scores, threshold, points, stays):
    """An alert is a prediction point (every 4 h of ward time) whose score is at or above the
    threshold. Per 100 patient-days of ward time; sensitivity = share of event patients with an
    alert in the 24 h before the event (at a positive point); lead = event time minus that
    patient's first such alert."""
    alerts = scores >= threshold
    days = patient_days(stays)
    first_alert = {}
    event_patients = set()
    for point, alerted in zip(points, alerts):
        if point.label:
            event_patients.add(point.patient_id)
            if alerted and point.patient_id not in first_alert:
                first_alert[point.patient_id] = (point.stay.event_at - point.now) / HOUR_MS
    leads = list(first_alert.values())
    return {
        "rule": rule,
        "threshold": threshold,
        "alerts": int(alerts.sum()),
        "patientDays": round(days, 1),
        "alertsPer100PatientDays": round(float(alerts.sum()) / days * 100, 2),
        "eventPatients": len(event_patients),
        "sensitivity": round(len(first_alert) / len(event_patients), 4) if event_patients else None,
        "medianLeadHours": round(float(np.median(leads)), 1) if leads else None,
    }


def early_stay(scores, threshold, points, stays, label):
    """Positive points in the first 24 h of the stay: the share at/above threshold; and the
    rule's alerts among all points of the first 24 h per 100 patient-days of first-24-h ward time."""
    early = np.array([p.hours_since_admission <= EARLY_HOURS for p in points])
    y = np.array([p.label for p in points], dtype=bool)
    alerts = scores >= threshold
    positives = early & y
    days = patient_days(stays, EARLY_HOURS)
    return {
        "rule": label,
        "positivePoints": int(positives.sum()),
        "sensitivity": round(float(alerts[positives].mean()), 4) if positives.any() else None,
        "alertsPer100PatientDays": round(float((alerts & early).sum()) / days * 100, 2),
    }


def auroc_or_none(y, s):
    return round(float(roc_auc_score(y, s)), 4) if 0 < y.sum() < len(y) else None


SUBGROUPS = [
    ("age 18-64", lambda p: p.stay.age < 65),
    ("age 65-79", lambda p: 65 <= p.stay.age < 80),
    ("age 80+", lambda p: p.stay.age >= 80),
    ("admission EMERGENCY", lambda p: p.stay.admission_type == "EMERGENCY"),
    ("admission URGENT", lambda p: p.stay.admission_type == "URGENT"),
    ("admission ELECTIVE", lambda p: p.stay.admission_type == "ELECTIVE"),
    ("spo2 scale 2", lambda p: p.stay.spo2_scale == 2),
    ("baseline confusion", lambda p: p.stay.baseline_confusion),
    ("first 24h of stay", lambda p: p.hours_since_admission <= EARLY_HOURS),
    ("continuous observation", lambda p: p.stay.observation_mode == "continuous"),
    ("intermittent observation", lambda p: p.stay.observation_mode == "intermittent"),
]


def subgroups(points, y, model_p, news2_score):
    out = []
    for name, member in SUBGROUPS:
        mask = np.array([member(p) for p in points], dtype=bool)
        ys = y[mask]
        out.append({
            "name": name,
            "n": int(mask.sum()),
            "patients": len({p.patient_id for p, m in zip(points, mask) if m}),
            "positives": int(ys.sum()),
            "model": {"auroc": auroc_or_none(ys, model_p[mask])},
            "news2": {"auroc": auroc_or_none(ys, news2_score[mask])},
        })
    return out


def calibration_bins(y, p, bins=10):
    """Deciles of predicted risk: mean predicted vs observed rate, with counts."""
    order = np.argsort(p, kind="mergesort")
    out = []
    for chunk in np.array_split(order, bins):
        out.append({"predicted": round(float(p[chunk].mean()), 4), "observed": round(float(y[chunk].mean()), 4), "n": int(len(chunk))})
    return out


def calibration_svg(series, title):
    """A hand-written SVG reliability diagram: observed rate against mean predicted risk per decile."""
    size, pad = 420, 50
    top = max(0.05, max(max(b["predicted"], b["observed"]) for bins in series.values() for b in bins))
    top = min(1.0, np.ceil(top * 10) / 10)
    scale = (size - 2 * pad) / top

    def xy(px, py):
        return pad + px * scale, size - pad - py * scale

    colours = ["#1f77b4", "#d62728", "#2ca02c"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" font-family="sans-serif" font-size="11">',
        f'<rect width="{size}" height="{size}" fill="white"/>',
        f'<text x="{size / 2}" y="18" text-anchor="middle" font-size="13">{title}</text>',
    ]
    x0, y0 = xy(0, 0)
    x1, y1 = xy(top, top)
    parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="black"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="black"/>')
    parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#999" stroke-dasharray="4 3"/>')
    for i in range(6):
        v = top * i / 5
        gx, gy = xy(v, v)
        parts.append(f'<text x="{gx}" y="{y0 + 15}" text-anchor="middle">{v:.2f}</text>')
        parts.append(f'<text x="{x0 - 6}" y="{gy + 4}" text-anchor="end">{v:.2f}</text>')
    parts.append(f'<text x="{size / 2}" y="{size - 12}" text-anchor="middle">mean predicted risk (decile of predictions)</text>')
    parts.append(f'<text x="14" y="{size / 2}" text-anchor="middle" transform="rotate(-90 14 {size / 2})">observed event rate within 24 h</text>')
    for k, (name, bins) in enumerate(series.items()):
        colour = colours[k % len(colours)]
        pts = " ".join(f"{xy(b['predicted'], b['observed'])[0]:.1f},{xy(b['predicted'], b['observed'])[1]:.1f}" for b in bins)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for b in bins:
            cx, cy = xy(b["predicted"], b["observed"])
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{colour}"/>')
        parts.append(f'<rect x="{pad + 10}" y="{pad + 16 * k - 8}" width="10" height="10" fill="{colour}"/><text x="{pad + 26}" y="{pad + 16 * k + 1}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def metrics_with_news2(y, model_p, news2_score, news2_p):
    model = probability_metrics(y, model_p)
    news2 = probability_metrics(y, news2_p)
    news2["auroc"] = float(roc_auc_score(y, news2_score))
    return {k: round(v, 4) for k, v in model.items()}, {k: round(v, 4) for k, v in news2.items()}
