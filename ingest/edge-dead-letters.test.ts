import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { createEdgeDeadLetters } from './edge-dead-letters.ts';
import { patientIdOfFhirPayload } from './fhir/fhir-patient-of.ts';
import { frameMllp } from '../core/wire/hl7/mllp-framing.ts';
import { patientIdOfMessage } from './hl7/oru-to-readings.ts';
import type { RecordingServer } from './hl7/mllp-test-support.ts';
import { connectRaw, msaOf, startRecordingServer } from './hl7/mllp-test-support.ts';

/** Dead letters from the HL7 and FHIR edges are filed under the patient their payload names (issue 12, finding 15). */
let warehouse: Warehouse;
let running: RecordingServer | undefined;
beforeEach(async () => {
  warehouse = await createDuckDbWarehouse({ path: ':memory:' });
  await warehouse.provision();
});
afterEach(async () => {
  await running?.server.close();
  running = undefined;
  await warehouse.close();
});

const patientsOfDeadLetters = async (): Promise<{ source: unknown; patient_id: unknown }[]> =>
  (await warehouse.query('SELECT source, patient_id FROM dead_letters ORDER BY reason')).rows as { source: unknown; patient_id: unknown }[];

const at = `${new Date(Date.now() - 60_000).toISOString().slice(0, 19).replace(/[-T:]/g, '')}+0000`;
const oru = (pid3: string, controlId: string): string => [
  `MSH|^~\\&|MONITOR|ICU|VIGIL|HOSP|${at}||ORU^R01^ORU_R01|${controlId}|P|2.6`,
  `PID|1||${pid3}`,
  `OBR|1|||182777000^monitoring of patient^SCT|||${at}`,
  'OBX|1|NM|8867-4^HR^LN||70|mm[Hg]',
].join('\r');

describe('edge dead letters carry their patient', () => {
  it('files an HL7 message refused at the MLLP edge under its PID-3 (the MR repetition)', async () => {
    running = await startRecordingServer({ deadLetter: createEdgeDeadLetters(warehouse, 'hl7v2', patientIdOfMessage) });
    const client = await connectRaw(running.port);
    client.send(frameMllp(oru('X99^^^OTHER^PI~P0012^^^HOSP^MR', 'DL-1')));
    expect(msaOf(await client.nextAck())).toMatchObject({ code: 'AE', controlId: 'DL-1' });
    client.end();
    expect(await patientsOfDeadLetters()).toEqual([{ source: 'hl7v2', patient_id: 'P0012' }]);
  });

  it('files a FHIR Observation under its subject, and a Bundle when all its entries name one patient', async () => {
    const keep = createEdgeDeadLetters(warehouse, 'fhir', patientIdOfFhirPayload);
    const observation = (patient: string) => ({ resourceType: 'Observation', status: 'final', subject: { reference: `Patient/${patient}` } });
    await keep(Buffer.from(JSON.stringify(observation('P7'))), 'a observation');
    await keep(Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [{ resource: observation('P8') }, { resource: observation('P8') }] })), 'b one-patient bundle');
    await keep(Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [{ resource: observation('P8') }, { resource: observation('P9') }] })), 'c two-patient bundle');
    await keep(Buffer.from('{not json'), 'd not json');
    await keep(Buffer.from(`${JSON.stringify(observation('P10'))}\n${JSON.stringify(observation('P10'))}`), 'e resources of one merge, as JSON lines');
    expect(await patientsOfDeadLetters()).toEqual([
      { source: 'fhir', patient_id: 'P7' },
      { source: 'fhir', patient_id: 'P8' },
      { source: 'fhir', patient_id: null },
      { source: 'fhir', patient_id: null },
      { source: 'fhir', patient_id: 'P10' },
    ]);
  });

  it('keeps no patient id that ingest would refuse, nor one from bytes that are not text', async () => {
    const keep = createEdgeDeadLetters(warehouse, 'hl7v2', patientIdOfMessage);
    await keep(Buffer.from(oru('<script>', 'S')), 'a markup id');
    await keep(Buffer.from(oru('P'.repeat(129), 'L')), 'b long id');
    await keep(Buffer.concat([Buffer.from(oru('P0012', 'B')), Buffer.of(0xff, 0xfe)]), 'c not utf-8');
    await keep(Buffer.from('garbage'), 'd not hl7');
    expect((await patientsOfDeadLetters()).map((r) => r.patient_id)).toEqual([null, null, null, null]);
  });
});
