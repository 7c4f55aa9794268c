import { describe, expect, it } from 'vitest';
import { news2 } from './news2.ts';
import type { News2Vitals } from './news2.ts';

/** Every value scores 0 on scale 1: a baseline so each test isolates one parameter. */
const normal: News2Vitals = {
  respiratoryRate: 16, spo2: 97, onOxygen: false, systolic: 120, heartRate: 70, consciousness: 'A', temperatureC: 37,
};

/** Expected points at each side of every band edge of the RCP 2017 chart. */
const EDGES: Record<'respiratoryRate' | 'systolic' | 'heartRate' | 'temperatureC', [number, number][]> = {
  respiratoryRate: [[0, 3], [8, 3], [9, 1], [11, 1], [12, 0], [20, 0], [21, 2], [24, 2], [25, 3], [60, 3]],
  systolic: [[60, 3], [90, 3], [91, 2], [100, 2], [101, 1], [110, 1], [111, 0], [219, 0], [220, 3], [280, 3]],
  heartRate: [[30, 3], [40, 3], [41, 1], [50, 1], [51, 0], [90, 0], [91, 1], [110, 1], [111, 2], [130, 2], [131, 3], [200, 3]],
  temperatureC: [[30, 3], [35, 3], [35.1, 1], [36, 1], [36.1, 0], [38, 0], [38.1, 1], [39, 1], [39.1, 2], [42, 2]],
};

describe('news2 bands', () => {
  for (const [parameter, edges] of Object.entries(EDGES)) {
    it.each(edges)(`${parameter} %d scores %d`, (value, points) => {
      const result = news2({ ...normal, [parameter]: value });
      expect(result.components[parameter as keyof typeof EDGES]).toBe(points);
      expect(result.score).toBe(points);
    });
  }

  it.each([
    [80, 3], [91, 3], [92, 2], [93, 2], [94, 1], [95, 1], [96, 0], [100, 0],
  ])('SpO2 scale 1: %d%% scores %d (on air and on oxygen alike)', (spo2, points) => {
    expect(news2({ ...normal, spo2 }).components.spo2).toBe(points);
    expect(news2({ ...normal, spo2, onOxygen: true }).components.spo2).toBe(points);
  });

  it.each([
    // [SpO2, on oxygen, points]
    [75, false, 3], [83, false, 3], [84, false, 2], [85, false, 2], [86, false, 1], [87, false, 1], [88, false, 0], [92, false, 0],
    [83, true, 3], [84, true, 2], [86, true, 1], [88, true, 0], [92, true, 0],
    [93, true, 1], [94, true, 1], [95, true, 2], [96, true, 2], [97, true, 3], [100, true, 3],
    [93, false, 0], [97, false, 0], [100, false, 0],
  ])('SpO2 scale 2: %d%% (on oxygen %s) scores %d', (spo2, onOxygen, points) => {
    expect(news2({ ...normal, spo2, onOxygen }, { spo2Scale: 2 }).components.spo2).toBe(points);
  });

  it('scores oxygen 2 and air 0', () => {
    expect(news2({ ...normal, onOxygen: true }).components.onOxygen).toBe(2);
    expect(news2({ ...normal, onOxygen: false }).components.onOxygen).toBe(0);
  });

  it.each([['A', 0], ['C', 3], ['V', 3], ['P', 3], ['U', 3]] as const)('consciousness %s scores %d', (consciousness, points) => {
    expect(news2({ ...normal, consciousness }).components.consciousness).toBe(points);
  });

  it.each([['A', 0], ['C', 0], ['V', 3], ['P', 3], ['U', 3]] as const)('with baseline confusion recorded, consciousness %s scores %d (only new confusion scores)', (consciousness, points) => {
    expect(news2({ ...normal, consciousness }, { baselineConfusion: true }).components.consciousness).toBe(points);
  });

  it.each([
    ['heartRate', 90.5, 1], ['heartRate', 40.4, 1], ['respiratoryRate', 20.2, 2], ['systolic', 110.5, 0], ['temperatureC', 35.05, 1], ['temperatureC', 38.04, 1],
  ] as const)('values between chart rows land in the higher row: %s %d scores %d', (parameter, value, points) => {
    expect(news2({ ...normal, [parameter]: value }).components[parameter]).toBe(points);
  });
});

describe('news2 aggregate and level', () => {
  it('is 0 and low for normal vitals', () => {
    expect(news2(normal)).toMatchObject({ score: 0, level: 'low', missing: [], spo2Scale: 1 });
  });

  it.each([
    // [vitals, score, level]
    [{ heartRate: 95 }, 1, 'low'],
    [{ heartRate: 95, respiratoryRate: 22, temperatureC: 38.5 }, 4, 'low'],
    [{ consciousness: 'V' }, 3, 'low-medium'],
    [{ respiratoryRate: 30, heartRate: 95 }, 4, 'low-medium'],
    [{ respiratoryRate: 30, heartRate: 95, temperatureC: 38.5 }, 5, 'medium'],
    [{ respiratoryRate: 22, onOxygen: true, heartRate: 95 }, 5, 'medium'],
    [{ respiratoryRate: 22, onOxygen: true, heartRate: 115 }, 6, 'medium'],
    [{ respiratoryRate: 22, onOxygen: true, heartRate: 115, temperatureC: 38.5 }, 7, 'high'],
    [{ respiratoryRate: 30, spo2: 88, onOxygen: true, systolic: 85, heartRate: 140, consciousness: 'U', temperatureC: 34 }, 20, 'high'],
  ] as const)('%j scores %d, %s', (changes, score, level) => {
    expect(news2({ ...normal, ...changes })).toMatchObject({ score, level });
  });

  it('scores what is present and lists what is missing', () => {
    const result = news2({ ...normal, heartRate: 135, systolic: null, temperatureC: null, consciousness: null });
    expect(result).toMatchObject({ score: 3, level: 'low-medium', missing: ['systolic', 'consciousness', 'temperatureC'] });
    expect(result.components).toMatchObject({ heartRate: 3, systolic: null, temperatureC: null, consciousness: null });
  });

  it('takes unknown oxygen as air for scale 2 and says oxygen is missing', () => {
    const result = news2({ ...normal, spo2: 98, onOxygen: null }, { spo2Scale: 2 });
    expect(result).toMatchObject({ score: 0, missing: ['onOxygen'], spo2Scale: 2 });
    expect(result.components.onOxygen).toBeNull();
  });

  it('with nothing known scores 0 with every parameter missing', () => {
    const none = { respiratoryRate: null, spo2: null, onOxygen: null, systolic: null, heartRate: null, consciousness: null, temperatureC: null };
    expect(news2(none)).toMatchObject({ score: 0, level: 'low', missing: ['respiratoryRate', 'spo2', 'onOxygen', 'systolic', 'heartRate', 'consciousness', 'temperatureC'] });
  });
});
