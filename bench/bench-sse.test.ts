import { describe, expect, it } from 'vitest';
import { benchSseFanout } from './bench-sse.ts';
import { budget } from '../core/contracts/wait-for.ts';

describe('benchSseFanout', () => {
  it('delivers every published update to every connected client and reports the delays', async () => {
    const result = await benchSseFanout({ patients: 5, clients: 3, durationMs: 600, intervalMs: 100 });
    const f = result.figures as Record<string, number>;
    expect(f['events expected']).toBeGreaterThan(0);
    expect(f['events delivered']).toBe(f['events expected']);
    expect(f['delay p99 ms']).toBeGreaterThanOrEqual(f['delay p50 ms']!);
    expect(f['delay p50 ms']).toBeGreaterThan(0);
  }, budget(30_000));
});
