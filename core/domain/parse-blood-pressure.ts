/**
 * Blood pressure as devices send it: "systolic/diastolic" in mmHg, e.g. "120/80". Only the shape
 * is judged here (the edge refuses "120/" or "abc"); whether the numbers are physiologically
 * possible is the processor's plausibility check (normalize-reading.ts).
 */
export interface BloodPressure {
  systolic: number;
  diastolic: number;
}

export type BloodPressureResult = { ok: true; value: BloodPressure } | { ok: false; reason: string };

export const BLOOD_PRESSURE_SHAPE_REASON = 'must look like 120/80 (systolic/diastolic mmHg)';

// Whole or decimal mmHg, spaces allowed around the slash; anything longer than a few digits is not a pressure.
const SHAPE = /^\s*(\d{1,3}(?:\.\d{1,2})?)\s*\/\s*(\d{1,3}(?:\.\d{1,2})?)\s*$/;

export function parseBloodPressure(text: string): BloodPressureResult {
  const match = text.length <= 32 ? SHAPE.exec(text) : null;
  if (!match) return { ok: false, reason: BLOOD_PRESSURE_SHAPE_REASON };
  return { ok: true, value: { systolic: Number(match[1]), diastolic: Number(match[2]) } };
}
