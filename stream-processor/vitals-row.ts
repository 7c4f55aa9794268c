import type { VitalReading } from '../core/domain/reading.ts';
import type { WarehouseRow } from '../core/ports/warehouse.ts';

/** A stored reading as a `vitals` row (core/warehouse-schema.ts). */
export function vitalsRow(r: VitalReading): WarehouseRow {
  return {
    reading_id: r.readingId,
    patient_id: r.patientId,
    device_id: r.deviceId,
    observed_at: new Date(r.observedAt),
    received_at: new Date(r.receivedAt),
    heart_rate: r.heartRate,
    systolic: r.systolic,
    diastolic: r.diastolic,
    temperature_c: r.temperatureC,
    spo2: r.spo2,
    respiratory_rate: r.respiratoryRate,
    on_oxygen: r.onOxygen,
    consciousness: r.consciousness,
  };
}
