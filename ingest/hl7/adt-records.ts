import type { DeviceAssociations } from '../../core/ports/device-associations.ts';
import type { Warehouse, WarehouseRow } from '../../core/ports/warehouse.ts';
import type { AdtEvent } from './adt-to-event.ts';

/**
 * Applies ADT events to the records Vigil keeps: `patients` and `admissions` in the warehouse (the
 * rows the batch loader writes, keyed alike, so a redelivered message or a later batch load of
 * the same admission leaves one row) and the bed intervals of the device association store.
 *
 * Every event is applied as "read the row, change the fields the event speaks for, write it back"
 * (`replaceRows`, the newest version per key on every warehouse), so applying one message twice
 * leaves what applying it once did. Events are applied one at a time in this process; two
 * instances applying events of one admission at the same moment may lose one of the two field
 * changes (ingest/hl7/README.md, "ADT").
 */
export interface AdtRecords {
  /** Resolves once the event is recorded (the ACK is AA only then); what changed on the ward. */
  apply(event: AdtEvent): Promise<AdtOutcome>;
}

export interface AdtOutcome {
  /** Patients who left the ward view with this event (discharge, cancelled admission, merge). */
  readonly left: readonly string[];
  /** Patients whose bed or stay changed and who remain on the ward. */
  readonly moved: readonly string[];
}

export function createAdtRecords(warehouse: Warehouse, associations: DeviceAssociations): AdtRecords {
  let queue: Promise<unknown> = Promise.resolve();

  async function admissionsOf(patientId: string): Promise<WarehouseRow[]> {
    return [...(await warehouse.namedQuery('admission_records_of_patient', { patient_id: patientId }, {})).rows];
  }

  async function patientRow(patientId: string): Promise<WarehouseRow | undefined> {
    return (await warehouse.namedQuery('patient_record', { patient_id: patientId }, {})).rows[0];
  }

  /** The admission the event speaks of: by visit number, else the patient's latest one not cancelled. */
  function admissionFor(rows: readonly WarehouseRow[], event: AdtEvent): WarehouseRow | undefined {
    if (event.visit.admissionId) return rows.find((r) => r.admission_id === event.visit.admissionId);
    return [...rows].reverse().find((r) => r.cancelled_at === null || r.cancelled_at === undefined);
  }

  async function upsertPatient(event: AdtEvent): Promise<void> {
    const held = await patientRow(event.patient.patientId);
    const row: WarehouseRow = {
      ...(held ?? {}),
      patient_id: event.patient.patientId,
      gender: event.patient.gender ?? held?.gender ?? null,
      date_of_birth: event.patient.dateOfBirth ?? dateOnly(held?.date_of_birth),
    };
    if (held && sameRow(withDateOfBirth(held), withDateOfBirth(row))) return;
    await warehouse.replaceRows('patients', [withDateOfBirth(row)]);
  }

  async function writeAdmission(held: WarehouseRow | undefined, changes: WarehouseRow): Promise<void> {
    const row = { ...(held ?? {}), ...changes };
    if (held && sameRow(held, row)) return;
    await warehouse.replaceRows('admissions', [row]);
  }

  async function applyNow(event: AdtEvent): Promise<AdtOutcome> {
    const patientId = event.patient.patientId;
    const stay = { left: [] as string[], moved: [patientId] };
    // Patients first: an analyst never sees an admission whose patient is missing.
    await upsertPatient(event);
    const rows = await admissionsOf(patientId);
    const held = admissionFor(rows, event);
    const { visit } = event;
    const placed = async (from: number): Promise<void> => {
      if (visit.bed) await associations.associate({ kind: 'bed', key: visit.bed, patientId, from, source: 'adt' });
    };

    switch (event.trigger) {
      case 'A01':
      case 'A04': {
        const admittedAt = visit.admittedAt ?? event.at;
        await writeAdmission(held, {
          admission_id: visit.admissionId ?? String(held?.admission_id ?? `${patientId}@${new Date(admittedAt).toISOString()}`),
          patient_id: patientId,
          admitted_at: held?.admitted_at ?? new Date(admittedAt),
          ...(visit.admissionType ? { admission_type: visit.admissionType } : {}),
          ...(visit.bed ? { admission_location: held?.admission_location ?? visit.bed } : {}),
        });
        await placed(admittedAt);
        return stay;
      }
      case 'A02': {
        if (!held) {
          const admittedAt = visit.admittedAt ?? event.at;
          await writeAdmission(undefined, {
            admission_id: visit.admissionId ?? `${patientId}@${new Date(admittedAt).toISOString()}`,
            patient_id: patientId, admitted_at: new Date(admittedAt), admission_type: visit.admissionType,
          });
        }
        // Already in that bed (a redelivered transfer, or a FHIR Encounter restating its location): nothing moves.
        const open = (await associations.ofPatient(patientId)).filter((a) => a.kind === 'bed' && a.to === null).at(-1);
        if (open?.key !== visit.bed) await placed(event.at);
        return stay;
      }
      case 'A03': {
        const dischargedAt = visit.dischargedAt ?? event.at;
        if (held) {
          await writeAdmission(held, {
            discharged_at: held.discharged_at ?? new Date(dischargedAt),
            ...(visit.dischargeDisposition ? { discharge_location: visit.dischargeDisposition } : {}),
          });
        }
        const endedAt = held?.discharged_at instanceof Date ? held.discharged_at.getTime() : dischargedAt;
        await associations.endPatient(patientId, endedAt);
        return { left: [patientId], moved: [] };
      }
      case 'A08': {
        if (held && visit.admissionType) await writeAdmission(held, { admission_type: visit.admissionType });
        return stay;
      }
      case 'A11': {
        if (held) {
          await writeAdmission(held, { cancelled_at: held.cancelled_at ?? new Date(event.at) });
          const admittedAt = (held.admitted_at as Date).getTime();
          const beds = (await associations.ofPatient(patientId)).filter((a) => a.kind === 'bed' && a.from >= admittedAt);
          for (const bed of beds.reverse()) await associations.retract('bed', bed.key, bed.from);
        }
        return { left: [patientId], moved: [] };
      }
      case 'A12': {
        // The transfer cancelled is the patient's newest open bed (PV1-3 names the bed they return
        // to, so a redelivered A12 finds them there and changes nothing); retracting it reopens the bed before.
        const beds = (await associations.ofPatient(patientId)).filter((a) => a.kind === 'bed');
        const open = beds.filter((a) => a.to === null).at(-1);
        const wasTransfer = open !== undefined && beds.some((a) => a.to === open.from);
        if (open && wasTransfer && open.key !== visit.bed) await associations.retract('bed', open.key, open.from);
        return stay;
      }
      case 'A13': {
        if (held && held.discharged_at instanceof Date) {
          const dischargedAt = held.discharged_at.getTime();
          await writeAdmission(held, { discharged_at: null, discharge_location: null });
          await associations.reopenPatient(patientId, dischargedAt);
        }
        return stay;
      }
      case 'A40': {
        const lost = event.mergedPatientId!;
        const moved = (await admissionsOf(lost)).map((row) => ({ ...row, patient_id: patientId }));
        if (moved.length > 0) await warehouse.replaceRows('admissions', moved);
        await associations.reassignPatient(lost, patientId);
        return { left: [lost], moved: [patientId] };
      }
    }
  }

  return {
    apply(event) {
      const run = queue.then(() => applyNow(event));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

function dateOnly(value: unknown): string | null {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return typeof value === 'string' ? value : null;
}

/** DATE columns are written as YYYY-MM-DD strings, as the batch loader and the ward recorder do. */
function withDateOfBirth(row: WarehouseRow): WarehouseRow {
  return { ...row, date_of_birth: dateOnly(row.date_of_birth), date_of_death: dateOnly(row.date_of_death) };
}

function sameRow(a: WarehouseRow, b: WarehouseRow): boolean {
  const norm = (v: unknown): unknown => (v instanceof Date ? v.getTime() : v ?? null);
  return Object.keys({ ...a, ...b }).every((k) => norm(a[k]) === norm(b[k]));
}
