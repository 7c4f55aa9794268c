import type { FastifyInstance } from 'fastify';

/**
 * What the risk score on the ward is (models/provenance.ts builds it at start-up): the served model
 * name, target, horizon, that it was trained on simulated data, and `validatedLocally` with the
 * local validation's version, date, size and AUROC once a site's calibration is loaded.
 */
export interface ModelProvenanceView {
  readonly model: string | null;
  readonly target: string;
  readonly horizonHours: number;
  readonly trainedOn: string;
  readonly validatedLocally: boolean;
  readonly localValidation: Readonly<Record<string, unknown>> | null;
  readonly summary: string;
}

/** `GET /v1/model` (clinician): the provenance the dashboard shows beside the risk figures. */
export function registerModelRoute(app: FastifyInstance, provenance: ModelProvenanceView): void {
  app.get('/v1/model', { config: { access: 'clinician' } }, async () => provenance);
}
