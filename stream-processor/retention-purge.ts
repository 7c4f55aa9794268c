import { Counter } from 'prom-client';
import type { Logger } from '../core/observability/logger.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import type { RetentionPurge } from '../core/ports/retention.ts';
import { retentionCutoff } from '../core/ports/retention.ts';

/** One store the processor purges, and how long it keeps (days; 0 keeps forever). */
export interface RetentionTarget {
  readonly name: string;
  readonly store: RetentionPurge;
  readonly days: number;
}

export interface RetentionPurgeOptions {
  readonly targets: readonly RetentionTarget[];
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => number;
}

export interface RetentionPurgeRun {
  /** Runs one purge of every target now (after the one running, if any); what each removed. */
  runOnce(): Promise<Record<string, number>>;
  /** No purge starts after this; resolves once the running one (if any) ended. */
  stop(): Promise<void>;
}

/**
 * The processor's retention purge of the embedded stores (core/ports/retention.ts): once at start,
 * then every `intervalMs`, one purge at a time. A store that fails is logged and tried again next
 * time (a purge is idempotent); the others still run. Targets keeping forever are skipped.
 */
export function startRetentionPurge(options: RetentionPurgeOptions): RetentionPurgeRun {
  const now = options.now ?? Date.now;
  const logger = options.logger.child({ component: 'retention-purge' });
  const targets = options.targets.filter((t) => t.days > 0);
  const purged = options.metrics
    ? new Counter({ name: 'vigil_retention_purged_total', help: 'Records removed by the retention purge of the embedded stores', labelNames: ['store'] as const, registers: [options.metrics.registry] })
    : undefined;
  let stopped = false;
  let running: Promise<Record<string, number>> = Promise.resolve({});

  const purgeAll = async (): Promise<Record<string, number>> => {
    const removed: Record<string, number> = {};
    for (const target of targets) {
      if (stopped) break;
      const cutoff = retentionCutoff(now(), target.days)!;
      const started = now();
      try {
        const result = await target.store.purgeOlderThan(cutoff);
        removed[target.name] = result.removed;
        purged?.inc({ store: target.name }, result.removed);
        logger.info({ store: target.name, removed: result.removed, before: new Date(cutoff).toISOString(), ms: now() - started }, 'retention purge');
      } catch (error) {
        logger.error({ err: error, store: target.name }, 'retention purge failed; it runs again at the next interval');
      }
    }
    return removed;
  };
  const runOnce = (): Promise<Record<string, number>> => (running = running.then(purgeAll, purgeAll));

  if (targets.length > 0) {
    logger.info({ stores: targets.map((t) => `${t.name}: ${t.days} days`), everySeconds: options.intervalMs / 1000 }, 'retention purge scheduled');
    void runOnce();
  }
  const timer = targets.length > 0 ? setInterval(() => void runOnce(), options.intervalMs) : undefined;
  timer?.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running.catch(() => undefined);
    },
  };
}
