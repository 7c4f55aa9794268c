import type { Metrics } from '../../core/observability/metrics.ts';
import { VigilError } from '../../core/errors.ts';
import type { ReadinessCheck } from '../../http/operations-routes.ts';

/** A backend /readyz checks: its role and adapter kind name it, e.g. "timeseries (bigtable)". */
export interface ReadinessBackend {
  readonly role: string;
  readonly kind: string;
  ping(): Promise<void>;
}

/**
 * The checks behind `/readyz`. Each names its backend, and one is not ready either while the
 * processor holds batches because its writes to that store fail (a store can answer a ping and
 * still refuse writes). Every check also sets `vigil_backend_up{backend}`, so `/metrics` shows
 * the same answer as `/readyz`.
 */
export function readinessChecks(deps: {
  readonly backends: readonly ReadinessBackend[];
  readonly metrics: Metrics;
  /** Store kinds the processor in this process found down on its last write. */
  readonly storesDown?: () => readonly string[];
}): ReadinessCheck[] {
  return deps.backends.map((backend) => ({
    name: `${backend.role} (${backend.kind})`,
    async ping() {
      try {
        await backend.ping();
        if (deps.storesDown?.().includes(backend.kind)) {
          throw new VigilError('BACKEND_UNAVAILABLE', `the processor's writes to ${backend.kind} are failing; batches are held until it answers`);
        }
        deps.metrics.backendUp.set({ backend: backend.kind }, 1);
      } catch (error) {
        deps.metrics.backendUp.set({ backend: backend.kind }, 0);
        throw error;
      }
    },
  }));
}
