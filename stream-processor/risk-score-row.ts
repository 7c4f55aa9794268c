import type { RiskScore } from '../core/domain/reading.ts';
import type { WarehouseRow } from '../core/ports/warehouse.ts';

/** A scoring as a `risk_scores` row; factors as a JSON array. */
export function riskScoreRow(s: RiskScore): WarehouseRow {
  return {
    patient_id: s.patientId,
    scored_at: new Date(s.scoredAt),
    news2_score: s.news2Score,
    news2_level: s.news2Level,
    risk_score: s.riskScore,
    model: s.model,
    factors: JSON.stringify(s.factors),
    news2_complete: s.news2Complete,
    news2_missing: JSON.stringify(s.news2Missing),
  };
}
