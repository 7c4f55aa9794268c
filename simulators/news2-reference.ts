import type { MeasuredVitals } from './physiology.ts';

/**
 * NEWS2 (Royal College of Physicians, 2017), SpO2 scale 1, for checking the cohort's difficulty
 * only: the product's scorer lives with the stream processor. Kept here so the simulator's
 * calibration test does not depend on another component.
 */
export function news2Reference(v: Pick<MeasuredVitals, 'respiratoryRate' | 'spo2' | 'onOxygen' | 'systolic' | 'heartRate' | 'consciousness' | 'temperature'>): number {
  const band = (value: number, bands: readonly [number, number][]): number => {
    for (const [upper, points] of bands) if (value <= upper) return points;
    return bands[bands.length - 1]![1];
  };
  return (
    band(v.respiratoryRate, [[8, 3], [11, 1], [20, 0], [24, 2], [Infinity, 3]]) +
    band(v.spo2, [[91, 3], [93, 2], [95, 1], [Infinity, 0]]) +
    (v.onOxygen ? 2 : 0) +
    band(v.systolic, [[90, 3], [100, 2], [110, 1], [219, 0], [Infinity, 3]]) +
    band(v.heartRate, [[40, 3], [50, 1], [90, 0], [110, 1], [130, 2], [Infinity, 3]]) +
    (v.consciousness === 'A' ? 0 : 3) +
    band(v.temperature, [[35, 3], [36, 1], [38, 0], [39, 1], [Infinity, 2]])
  );
}
