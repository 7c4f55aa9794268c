import type { PatientSummary } from '../core/domain/patient-summary.ts';
import type { DeviceAssociations, Whereabouts } from '../core/ports/device-associations.ts';
import { whereaboutsOf } from '../core/ports/device-associations.ts';

/**
 * Who is on the ward and in which bed, from ADT (the bed intervals of the device association
 * store). A patient ADT never mentioned (a monitor's readings before any ADT feed, the simulated
 * ward) is on the ward without a bed; a discharged patient is not, though their history stays
 * readable by id.
 */
export interface WardCensus {
  whereabouts(patientId: string): Promise<Whereabouts | undefined>;
}

export function createWardCensus(associations: DeviceAssociations): WardCensus {
  return { whereabouts: async (patientId) => whereaboutsOf(await associations.ofPatient(patientId)) };
}

/** The summary with its bed, or undefined when the patient has left the ward. */
export async function placeOnWard(summary: PatientSummary, census: WardCensus): Promise<PatientSummary | undefined> {
  const where = await census.whereabouts(summary.patientId);
  if (!where) return summary;
  if (where.left) return undefined;
  return { ...summary, bed: where.bed };
}
