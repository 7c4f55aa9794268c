/**
 * Environment of `vigil` processes sharing one run on the Google emulators: every topic,
 * subscription, table, dataset and bucket carries the run's prefix, so runs never see each
 * other's data. `emulatorEnv` is what the emulator gate returned; `extra` overrides anything.
 */
export function googleRunEnv(emulatorEnv: Record<string, string>, run: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...emulatorEnv,
    VIGIL_BUS: 'pubsub', VIGIL_TIMESERIES: 'bigtable', VIGIL_WAREHOUSE: 'bigquery',
    VIGIL_READINGS_TOPIC: `${run}-readings`, VIGIL_DEAD_LETTER_TOPIC: `${run}-dead`, VIGIL_SUBSCRIPTION: `${run}-processor`,
    VIGIL_BIGTABLE_TABLE: `${run}-vitals`, VIGIL_BIGTABLE_SESSIONS_TABLE: `${run}-sessions`,
    VIGIL_BIGTABLE_AUDIT_TABLE: `${run}-audit`, VIGIL_BIGTABLE_ALERTS_TABLE: `${run}-alerts`,
    VIGIL_BIGQUERY_DATASET: run.replaceAll('-', '_'), VIGIL_BUCKET: `${run}-landing`,
    ...extra,
  };
}
