import { describe, expect, it } from 'vitest';
import { createAdmission } from './admission.ts';
import type { SimulatedAdmission } from './admission.ts';
import { generateCohort, intermittentIntervalHours } from './cohort.ts';
import type { CohortAdmission } from './cohort.ts';
import { createCourse } from './course.ts';
import { createVitalSigns, news2OfSet } from './physiology.ts';
import type { MeasuredVitals } from './physiology.ts';
import { createRandom } from '../core/seeded-random.ts';
import { COHORT_SHIFTS } from './shift-presets.ts';
import { SIMULATION_PARAMETERS, withOverrides } from './simulation-parameters.ts';
import type { Phenotype, Sign } from './simulation-parameters.ts';

const HOUR_MS = 3_600_000;
const mean = (values: number[]): number => values.reduce((s, v) => s + v, 0) / values.length;
const share = <T>(items: readonly T[], test: (item: T) => boolean): number => items.filter(test).length / items.length;

/** Admissions drawn through the public constructor, for properties of the hidden course. */
function drawAdmissions(count: number, seed: number): SimulatedAdmission[] {
  return Array.from({ length: count }, (_, i) => createAdmission(createRandom(seed, 'test-admission', i), { admissionId: `A${i}`, patientId: `P${i}`, admittedAt: 0 }, SIMULATION_PARAMETERS));
}

describe('the cohort has the properties the literature gives (simulators/PHYSIOLOGY.md)', () => {
  const stays: CohortAdmission[] = [...generateCohort({ seed: 5, admissions: 3000 })];
  const admissions = stays.map((s) => s.admission);

  it('has events (death or unplanned ICU) in 2–6 % of admissions, and expected deaths apart and rare', () => {
    const events = share(admissions, (a) => a.outcome.kind === 'event');
    expect(events).toBeGreaterThan(0.02);
    expect(events).toBeLessThan(0.06);
    const expected = admissions.filter((a) => a.outcome.kind === 'expected_death');
    expect(expected.length / admissions.length).toBeGreaterThan(0.002);
    expect(expected.length / admissions.length).toBeLessThan(0.03);
    // Expected deaths are palliative patients, and no palliative patient has an "event".
    for (const a of expected) expect(a.palliative).toBe(true);
    for (const a of admissions.filter((x) => x.palliative)) expect(a.outcome.kind).not.toBe('event');
  });

  it('ends every stay in discharge, an event or an expected death; deteriorating patients can go home', () => {
    for (const a of admissions) {
      expect(['discharged', 'event', 'expected_death']).toContain(a.outcome.kind);
      expect(a.endHours).toBeGreaterThan(0);
      expect(a.endHours).toBe(a.outcome.atHours);
    }
    const deteriorating = admissions.filter((a) => a.trajectory === 'deteriorating');
    expect(share(deteriorating, (a) => a.outcome.kind === 'discharged')).toBeGreaterThan(0.15);
    expect(share(deteriorating, (a) => a.outcome.kind === 'event')).toBeGreaterThan(0.3);
    // Only a deterioration ends in an event; stable and recovering patients go home.
    for (const a of admissions.filter((x) => x.trajectory === 'stable' || x.trajectory === 'recovering')) expect(a.outcome.kind).toBe('discharged');
  });

  it('does not make the start of a stay safe: many events come within 48 h of admission, from every admission type', () => {
    const events = admissions.filter((a) => a.outcome.kind === 'event');
    expect(share(events, (a) => a.outcome.atHours <= 48)).toBeGreaterThan(0.3);
    expect(share(events, (a) => a.outcome.atHours <= 24)).toBeGreaterThan(0.15);
    expect(share(events, (a) => a.outcome.atHours > 72)).toBeGreaterThan(0.05);
    for (const type of ['EMERGENCY', 'ELECTIVE'] as const) expect(events.filter((a) => a.admissionType === type).length, type).toBeGreaterThan(0);
    // Admission type is at most a modest factor: elective event rate within a factor 3 of emergency.
    const rate = (type: string): number => share(admissions.filter((a) => a.admissionType === type), (a) => a.outcome.kind === 'event');
    expect(rate('ELECTIVE')).toBeGreaterThan(rate('EMERGENCY') / 3);
  });

  it('takes intermittent observation sets at the RCP frequency given the previous set\'s NEWS2 (scored with the profile)', () => {
    let checked = 0;
    const seen = { urgent: 0, low: 0, zero: 0 };
    for (const { admission, deliveries } of stays.slice(0, 800)) {
      if (admission.observationMode !== 'intermittent') continue;
      for (let i = 1; i < deliveries.length; i++) {
        const previous = news2OfSet(deliveries[i - 1]!.measured, admission.profile);
        const [low, high] = intermittentIntervalHours(previous, SIMULATION_PARAMETERS);
        const hours = (deliveries[i]!.observedAt - deliveries[i - 1]!.observedAt) / HOUR_MS;
        // observedAt is floored to the second: allow a second either way.
        expect(hours, `${admission.patientId} set ${i} after NEWS2 ${previous.score}`).toBeGreaterThanOrEqual(low - 1 / 3600);
        expect(hours, `${admission.patientId} set ${i} after NEWS2 ${previous.score}`).toBeLessThanOrEqual(high + 1 / 3600);
        if (previous.score >= 5) seen.urgent++;
        else if (previous.score >= 1) seen.low++;
        else seen.zero++;
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(seen.urgent).toBeGreaterThan(10);
    expect(seen.low).toBeGreaterThan(100);
    expect(seen.zero).toBeGreaterThan(100);
    expect(intermittentIntervalHours({ score: 0, redParameter: false }, SIMULATION_PARAMETERS)).toEqual([8, 12]);
    expect(intermittentIntervalHours({ score: 3, redParameter: false }, SIMULATION_PARAMETERS)).toEqual([4, 6]);
    expect(intermittentIntervalHours({ score: 3, redParameter: true }, SIMULATION_PARAMETERS)[1]).toBeLessThanOrEqual(1);
    expect(intermittentIntervalHours({ score: 5, redParameter: false }, SIMULATION_PARAMETERS)[1]).toBeLessThanOrEqual(1);
    expect(intermittentIntervalHours({ score: 7, redParameter: false }, SIMULATION_PARAMETERS)[1]).toBeLessThanOrEqual(0.5);
  });

  it('monitors a share of patients continuously, about hourly', () => {
    const continuous = stays.filter((s) => s.admission.observationMode === 'continuous');
    expect(continuous.length / stays.length).toBeGreaterThan(0.05);
    expect(continuous.length / stays.length).toBeLessThan(0.2);
    const gaps = continuous.flatMap((s) => s.deliveries.slice(1).map((d, i) => (d.observedAt - s.deliveries[i]!.observedAt) / HOUR_MS));
    expect(Math.max(...gaps)).toBeLessThan(1.2);
  });

  it('has autocorrelated noise: consecutive sets of a stable continuously monitored patient resemble each other', () => {
    const pairs: [number, number][] = [];
    for (const { admission, deliveries } of stays) {
      if (admission.trajectory !== 'stable' || admission.observationMode !== 'continuous') continue;
      const hr = deliveries.map((d) => d.measured.heartRate - admission.resting.heartRate);
      for (let i = 1; i < hr.length; i++) pairs.push([hr[i - 1]!, hr[i]!]);
    }
    const mx = mean(pairs.map((p) => p[0]));
    const my = mean(pairs.map((p) => p[1]));
    const cov = mean(pairs.map(([x, y]) => (x - mx) * (y - my)));
    const sd = (k: 0 | 1, m: number) => Math.sqrt(mean(pairs.map((p) => (p[k] - m) ** 2)));
    expect(cov / (sd(0, mx) * sd(1, my))).toBeGreaterThan(0.3);
  });

  it('deteriorating patients worsen towards the event, and some stable patients look alarming (chronic conditions)', () => {
    const early: number[] = [];
    const late: number[] = [];
    for (const { admission, deliveries } of stays) {
      if (admission.outcome.kind !== 'event') continue;
      const end = admission.admittedAt + admission.endHours * HOUR_MS;
      for (const d of deliveries) {
        const score = news2OfSet(d.measured, admission.profile).score;
        if (end - d.observedAt < 3 * HOUR_MS) late.push(score);
        else if (end - d.observedAt > 24 * HOUR_MS) early.push(score);
      }
    }
    expect(mean(late)).toBeGreaterThan(mean(early) + 3);
    const stableHigh = stays.filter((s) => s.admission.trajectory === 'stable' && s.deliveries.some((d) => news2OfSet(d.measured, s.admission.profile).score >= 5));
    expect(stableHigh.length).toBeGreaterThan(5);
  });
});

describe('deterioration phenotypes and the response to treatment', () => {
  const drawn = drawAdmissions(4000, 3);

  /** The progress at which each sign first shows (level ≥ 0.1 of its gain) along the untreated course. */
  function firstShows(admission: SimulatedAdmission): Partial<Record<Sign, number>> {
    const course = createCourse(admission, SIMULATION_PARAMETERS);
    const illness = admission.illness;
    if (illness.kind !== 'deteriorating') throw new Error('not deteriorating');
    const out: Partial<Record<Sign, number>> = {};
    for (let step = 0; step <= 200; step++) {
      const hours = illness.onsetHours + (illness.rampHours * step) / 200;
      const levels = course.signLevels(hours);
      for (const [sign, level] of Object.entries(levels) as [Sign, number][]) if (level >= 0.1 && out[sign] === undefined) out[sign] = course.progress(hours);
    }
    return out;
  }

  const byPhenotype = (phenotype: Phenotype) => drawn.filter((a) => a.trajectory === 'deteriorating' && a.phenotype === phenotype).map(firstShows);
  const before = (rows: Partial<Record<Sign, number>>[], first: Sign, then: Sign): number => share(rows, (r) => (r[first] ?? 2) < (r[then] ?? 2));

  it('gives each phenotype its own order of signs', () => {
    const sepsis = byPhenotype('sepsis');
    expect(sepsis.length).toBeGreaterThan(20);
    for (const early of ['tachypnoea', 'tachycardia', 'fever'] as const) expect(before(sepsis, early, 'hypotension'), `sepsis: ${early} before hypotension`).toBeGreaterThan(0.9);
    const haemorrhage = byPhenotype('haemorrhage');
    expect(before(haemorrhage, 'tachycardia', 'hypotension'), 'haemorrhage: HR up before BP down').toBeGreaterThan(0.9);
    const respiratory = byPhenotype('respiratory');
    expect(before(respiratory, 'tachypnoea', 'hypotension')).toBeGreaterThan(0.9);
    expect(share(respiratory, (r) => (r.hypoxaemia ?? 2) < 0.5), 'respiratory: SpO2 falls early').toBeGreaterThan(0.9);
    const neurological = byPhenotype('neurological');
    for (const other of ['tachypnoea', 'tachycardia', 'hypoxaemia'] as const) expect(before(neurological, 'confusion', other), `neurological: confusion before ${other}`).toBeGreaterThan(0.9);
  });

  /** Vitals of each patient measured once at hidden progress q (untreated), less their resting values. */
  function measuredAt(phenotype: Phenotype, q: number): { rise: Record<'heartRate' | 'respiratoryRate' | 'temperature' | 'spo2', number>; fall: number; notAlert: number; onOxygen: number } {
    const rows: { v: MeasuredVitals; a: SimulatedAdmission }[] = [];
    for (const [i, a] of drawn.entries()) {
      const illness = a.illness;
      if (a.phenotype !== phenotype || illness.kind !== 'deteriorating') continue;
      const hours = illness.onsetHours + illness.rampHours * Math.pow(q, 1 / illness.exponent);
      const vitals = createVitalSigns(a, createCourse(a, SIMULATION_PARAMETERS), createRandom(3, 'test-vitals', i), SIMULATION_PARAMETERS);
      rows.push({ v: vitals.measure(hours), a });
    }
    const avg = (f: (r: { v: MeasuredVitals; a: SimulatedAdmission }) => number) => mean(rows.map(f));
    return {
      rise: {
        heartRate: avg((r) => r.v.heartRate - r.a.resting.heartRate),
        respiratoryRate: avg((r) => r.v.respiratoryRate - r.a.resting.respiratoryRate),
        temperature: avg((r) => r.v.temperature - r.a.resting.temperature),
        spo2: avg((r) => r.v.spo2 - r.a.resting.spo2),
      },
      fall: avg((r) => r.a.resting.systolic - r.v.systolic),
      notAlert: share(rows, (r) => r.v.consciousness !== 'A' && !(r.v.consciousness === 'C' && r.a.chronic.confusion)),
      onOxygen: share(rows, (r) => r.v.onOxygen && !r.a.chronic.homeOxygen),
    };
  }

  it('shows the order of signs in the measured vitals, not only in the hidden paths', () => {
    const sepsisEarly = measuredAt('sepsis', 0.35);
    expect(sepsisEarly.rise.respiratoryRate).toBeGreaterThan(3);
    expect(sepsisEarly.rise.heartRate).toBeGreaterThan(8);
    expect(sepsisEarly.rise.temperature).toBeGreaterThan(0.5);
    expect(sepsisEarly.fall).toBeLessThan(5); // blood pressure holds early
    expect(measuredAt('sepsis', 0.999).fall).toBeGreaterThan(25); // and falls late

    const bleedEarly = measuredAt('haemorrhage', 0.35);
    expect(bleedEarly.rise.heartRate).toBeGreaterThan(10);
    expect(bleedEarly.fall).toBeLessThan(5);
    expect(measuredAt('haemorrhage', 0.999).fall).toBeGreaterThan(30);

    const respiratoryEarly = measuredAt('respiratory', 0.35);
    expect(respiratoryEarly.rise.respiratoryRate).toBeGreaterThan(3);
    const respiratoryMid = measuredAt('respiratory', 0.5);
    // SpO2 falls (or oxygen has been started for it) while blood pressure still holds.
    expect(respiratoryMid.rise.spo2 < -2 || respiratoryMid.onOxygen > 0.3, JSON.stringify(respiratoryMid)).toBe(true);
    expect(respiratoryMid.fall).toBeLessThan(5);

    const neuroEarly = measuredAt('neurological', 0.5);
    expect(neuroEarly.notAlert).toBeGreaterThan(0.4);
    expect(neuroEarly.rise.heartRate).toBeLessThan(4);
    expect(neuroEarly.rise.respiratoryRate).toBeLessThan(1.5);
  });

  it('reverses a reversible deterioration when the ward responds in time, and not an irreversible one', () => {
    const deteriorating = drawn.filter((a) => a.illness.kind === 'deteriorating' && !a.abrupt);
    const reversible = deteriorating.find((a) => a.illness.kind === 'deteriorating' && a.illness.reversible && a.illness.onsetHours > 0)!;
    const irreversible = deteriorating.find((a) => a.illness.kind === 'deteriorating' && !a.illness.reversible && a.illness.onsetHours > 0)!;
    for (const [admission, reverses] of [[reversible, true], [irreversible, false]] as const) {
      const illness = admission.illness;
      if (illness.kind !== 'deteriorating') throw new Error('not deteriorating');
      const course = createCourse(admission, SIMULATION_PARAMETERS);
      expect(course.outcome().kind).toBe('event');
      const at = illness.onsetHours + illness.rampHours * 0.4;
      course.observed(at, 3); // below the threshold: no response
      expect(course.respondedAtHours()).toBeNull();
      course.observed(at, 6);
      expect(course.respondedAtHours()).toBe(at);
      const eventAt = illness.onsetHours + illness.rampHours;
      if (reverses) {
        expect(course.outcome().kind).toBe('discharged');
        expect(course.progress(eventAt + 24)).toBeLessThan(course.progress(at + illness.responseDelayHours));
      } else {
        expect(course.outcome()).toMatchObject({ kind: 'event', atHours: eventAt });
        expect(course.progress(eventAt)).toBe(1);
      }
    }
  });

  it('responds only at the urgent-response threshold, once, and only to an illness under way', () => {
    const admission = drawn.find((a) => a.illness.kind === 'deteriorating' && a.illness.reversible && a.illness.onsetHours > 10)!;
    const course = createCourse(admission, SIMULATION_PARAMETERS);
    course.observed(1, 9); // a chronic false alarm before the illness: nothing to treat
    expect(course.respondedAtHours()).toBeNull();
    expect(course.outcome().kind).toBe('event');
  });
});

describe('cohort shift presets', () => {
  const cohort = (name: keyof typeof COHORT_SHIFTS | null, admissions = 3000) => [...generateCohort({ seed: 6, admissions, ...(name ? { parameters: COHORT_SHIFTS[name] } : {}) })];

  it('low-prevalence has about 3 % of admissions with an event, fewer than the default', () => {
    const low = share(cohort('low-prevalence').map((s) => s.admission), (a) => a.outcome.kind === 'event');
    expect(low).toBeGreaterThan(0.018);
    expect(low).toBeLessThan(0.04);
    expect(low).toBeLessThan(share(cohort(null).map((s) => s.admission), (a) => a.outcome.kind === 'event'));
  });

  it('intermittent-observations observes everyone 4–12-hourly whatever the score', () => {
    const stays = cohort('intermittent-observations', 600);
    expect(stays.every((s) => s.admission.observationMode === 'intermittent')).toBe(true);
    for (const { deliveries } of stays) {
      for (let i = 1; i < deliveries.length; i++) {
        const hours = (deliveries[i]!.observedAt - deliveries[i - 1]!.observedAt) / HOUR_MS;
        expect(hours).toBeGreaterThanOrEqual(4 - 1 / 3600);
        expect(hours).toBeLessThanOrEqual(12 + 1 / 3600);
      }
    }
  });

  it('sicker-baseline looks worse at rest; slower-deterioration takes longer from onset to event', () => {
    const restingNews2 = (stays: CohortAdmission[]) => mean(stays.filter((s) => s.admission.trajectory === 'stable').flatMap((s) => s.deliveries.map((d) => news2OfSet(d.measured, s.admission.profile).score)));
    expect(restingNews2(cohort('sicker-baseline', 1000))).toBeGreaterThan(restingNews2(cohort(null, 1000)) + 0.5);
    const slow = withOverrides(COHORT_SHIFTS['slower-deterioration']).deterioration;
    expect(slow.rampMedianHours).toBe(2 * SIMULATION_PARAMETERS.deterioration.rampMedianHours);
    const rampOf = (stays: CohortAdmission[]) => stays.flatMap((s) => (s.admission.illness.kind === 'deteriorating' ? [s.admission.illness.rampHours] : [])).sort((a, b) => a - b);
    const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
    expect(median(rampOf(cohort('slower-deterioration', 1500)))).toBeGreaterThan(1.6 * median(rampOf(cohort(null, 1500))));
  });
});
