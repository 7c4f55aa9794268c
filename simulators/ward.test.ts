import { describe, expect, it } from 'vitest';
import type { SimulatedAdmission } from './admission.ts';
import { news2OfSet } from './physiology.ts';
import type { MeasuredVitals } from './physiology.ts';
import { createWard } from './ward.ts';

const START = Date.UTC(2026, 10, 22, 10);

/** The chronic conditions that explain an alarming parameter in a patient who is not ill. */
function explainedByChronicCondition(a: SimulatedAdmission, v: MeasuredVitals): boolean {
  const c = a.chronic;
  return (c.copd && (v.spo2 <= 95 || v.respiratoryRate >= 21 || v.onOxygen)) ||
    (c.lowBloodPressure && v.systolic <= 110) ||
    (c.tachycardia && v.heartRate >= 91) ||
    (c.betaBlocker && v.heartRate <= 50) ||
    (c.lowGradeFever && v.temperature >= 38.1);
}

describe('the live ward at its demo pace', () => {
  it('alarms on at most a quarter of its patients over the first ten minutes, each for a reason a clinician would accept', () => {
    // Default settings: 24 beds, seed 42, a reading per bed every 2 s (VIGIL_SIMULATE_INTERVAL_MS),
    // time scale 60. A synthetic clock: no wall time passes in the test.
    const ward = createWard({ patients: 24, seed: 42, startAt: START });
    const alarming = new Map<string, string>();
    const seen = new Set<string>();
    for (let at = START; at <= START + 10 * 60_000; at += 2000) {
      for (let bed = 0; bed < ward.beds; bed++) {
        for (const reading of ward.observe(bed, at)) {
          const profile = ward.profileOf(bed)!;
          const admission = ward.current().find((a) => a.patientId === reading.patientId) ?? ward.ended().find((e) => e.admission.patientId === reading.patientId)!.admission;
          seen.add(reading.patientId);
          // Scored as a clinician would, with the profile the ward exposes (scale 2, baseline confusion);
          // a stay that just ended flushes its last readings before the next patient's profile.
          if (profile.patientId === reading.patientId) expect(profile).toMatchObject(admission.profile);
          const set = news2OfSet(reading.measured, admission.profile);
          if (set.score < 5 && !set.redParameter) continue;
          // A deteriorating patient, or one dying under palliative care, is a reason; noise is not.
          const ill = admission.trajectory === 'deteriorating' || admission.trajectory === 'palliative';
          const reason = ill ? admission.trajectory : explainedByChronicCondition(admission, reading.measured) ? 'chronic condition' : null;
          expect(reason, `${reading.patientId} (${admission.trajectory}) NEWS2 ${set.score} with ${JSON.stringify(reading.measured)} and no reason`).not.toBeNull();
          if (!alarming.has(reading.patientId)) alarming.set(reading.patientId, reason!);
        }
      }
    }
    expect(seen.size).toBeGreaterThanOrEqual(24);
    expect(alarming.size, JSON.stringify([...alarming])).toBeLessThanOrEqual(6);
  });

  it("exposes each bed's profile as a clinician records it, and keeps it with the patient", () => {
    const ward = createWard({ patients: 40, seed: 9, startAt: START });
    expect(ward.profileOf(0)).toBeUndefined();
    for (let bed = 0; bed < ward.beds; bed++) ward.observe(bed, START);
    const profiles = Array.from({ length: ward.beds }, (_, bed) => ward.profileOf(bed)!);
    for (const [bed, profile] of profiles.entries()) {
      const admission = ward.current()[bed]!;
      expect(profile).toEqual({ patientId: admission.patientId, spo2Scale: admission.chronic.hypercapnic ? 2 : 1, baselineConfusion: admission.chronic.confusion });
    }
  });
});
