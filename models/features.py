"""The recovery-risk model's features, computed for training.

features.json declares the list and its order; features.ts computes the same list for serving.
This module mirrors features.ts operation for operation (plain float64 arithmetic, sums in reading
order), so both produce bit-identical float64 values before rounding to float32; the parity test
(parity.test.ts) checks it on golden fixtures. Change one, change the other.

A reading is a dict with the VitalReading fields of core/domain/reading.ts: readingId,
observedAt (epoch ms), heartRate, systolic, diastolic, temperatureC, spo2, respiratoryRate,
onOxygen, consciousness (None when missing).
"""

import json
from pathlib import Path

import numpy as np

SPEC = json.loads((Path(__file__).parent / "features.json").read_text())
FEATURE_NAMES = SPEC["features"]
HOUR_MS = 3_600_000
VITALS = SPEC["vitals"]
REFERENCE = SPEC["reference"]
LONG_WINDOW_HOURS = SPEC["windowHours"]["6h"]
SEVERITY_TERMS = list(SPEC["severityIndex"]["terms"].items())

# NEWS2 (RCP 2017) bands as inclusive upper bounds, as core/domain/news2.ts declares them.
INF = float("inf")
NEWS2_BANDS = {
    "respiratoryRate": [(8, 3), (11, 1), (20, 0), (24, 2), (INF, 3)],
    "spo2Scale1": [(91, 3), (93, 2), (95, 1), (INF, 0)],
    "spo2Scale2": [(83, 3), (85, 2), (87, 1), (92, 0)],
    "spo2Scale2OnOxygen": [(94, 1), (96, 2), (INF, 3)],
    "systolic": [(90, 3), (100, 2), (110, 1), (219, 0), (INF, 3)],
    "heartRate": [(40, 3), (50, 1), (90, 0), (110, 1), (130, 2), (INF, 3)],
    "temperatureC": [(35, 3), (36, 1), (38, 0), (39, 1), (INF, 2)],
}


def _band(value, bands):
    for upper, points in bands:
        if value <= upper:
            return points
    return bands[-1][1]


def latest_vitals(readings):
    """Newest non-missing value of each vital; systolic and diastolic from the same reading."""
    if not readings:
        return None
    newest_first = sorted(readings, key=lambda r: (r["observedAt"], r["readingId"]), reverse=True)
    latest = {"observedAt": newest_first[0]["observedAt"]}
    for key in ("heartRate", "systolic", "temperatureC", "spo2", "respiratoryRate", "onOxygen", "consciousness"):
        source = next((r for r in newest_first if r[key] is not None), None)
        latest[key] = None if source is None else source[key]
        if key == "systolic":
            latest["diastolic"] = None if source is None else source["diastolic"]
    return latest


def news2_components(v, spo2_scale=1, baseline_confusion=False):
    """Points per NEWS2 parameter, None when the vital is missing (core/domain/news2.ts): SpO2 on
    the patient's prescribed scale, and confusion that a clinician recorded as the patient's
    baseline scores 0 (only new confusion scores 3; V, P, U always do)."""
    on_oxygen = bool(v["onOxygen"]) if v["onOxygen"] is not None else False

    def scored(value, bands):
        return None if value is None else _band(value, bands)

    if v["spo2"] is None:
        spo2 = None
    elif spo2_scale == 1:
        spo2 = _band(v["spo2"], NEWS2_BANDS["spo2Scale1"])
    elif v["spo2"] <= 92:
        spo2 = _band(v["spo2"], NEWS2_BANDS["spo2Scale2"])
    else:
        spo2 = _band(v["spo2"], NEWS2_BANDS["spo2Scale2OnOxygen"]) if on_oxygen else 0
    return {
        "respiratoryRate": scored(v["respiratoryRate"], NEWS2_BANDS["respiratoryRate"]),
        "spo2": spo2,
        "onOxygen": None if v["onOxygen"] is None else (2 if v["onOxygen"] else 0),
        "systolic": scored(v["systolic"], NEWS2_BANDS["systolic"]),
        "heartRate": scored(v["heartRate"], NEWS2_BANDS["heartRate"]),
        "consciousness": None if v["consciousness"] is None else (0 if v["consciousness"] == "A" or (v["consciousness"] == "C" and baseline_confusion) else 3),
        "temperatureC": scored(v["temperatureC"], NEWS2_BANDS["temperatureC"]),
    }


def severity_index(reading):
    """The reading's severity index (features.json severityIndex); None when none of its vitals was measured."""
    total = 0.0
    count = 0
    for vital, term in SEVERITY_TERMS:
        value = reading[vital]
        if value is None:
            continue
        total += term["sign"] * (value - term["reference"]) / term["scale"]
        count += 1
    return None if count == 0 else total / count


def _window_stats(hours, values, reference):
    n = len(values)
    if n == 0:
        return {"last": reference, "mean": reference, "min": reference, "max": reference, "slope": 0.0, "count": 0}
    sum_x = 0.0
    sum_y = 0.0
    lo = values[0]
    hi = values[0]
    for x, y in zip(hours, values):
        sum_x += x
        sum_y += y
        if y < lo:
            lo = y
        if y > hi:
            hi = y
    mean_x = sum_x / n
    mean_y = sum_y / n
    sxy = 0.0
    sxx = 0.0
    for x, y in zip(hours, values):
        sxy += (x - mean_x) * (y - mean_y)
        sxx += (x - mean_x) * (x - mean_x)
    return {"last": values[-1], "mean": mean_y, "min": lo, "max": hi, "slope": sxy / sxx if sxx > 0 else 0.0, "count": n}


def feature_values(now, readings, spo2_scale=1, baseline_confusion=False):
    """Feature name -> float64 value for the declared list (features.ts featureValues)."""
    long_window = sorted(
        (r for r in readings if now - LONG_WINDOW_HOURS * HOUR_MS < r["observedAt"] <= now),
        key=lambda r: (r["observedAt"], r["readingId"]),
    )
    values = {}
    series = {vital: [r[vital] for r in long_window] for vital in VITALS}
    series["severityIndex"] = [severity_index(r) for r in long_window]
    for name, column in series.items():
        reference = REFERENCE[name]
        present = [(r["observedAt"], float(v)) for r, v in zip(long_window, column) if v is not None]
        for label, hours in SPEC["windowHours"].items():
            points = [p for p in present if p[0] > now - hours * HOUR_MS]
            stats = _window_stats([(at - now) / HOUR_MS for at, _ in points], [v for _, v in points], reference)
            for stat, value in stats.items():
                values[f"{name}.{label}.{stat}"] = value
        values[f"{name}.hoursSinceLast"] = (now - present[-1][0]) / HOUR_MS if present else LONG_WINDOW_HOURS

    values["readings.6h.count"] = len(long_window)
    oxygen = [r for r in long_window if r["onOxygen"] is not None]
    values["onOxygen.last"] = 1 if oxygen and oxygen[-1]["onOxygen"] else 0
    values["onOxygen.6h.fraction"] = 0 if not oxygen else sum(1 for r in oxygen if r["onOxygen"]) / len(oxygen)
    consciousness = [r for r in long_window if r["consciousness"] is not None]
    values["consciousness.last.notAlert"] = 1 if consciousness and consciousness[-1]["consciousness"] != "A" else 0
    values["consciousness.6h.anyNotAlert"] = 1 if any(r["consciousness"] != "A" for r in consciousness) else 0

    latest = latest_vitals(long_window)
    components = news2_components(latest, spo2_scale, baseline_confusion) if latest else None
    values["news2.score"] = sum(p for p in components.values() if p is not None) if components else 0
    for parameter in SPEC["news2Parameters"]:
        point = components[parameter] if components else None
        values[f"news2.{parameter}"] = 0 if point is None else point

    return values


def compute_features(now, readings, spo2_scale=1, baseline_confusion=False):
    """The model's input row: the declared features in order, as float32 (features.ts computeFeatures).

    No admission context (age, admission type, time since admission) is an input: the model must
    not score severe vitals down because of who the patient is or how young the stay is."""
    values = feature_values(now, readings, spo2_scale, baseline_confusion)
    return np.array([values[name] for name in FEATURE_NAMES], dtype=np.float64).astype(np.float32)
