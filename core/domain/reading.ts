/**
 * The reading types that cross module boundaries.
 *
 * `IngestReading` is what a device sends (the README's "A reading"), `RawReading` is what travels
 * on the bus (the Avro record of core/wire), and `VitalReading` is what the processor stores after
 * parsing, unit normalisation and plausibility checks.
 */

export type Consciousness = 'A' | 'C' | 'V' | 'P' | 'U';

/** A reading as a device posts it. Vitals are optional; values are not yet trusted. */
export interface IngestReading {
  deviceId: string;
  patientId: string;
  observedAt: string | number;
  heartRate?: number;
  bloodPressure?: string;
  temperature?: number;
  temperatureUnit?: 'C' | 'F';
  spo2?: number;
  respiratoryRate?: number;
  onOxygen?: boolean;
  consciousness?: Consciousness;
}

/** The bus record: identity fields checked at the edge, vitals carried as received. */
export interface RawReading {
  readingId: string;
  deviceId: string;
  patientId: string;
  /** Epoch milliseconds, UTC. */
  observedAt: number;
  /** Epoch milliseconds when the edge accepted it. */
  receivedAt: number;
  /** Which edge accepted it: "json", "hl7v2", "fhir", "simulator". */
  source: string;
  heartRate: number | null;
  bloodPressure: string | null;
  temperature: number | null;
  temperatureUnit: string | null;
  spo2: number | null;
  respiratoryRate: number | null;
  onOxygen: boolean | null;
  consciousness: string | null;
}

/** A parsed, plausible reading as stored in the time-series store and the warehouse. */
export interface VitalReading {
  readingId: string;
  patientId: string;
  deviceId: string;
  /** Epoch milliseconds, UTC. */
  observedAt: number;
  receivedAt: number;
  heartRate: number | null;
  systolic: number | null;
  diastolic: number | null;
  temperatureC: number | null;
  spo2: number | null;
  respiratoryRate: number | null;
  onOxygen: boolean | null;
  consciousness: Consciousness | null;
}

export type News2Level = 'low' | 'low-medium' | 'medium' | 'high';

/** NEWS2 parameters by the names the API, the stream, the warehouse and the dashboard use (the README). */
export type News2ParameterName = 'respiratoryRate' | 'spo2' | 'onOxygen' | 'systolic' | 'heartRate' | 'consciousness' | 'temperature';

export interface RiskFactor {
  feature: string;
  /** Signed contribution to the score (log-odds or probability units; the model card says). */
  contribution: number;
  value: number | null;
}

/** One scoring of one patient at one time. */
export interface RiskScore {
  patientId: string;
  /** Epoch milliseconds of the newest reading the score saw. */
  scoredAt: number;
  news2Score: number;
  news2Level: News2Level;
  /**
   * Every NEWS2 parameter was observed within the maximum age of the newest reading (one
   * observation set). When false the score is a lower bound over the parameters present.
   */
  news2Complete: boolean;
  /** The parameters that were not (empty when complete; empty and incomplete for scores stored before this was recorded). */
  news2Missing: News2ParameterName[];
  /** Model probability 0..1, or null while no model is loaded. */
  riskScore: number | null;
  /** Model name and version, e.g. "recovery-risk@1". */
  model: string | null;
  factors: RiskFactor[];
}

/** Per-patient clinical settings that change how readings are scored. */
export interface PatientProfile {
  patientId: string;
  /** NEWS2 SpO2 scale: 2 only for patients a clinician flagged (target 88–92%). */
  spo2Scale: 1 | 2;
  /** A clinician recorded the patient's confusion as their baseline: NEWS2 then scores only new confusion. Absent: false. */
  baselineConfusion?: boolean;
  /** Epoch milliseconds of the last change. */
  updatedAt: number;
  /** Who changed it (token subject), for the record. */
  updatedBy: string;
}
