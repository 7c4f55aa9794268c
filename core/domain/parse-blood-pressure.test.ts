import { describe, expect, it } from 'vitest';
import { BLOOD_PRESSURE_SHAPE_REASON, parseBloodPressure } from './parse-blood-pressure.ts';

describe('parseBloodPressure', () => {
  it.each([
    ['120/80', 120, 80],
    [' 90 / 60 ', 90, 60],
    ['118.5/79', 118.5, 79],
    ['80/120', 80, 120], // the shape is fine; diastolic above systolic is a plausibility problem
  ])('splits %j', (text, systolic, diastolic) => {
    expect(parseBloodPressure(text)).toEqual({ ok: true, value: { systolic, diastolic } });
  });

  it.each(['120/', '/80', 'abc', '120-80', '120/80/60', '', '1200/80', '-120/80', '120/80mmHg', `${'1'.repeat(40)}/80`])('refuses %j', (text) => {
    expect(parseBloodPressure(text)).toEqual({ ok: false, reason: BLOOD_PRESSURE_SHAPE_REASON });
  });
});
