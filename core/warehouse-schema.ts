/**
 * One declaration of every warehouse table. Both the DuckDB and the BigQuery adapters derive
 * their DDL from it, and the batch loader converts CSV values to these types, so a column is
 * declared once for every target.
 *
 * Vigil's own CSV layout (what the simulators write) uses exactly these column names as headers.
 */
export type ColumnType = 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP' | 'DATE';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly required?: boolean;
  readonly description?: string;
}

export interface TableSpec {
  readonly name: TableName;
  readonly description: string;
  readonly columns: readonly ColumnSpec[];
  /** Natural key: what makes a row "the same row" for idempotent appends and reloads. */
  readonly key: readonly string[];
  /**
   * Columns that merge on `append` (the reading merge rule, core/domain/merge-reading.ts): a row
   * whose key is already held fills in those of these columns the held row has null; a held value
   * stands, and every other column keeps the first row's value. Without it, the first row of a
   * key stands whole.
   */
  readonly mergeColumns?: readonly string[];
  /** BigQuery day partitioning column (a TIMESTAMP or DATE). */
  readonly partitionBy?: string;
  /** BigQuery clustering columns. */
  readonly clusterBy?: readonly string[];
}

export type TableName =
  | 'patients'
  | 'admissions'
  | 'icustays'
  | 'vitals'
  | 'risk_scores'
  | 'dead_letters';

const col = (name: string, type: ColumnType, required = false, description?: string): ColumnSpec =>
  ({ name, type, required, ...(description ? { description } : {}) });

export const TABLES: Readonly<Record<TableName, TableSpec>> = Object.freeze({
  patients: {
    name: 'patients',
    description: 'One row per patient (MIMIC PATIENTS).',
    columns: [
      col('patient_id', 'STRING', true),
      col('gender', 'STRING'),
      col('date_of_birth', 'DATE'),
      col('date_of_death', 'DATE'),
      col('expire_flag', 'BOOL'),
    ],
    key: ['patient_id'],
    clusterBy: ['patient_id'],
  },
  admissions: {
    name: 'admissions',
    description: 'One row per hospital admission (MIMIC ADMISSIONS), with cost and outcome.',
    columns: [
      col('admission_id', 'STRING', true),
      col('patient_id', 'STRING', true),
      col('admitted_at', 'TIMESTAMP', true),
      col('discharged_at', 'TIMESTAMP'),
      col('died_at', 'TIMESTAMP'),
      col('admission_type', 'STRING'),
      col('admission_location', 'STRING'),
      col('discharge_location', 'STRING'),
      col('insurance', 'STRING'),
      col('diagnosis', 'STRING'),
      col('hospital_expire_flag', 'BOOL'),
      col('total_cost', 'FLOAT64', false, 'Cost of the stay in the hospital currency, when known.'),
      // Added with ADT: provision adds it to an existing table; batch-loaded rows hold NULL.
      col('cancelled_at', 'TIMESTAMP', false, 'When the admission was cancelled (ADT A11): it never happened, the row stays for the record.'),
    ],
    key: ['admission_id'],
    partitionBy: 'admitted_at',
    clusterBy: ['patient_id'],
  },
  icustays: {
    name: 'icustays',
    description: 'One row per ICU stay (MIMIC ICUSTAYS).',
    columns: [
      col('icustay_id', 'STRING', true),
      col('patient_id', 'STRING', true),
      col('admission_id', 'STRING', true),
      col('first_careunit', 'STRING'),
      col('last_careunit', 'STRING'),
      col('icu_intime', 'TIMESTAMP', true),
      col('icu_outtime', 'TIMESTAMP'),
      col('los_days', 'FLOAT64'),
    ],
    key: ['icustay_id'],
    partitionBy: 'icu_intime',
    clusterBy: ['patient_id'],
  },
  vitals: {
    name: 'vitals',
    description: 'One row per accepted reading, each reading once however often it was delivered.',
    columns: [
      col('reading_id', 'STRING', true),
      col('patient_id', 'STRING', true),
      col('device_id', 'STRING', true),
      col('observed_at', 'TIMESTAMP', true),
      col('received_at', 'TIMESTAMP', true),
      col('heart_rate', 'FLOAT64'),
      col('systolic', 'FLOAT64'),
      col('diastolic', 'FLOAT64'),
      col('temperature_c', 'FLOAT64'),
      col('spo2', 'FLOAT64'),
      col('respiratory_rate', 'FLOAT64'),
      col('on_oxygen', 'BOOL'),
      col('consciousness', 'STRING'),
    ],
    key: ['reading_id'],
    mergeColumns: ['heart_rate', 'systolic', 'diastolic', 'temperature_c', 'spo2', 'respiratory_rate', 'on_oxygen', 'consciousness'],
    partitionBy: 'observed_at',
    clusterBy: ['patient_id'],
  },
  risk_scores: {
    name: 'risk_scores',
    description: 'One row per scoring of a patient: NEWS2 and the model probability.',
    columns: [
      col('patient_id', 'STRING', true),
      col('scored_at', 'TIMESTAMP', true),
      col('news2_score', 'INT64', true),
      col('news2_level', 'STRING', true),
      col('risk_score', 'FLOAT64'),
      col('model', 'STRING'),
      col('factors', 'STRING', false, 'JSON array of {feature, contribution, value}.'),
      // Added after the first release: provision adds them to an existing table; older rows hold NULL (unknown).
      col('news2_complete', 'BOOL', false, 'Every NEWS2 parameter was observed within the maximum age of the newest reading.'),
      col('news2_missing', 'STRING', false, 'JSON array of the NEWS2 parameters not observed within that age.'),
    ],
    key: ['patient_id', 'scored_at'],
    partitionBy: 'scored_at',
    clusterBy: ['patient_id'],
  },
  dead_letters: {
    name: 'dead_letters',
    description: 'Input that could not be used, with the reason and the original payload.',
    columns: [
      col('dead_letter_id', 'STRING', true),
      col('received_at', 'TIMESTAMP', true),
      col('source', 'STRING', true),
      col('reason', 'STRING', true),
      col('field', 'STRING'),
      col('patient_id', 'STRING'),
      col('payload', 'STRING', true, 'The original message: JSON as sent, an Avro reading as its record in JSON, or base64:-prefixed bytes when undecodable.'),
    ],
    key: ['dead_letter_id'],
    partitionBy: 'received_at',
  },
});

export const TABLE_NAMES = Object.keys(TABLES) as TableName[];
