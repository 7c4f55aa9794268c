import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteAuditLog } from '../adapters/embedded/audit-log-sqlite.ts';
import { waitFor } from '../core/contracts/wait-for.ts';
import { createLogger } from '../core/observability/logger.ts';
import { createMetrics } from '../core/observability/metrics.ts';
import type { RetentionPurge } from '../core/ports/retention.ts';
import { startRetentionPurge } from './retention-purge.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-retention-purge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;
const NOW = Date.parse('2030-06-01T00:00:00Z');

describe('the processor retention purge', () => {
  it('purges at start and then every interval, each store by its own days, and counts it in /metrics', async () => {
    const audit = createSqliteAuditLog({ path: path.join(dir, 'audit.sqlite') });
    const entry = (at: number, actor: string) => ({ at, actor, role: 'admin', action: 'GET /v1/audit', status: 200 });
    await audit.append(entry(NOW - 11 * DAY, 'eleven-days-old'));
    await audit.append(entry(NOW - 9 * DAY, 'nine-days-old'));
    const metrics = createMetrics({ defaultMetrics: false });
    const log: string[] = [];
    const purge = startRetentionPurge({
      targets: [{ name: 'audit log', store: audit, days: 10 }],
      intervalMs: 50, metrics, now: () => NOW,
      logger: createLogger({ level: 'info', destination: { write: (line: string) => void log.push(line) } }),
    });
    const actors = async () => (await audit.list({ limit: 10 })).map((e) => e.actor);
    const removed = async () => (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'vigil_retention_purged_total')?.values[0]?.value ?? 0;
    let count = 0;
    await waitFor(() => { void removed().then((n) => { count = n; }); return count === 1; }, 5_000, 'the start-up purge to remove the 11-day-old entry');
    expect(await actors()).toEqual(['nine-days-old']);

    // The interval purge takes what has since become too old.
    await audit.append(entry(NOW - 12 * DAY, 'written-late-but-old'));
    await waitFor(() => { void removed().then((n) => { count = n; }); return count === 2; }, 5_000, 'an interval purge to remove the late old entry');
    expect(await actors()).toEqual(['nine-days-old']);
    await purge.stop();
    expect(await metrics.registry.getSingleMetricAsString('vigil_retention_purged_total')).toContain('vigil_retention_purged_total{store="audit log"} 2');
    expect(log.some((line) => line.includes('"retention purge"') && line.includes('"removed":1'))).toBe(true);
    await audit.close();
  });

  it('skips stores that keep forever, and a failing store neither stops the others nor the schedule', async () => {
    let calls = 0;
    const failing: RetentionPurge = { purgeOlderThan: async () => { calls += 1; throw new Error('disk went away'); } };
    const forever: RetentionPurge = { purgeOlderThan: async () => { throw new Error('must not be called: 0 days keeps forever'); } };
    const cutoffs: number[] = [];
    const working: RetentionPurge = { purgeOlderThan: async (cutoff) => { cutoffs.push(cutoff); return { removed: 0 }; } };
    const purge = startRetentionPurge({
      targets: [{ name: 'failing', store: failing, days: 1 }, { name: 'forever', store: forever, days: 0 }, { name: 'working', store: working, days: 30 }],
      intervalMs: 20, now: () => NOW, logger: createLogger({ level: 'silent' }),
    });
    await waitFor(() => calls >= 2 && cutoffs.length >= 2, 5_000, 'two rounds despite the failing store');
    await purge.stop();
    expect(cutoffs[0]).toBe(NOW - 30 * DAY);
    expect(await purge.runOnce(), 'a run after stop purges nothing').toEqual({});
  });
});
