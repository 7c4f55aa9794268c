"""Prediction points from a simulated cohort's CSVs (simulators/README.md "Cohort files").

A prediction point is one patient at one prediction time `now` of the ward stay: `firstAfterHours`
after admission, then every `everyHours` while the patient is still on the ward (before the event
or discharge). Its inputs are what had ARRIVED by `now`, as served: the readings with
received_at <= now and observed_at in (now - 6 h, now], and the patient's NEWS2 profile
(profiles.csv: SpO2 scale, baseline confusion). Its label is whether the event (death or ICU
escalation, outcomes.csv) happens in (now, now + horizon]. Stays that end in an expected death
under palliative care (outcome `expected_death`) have no prediction points: neither positive nor
negative. prediction-points.ts builds the same points in TypeScript.
"""

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HOUR_MS = 3_600_000
LONG_WINDOW_MS = 6 * HOUR_MS
VITAL_COLUMNS = {
    "heartRate": "heart_rate",
    "systolic": "systolic",
    "diastolic": "diastolic",
    "temperatureC": "temperature_c",
    "spo2": "spo2",
    "respiratoryRate": "respiratory_rate",
}


def epoch_ms(text):
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def split_of(patient_id, config):
    """Train/validation split of the training cohort by patient (cli/training-cohort.ts splitOf)."""
    bucket = int.from_bytes(hashlib.sha256(patient_id.encode()).digest()[:4], "big") % 100
    return "validation" if bucket < config["split"]["validationPercent"] else "train"


@dataclass
class Stay:
    patient_id: str
    admitted_at: int
    ends_at: int
    event_at: int | None
    outcome: str
    age: int
    admission_type: str
    observation_mode: str
    spo2_scale: int
    baseline_confusion: bool
    readings: list = field(default_factory=list)


@dataclass
class PredictionPoint:
    patient_id: str
    now: int
    label: int
    readings: list
    stay: Stay

    @property
    def hours_since_admission(self):
        return (self.now - self.stay.admitted_at) / HOUR_MS


def _number(text):
    return None if text == "" else float(text) if "." in text else int(text)


def read_stays(cohort_dir):
    """Every stay of the cohort (expected deaths included; prediction_points leaves them out)."""
    cohort_dir = Path(cohort_dir)
    with open(cohort_dir / "patients.csv", newline="") as f:
        births = {row["patient_id"]: row["date_of_birth"] for row in csv.DictReader(f)}
    with open(cohort_dir / "outcomes.csv", newline="") as f:
        outcomes = {row["admission_id"]: row for row in csv.DictReader(f)}
    profiles = {}
    if (cohort_dir / "profiles.csv").exists():
        with open(cohort_dir / "profiles.csv", newline="") as f:
            profiles = {row["patient_id"]: row for row in csv.DictReader(f)}
    stays = {}
    with open(cohort_dir / "admissions.csv", newline="") as f:
        for row in csv.DictReader(f):
            outcome = outcomes[row["admission_id"]]
            profile = profiles.get(row["patient_id"], {})
            admitted = datetime.fromisoformat(row["admitted_at"])
            born = datetime.fromisoformat(births[row["patient_id"]]).replace(tzinfo=timezone.utc)
            age = admitted.year - born.year - ((admitted.month, admitted.day) < (born.month, born.day))
            event_at = epoch_ms(outcome["event_at"]) if outcome["outcome"] == "event" else None
            ends_at = event_at if event_at is not None else epoch_ms(row["died_at"] or row["discharged_at"])
            stays[row["patient_id"]] = Stay(
                patient_id=row["patient_id"],
                admitted_at=epoch_ms(row["admitted_at"]),
                ends_at=ends_at,
                event_at=event_at,
                outcome=outcome["outcome"],
                age=age,
                admission_type=row["admission_type"],
                observation_mode=outcome.get("observation_mode") or "continuous",
                spo2_scale=int(profile.get("spo2_scale") or 1),
                baseline_confusion=profile.get("baseline_confusion") == "true",
            )
    with open(cohort_dir / "vitals.csv", newline="") as f:
        for row in csv.DictReader(f):
            observed = epoch_ms(row["observed_at"])
            reading = {
                "readingId": row["reading_id"],
                "observedAt": observed,
                "receivedAt": epoch_ms(row["received_at"]) if row.get("received_at") else observed,
            }
            for key, column in VITAL_COLUMNS.items():
                reading[key] = _number(row[column])
            reading["onOxygen"] = None if row["on_oxygen"] == "" else row["on_oxygen"] == "true"
            reading["consciousness"] = row["consciousness"] or None
            stays[row["patient_id"]].readings.append(reading)
    for stay in stays.values():
        stay.readings.sort(key=lambda r: (r["observedAt"], r["readingId"]))
    return list(stays.values())


def prediction_points(stays, config):
    first = config["predictionTimes"]["firstAfterHours"] * HOUR_MS
    every = config["predictionTimes"]["everyHours"] * HOUR_MS
    horizon = config["horizonHours"] * HOUR_MS
    for stay in stays:
        if stay.outcome == "expected_death":
            continue
        start = 0
        now = stay.admitted_at + first
        while now < stay.ends_at:
            while start < len(stay.readings) and stay.readings[start]["observedAt"] <= now - LONG_WINDOW_MS:
                start += 1
            end = start
            while end < len(stay.readings) and stay.readings[end]["observedAt"] <= now:
                end += 1
            arrived = [r for r in stay.readings[start:end] if r["receivedAt"] <= now]
            label = int(stay.event_at is not None and stay.event_at - now <= horizon)
            yield PredictionPoint(stay.patient_id, now, label, arrived, stay)
            now += every


def patient_days(stays, first_hours=None):
    """Ward time of the stays that have prediction points, in days (alert burden's denominator);
    with `first_hours`, only each stay's first hours."""
    total = 0
    for stay in stays:
        if stay.outcome == "expected_death":
            continue
        length = stay.ends_at - stay.admitted_at
        total += min(length, first_hours * HOUR_MS) if first_hours else length
    return total / (24 * HOUR_MS)
