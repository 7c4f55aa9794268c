import { describe, expect, it } from 'vitest';
import { createSqliteDeviceAssociations } from '../adapters/embedded/device-associations-sqlite.ts';
import { waitFor } from '../core/contracts/wait-for.ts';
import { createInMemoryPatientUpdates } from '../core/domain/patient-updates.ts';
import { createLogger } from '../core/observability/logger.ts';
import { inMemoryTimeSeries, reading } from '../dashboard-api/test-fixtures.ts';
import { createWardCensus } from '../dashboard-api/ward-census.ts';
import { pollPatientUpdates } from './poll-patient-updates.ts';

describe('the update poller of a dashboard without a processor or edge in its process', () => {
  it('announces a patient discharged through another instance as left, once, and again after a cancelled discharge and a new one', async () => {
    const timeseries = inMemoryTimeSeries();
    const associations = createSqliteDeviceAssociations({ path: ':memory:' });
    const updates = createInMemoryPatientUpdates();
    const left: string[] = [];
    updates.subscribeLeft((patientId) => left.push(patientId));
    await timeseries.writeReadings([reading('MRN-1', 1_000), reading('MRN-2', 1_000)]);
    await associations.associate({ kind: 'bed', key: '4N-401-A', patientId: 'MRN-1', from: 500, source: 'adt' });
    await associations.associate({ kind: 'bed', key: '4N-401-B', patientId: 'MRN-2', from: 500, source: 'adt' });
    // Polls are counted, so the test waits for polls rather than for time.
    let polls = 0;
    const counted = { ...timeseries, listPatients: async () => { polls++; return timeseries.listPatients(); } };
    const morePolls = async (n: number, what: string) => {
      const target = polls + n;
      await waitFor(() => polls >= target, 5_000, what);
    };
    const poller = pollPatientUpdates({
      timeseries: counted, updates, logger: createLogger({ level: 'silent' }), intervalMs: 5, census: createWardCensus(associations), censusEvery: 1,
    });
    try {
      await associations.endPatient('MRN-1', 2_000); // what another instance's edge records for A03
      await waitFor(() => left.length > 0, 5_000, 'a patient-left announcement for MRN-1');
      await morePolls(5, 'five more polls');
      expect(left).toEqual(['MRN-1']);
      await associations.reopenPatient('MRN-1', 2_000); // A13
      await morePolls(3, 'polls that see the patient back on the ward');
      await associations.endPatient('MRN-1', 3_000);
      await waitFor(() => left.length > 1, 5_000, 'a second patient-left announcement after the new discharge');
      expect(left).toEqual(['MRN-1', 'MRN-1']);
    } finally {
      await poller.stop();
      await associations.close();
      await timeseries.close();
    }
  });
});
