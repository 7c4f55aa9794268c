import { describe, expect, it } from 'vitest';
import { budget, eventually, testTimeScale, waitFor } from './wait-for.ts';

describe('test budgets', () => {
  it('scale by VIGIL_TEST_TIME_SCALE: 1 by default, 2 under CI=true, the given value when set', () => {
    expect(testTimeScale({})).toBe(1);
    expect(testTimeScale({ CI: 'true' })).toBe(2);
    expect(testTimeScale({ CI: 'true', VIGIL_TEST_TIME_SCALE: '3.5' })).toBe(3.5);
    expect(testTimeScale({ VIGIL_TEST_TIME_SCALE: ' ' })).toBe(1);
  });

  it('refuse a scale that is not a positive number, naming the variable', () => {
    for (const raw of ['0', '-1', 'fast', 'Infinity']) {
      expect(() => testTimeScale({ VIGIL_TEST_TIME_SCALE: raw }), raw).toThrow(/VIGIL_TEST_TIME_SCALE must be a positive number/);
    }
  });

  it('budget() applies the scale of this run', () => {
    expect(budget(1000)).toBe(Math.ceil(1000 * testTimeScale()));
  });
});

describe('waiting on a condition', () => {
  it('returns as soon as the condition holds, with the accepted value', async () => {
    let calls = 0;
    await expect(eventually('the third probe', () => ++calls, (n) => n >= 3, 5_000, 1)).resolves.toBe(3);
    let ready = false;
    setTimeout(() => { ready = true; }, 5);
    await waitFor(() => ready, 5_000, 'the flag');
  });

  it('says what was awaited and what was seen when the budget runs out', async () => {
    await expect(eventually('three rows', async () => [{ id: 1 }], (rows) => rows.length === 3, 20, 1))
      .rejects.toThrow(/timed out after \d+ ms.* waiting for three rows; last seen: \[\{"id":1\}\]/);
    await expect(waitFor(() => false, 20, 'the bus to drain', () => '4 messages still leased'))
      .rejects.toThrow(/waiting for the bus to drain; 4 messages still leased/);
  });
});
