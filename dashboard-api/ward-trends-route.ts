import type { FastifyInstance } from 'fastify';
import type { Warehouse } from '../core/ports/warehouse.ts';

/** Points per sparkline: enough to show a trend in a tile, few enough for 200 tiles at once. */
export const TREND_POINTS = 48;
const TREND_VITALS = ['heart_rate', 'respiratory_rate', 'spo2', 'systolic', 'temperature_c'] as const;
const TREND_KEYS = ['heartRate', 'respiratoryRate', 'spo2', 'systolic', 'temperatureC'] as const;

export interface PatientTrend {
  patientId: string;
  /** Bucket start times, epoch ms ascending. */
  t: number[];
  heartRate: (number | null)[];
  respiratoryRate: (number | null)[];
  spo2: (number | null)[];
  systolic: (number | null)[];
  temperatureC: (number | null)[];
}

/**
 * `GET /v1/ward/trends?hours=` (clinician, audited): every patient's vitals of the last hours as
 * bucket means, for the ward's sparklines (named query `ward_trends`, analytics-sql/). One warehouse aggregation for the whole ward instead
 * of a history request per tile; the page then extends the lines from the live stream.
 */
export function registerWardTrendsRoute(app: FastifyInstance, deps: { warehouse: Warehouse }): void {
  const { warehouse } = deps;
  app.get('/v1/ward/trends', {
    config: { access: 'clinician', audit: true },
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { hours: { type: 'integer', minimum: 1, maximum: 24, default: 4 } },
      },
    },
  }, async (request) => {
    const { hours } = request.query as { hours: number };
    const bucketMs = Math.ceil((hours * 3_600_000) / TREND_POINTS);
    const result = await warehouse.namedQuery('ward_trends', { from: new Date(Date.now() - hours * 3_600_000) }, { bucket_ms: bucketMs });
    const byPatient = new Map<string, PatientTrend>();
    for (const row of result.rows) {
      const patientId = String(row.patient_id);
      let trend = byPatient.get(patientId);
      if (!trend) {
        trend = { patientId, t: [], heartRate: [], respiratoryRate: [], spo2: [], systolic: [], temperatureC: [] };
        byPatient.set(patientId, trend);
      }
      trend.t.push(Number(row.bucket));
      TREND_VITALS.forEach((column, i) => {
        const value = row[column];
        trend[TREND_KEYS[i]!].push(typeof value === 'number' ? Math.round(value * 10) / 10 : null);
      });
    }
    return { bucketMs, patients: [...byPatient.values()] };
  });
}
