"""Prediction points from a simulated cohort's CSVs (simulators/README.md "Cohort files").

A prediction point is one patient at one prediction time `now` of the ward stay: the first
`firstAfterHours` after admission, then every `everyHours` while the patient is still on the ward
(before the event or discharge). Its inputs are only what was observed up to `now` (the readings
of the last 6 h and the admission's age, type and start); its label is whether the event (death or
ICU escalation, outcomes.csv) happens in (now, now + horizon].
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
    """Patient-level split (training-cohort.ts splitOf)."""
    bucket = int.from_bytes(hashlib.sha256(patient_id.encode()).digest()[:4], "big") % 100
    test, validation = config["split"]["testPercent"], config["split"]["validationPercent"]
    return "test" if bucket < test else "validation" if bucket < test + validation else "train"


@dataclass
class Stay:
    patient_id: str
    admitted_at: int
    ends_at: int
    event_at: int | None
    age: int
    admission_type: str
    readings: list = field(default_factory=list)


@dataclass
class PredictionPoint:
    patient_id: str
    split: str
    now: int
    label: int
    readings: list
    admission: dict


def _number(text):
    return None if text == "" else float(text) if "." in text else int(text)


def read_stays(cohort_dir):
    cohort_dir = Path(cohort_dir)
    with open(cohort_dir / "patients.csv", newline="") as f:
        births = {row["patient_id"]: row["date_of_birth"] for row in csv.DictReader(f)}
    with open(cohort_dir / "outcomes.csv", newline="") as f:
        outcomes = {row["admission_id"]: row for row in csv.DictReader(f)}
    stays = {}
    with open(cohort_dir / "admissions.csv", newline="") as f:
        for row in csv.DictReader(f):
            outcome = outcomes[row["admission_id"]]
            admitted = datetime.fromisoformat(row["admitted_at"])
            born = datetime.fromisoformat(births[row["patient_id"]]).replace(tzinfo=timezone.utc)
            age = admitted.year - born.year - ((admitted.month, admitted.day) < (born.month, born.day))
            event_at = epoch_ms(outcome["event_at"]) if outcome["outcome"] == "event" else None
            stays[row["patient_id"]] = Stay(
                patient_id=row["patient_id"],
                admitted_at=epoch_ms(row["admitted_at"]),
                ends_at=event_at if event_at is not None else epoch_ms(row["discharged_at"]),
                event_at=event_at,
                age=age,
                admission_type=row["admission_type"],
            )
    with open(cohort_dir / "vitals.csv", newline="") as f:
        for row in csv.DictReader(f):
            reading = {"readingId": row["reading_id"], "observedAt": epoch_ms(row["observed_at"])}
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
        split = split_of(stay.patient_id, config)
        admission = {"admittedAt": stay.admitted_at, "age": stay.age, "admissionType": stay.admission_type}
        start = 0
        now = stay.admitted_at + first
        while now < stay.ends_at:
            while start < len(stay.readings) and stay.readings[start]["observedAt"] <= now - LONG_WINDOW_MS:
                start += 1
            end = start
            while end < len(stay.readings) and stay.readings[end]["observedAt"] <= now:
                end += 1
            label = int(stay.event_at is not None and stay.event_at - now <= horizon)
            yield PredictionPoint(stay.patient_id, split, now, label, stay.readings[start:end], admission)
            now += every
