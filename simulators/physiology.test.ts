import { describe, expect, it } from 'vitest';
import { generateCohort } from './cohort.ts';
import type { MeasuredVitals } from './physiology.ts';
import { auroc, news2Reference } from './news2-reference.ts';

const HOUR_MS = 3_600_000;
const mean = (values: number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

describe('trajectories and the difficulty of the cohort', () => {
  const stays = [...generateCohort({ seed: 5, admissions: 900 })];

  /** Mean NEWS2-relevant vitals in the first and last `hours` of each stay of one trajectory. */
  function firstVersusLast(trajectory: string, hours: number) {
    const early: MeasuredVitals[] = [];
    const late: MeasuredVitals[] = [];
    for (const { admission, deliveries } of stays) {
      if (admission.trajectory !== trajectory) continue;
      const end = admission.admittedAt + admission.endHours * HOUR_MS;
      for (const d of deliveries) {
        if (d.observedAt - admission.admittedAt < hours * HOUR_MS) early.push(d.measured);
        else if (end - d.observedAt < hours * HOUR_MS) late.push(d.measured);
      }
    }
    const summary = (v: MeasuredVitals[]) => ({
      heartRate: mean(v.map((x) => x.heartRate)), respiratoryRate: mean(v.map((x) => x.respiratoryRate)),
      systolic: mean(v.map((x) => x.systolic)), spo2: mean(v.map((x) => x.spo2)), news2: mean(v.map(news2Reference)),
    });
    return { early: summary(early), late: summary(late) };
  }

  it('deteriorating patients worsen towards the event: HR and RR up, systolic and SpO2 down', () => {
    const { early, late } = firstVersusLast('deteriorating', 6);
    expect(late.heartRate).toBeGreaterThan(early.heartRate + 15);
    expect(late.respiratoryRate).toBeGreaterThan(early.respiratoryRate + 4);
    expect(late.systolic).toBeLessThan(early.systolic - 10);
    expect(late.spo2).toBeLessThan(early.spo2);
    expect(late.news2).toBeGreaterThan(early.news2 + 3);
  });

  it('recovering patients improve, stable ones stay where they were', () => {
    const recovering = firstVersusLast('recovering', 12);
    expect(recovering.late.heartRate).toBeLessThan(recovering.early.heartRate - 5);
    expect(recovering.late.respiratoryRate).toBeLessThan(recovering.early.respiratoryRate - 1);
    expect(recovering.late.news2).toBeLessThan(recovering.early.news2 - 0.5);
    const stable = firstVersusLast('stable', 12);
    expect(Math.abs(stable.late.heartRate - stable.early.heartRate)).toBeLessThan(3);
    expect(Math.abs(stable.late.news2 - stable.early.news2)).toBeLessThan(0.4);
  });

  it('has autocorrelated noise: consecutive readings of a stable patient resemble each other', () => {
    const pairs: [number, number][] = [];
    for (const { admission, deliveries } of stays) {
      if (admission.trajectory !== 'stable') continue;
      const hr = deliveries.map((d) => d.measured.heartRate - admission.resting.heartRate);
      for (let i = 1; i < hr.length; i++) pairs.push([hr[i - 1]!, hr[i]!]);
    }
    const mx = mean(pairs.map((p) => p[0]));
    const my = mean(pairs.map((p) => p[1]));
    const cov = mean(pairs.map(([x, y]) => (x - mx) * (y - my)));
    const sd = (k: 0 | 1, m: number) => Math.sqrt(mean(pairs.map((p) => (p[k] - m) ** 2)));
    expect(cov / (sd(0, mx) * sd(1, my))).toBeGreaterThan(0.3);
  });

  it('is neither trivial nor rigged: NEWS2 separates "event within 24 h" with AUROC 0.78–0.90', () => {
    const scores: number[] = [];
    const labels: boolean[] = [];
    for (const { admission, deliveries } of stays) {
      const eventAt = admission.outcome.kind === 'event' ? admission.admittedAt + admission.outcome.atHours * HOUR_MS : null;
      for (const d of deliveries) {
        scores.push(news2Reference(d.measured));
        labels.push(eventAt !== null && eventAt - d.observedAt <= 24 * HOUR_MS);
      }
    }
    const area = auroc(scores, labels);
    expect(area).toBeGreaterThan(0.78);
    expect(area).toBeLessThan(0.9);
  });

  it('includes alarming-looking stable patients and abrupt deteriorations', () => {
    const stableHigh = stays.filter((s) => s.admission.trajectory === 'stable' && s.deliveries.some((d) => news2Reference(d.measured) >= 5));
    expect(stableHigh.length).toBeGreaterThan(10);
    const abrupt = stays.filter((s) => s.admission.abrupt && s.admission.outcome.kind === 'event');
    expect(abrupt.length).toBeGreaterThan(5);
    // Little warning: 6 h before an abrupt event NEWS2 is usually still low.
    const sixHoursBefore = abrupt.flatMap((s) => {
      const eventAt = s.admission.admittedAt + s.admission.endHours * HOUR_MS;
      return s.deliveries.filter((d) => eventAt - d.observedAt > 5 * HOUR_MS && eventAt - d.observedAt < 7 * HOUR_MS).map((d) => news2Reference(d.measured));
    });
    expect(mean(sixHoursBefore)).toBeLessThan(3);
  });
});
