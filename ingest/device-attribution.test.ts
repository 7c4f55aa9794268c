import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteDeviceAssociations } from '../adapters/embedded/device-associations-sqlite.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import type { RawReading } from '../core/domain/reading.ts';
import type { DeviceAssociations } from '../core/ports/device-associations.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { frameMllp } from '../core/wire/hl7/mllp-framing.ts';
import { readingIdOf } from '../core/wire/reading-codec.ts';
import { bearer, readSideApp } from '../dashboard-api/test-fixtures.ts';
import { deviceAssociationRoute } from './device-association-route.ts';
import { createDeviceAttribution } from './device-attribution.ts';
import { createAdtRecords } from './hl7/adt-records.ts';
import type { RawClient, RecordingServer } from './hl7/mllp-test-support.ts';
import { connectRaw, msaOf, startRecordingServer } from './hl7/mllp-test-support.ts';

/**
 * Issue 16, item 6: monitors behind a bedside gateway send no patient id (PID-3 empty), only their
 * device (OBX-18) and sometimes the bed (PV1-3). Their readings go to whoever held the device or
 * bed at the reading's time (ADT or a clinician's association), are held while nobody did, and are
 * released under the right patient once an association covering their time arrives.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-attribution-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOUR = 3_600_000;
const T0 = Math.floor((Date.now() - 10 * HOUR) / 1000) * 1000;
const hl7 = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace(/[-T:]/g, '')}+0000`;

/** A gateway's ORU^R01: empty PID-3, the bed in PV1-3 (when it knows it), the device in OBX-18. */
const gatewayOru = (when: number, heartRate: number, opts: { bed?: string; device?: string } = {}): string => [
  `MSH|^~\\&|GATEWAY|ICU|VIGIL|HOSP|${hl7(when)}||ORU^R01^ORU_R01|G-${when}-${heartRate}|P|2.6`,
  'PID|||',
  ...(opts.bed ? [`PV1||I|${opts.bed}`] : []),
  `OBR|1|G-${when}^GATEWAY||182777000^monitoring of patient^SCT|||${hl7(when)}`,
  `OBX|1|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.0.1.1|${heartRate}|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||${hl7(when)}||||${opts.device ?? 'GW-MON-7'}^^0123456789ABCDEF^EUI-64`,
].join('\r');
const adt = (event: string, mrn: string, when: number, bed: string): string => [
  `MSH|^~\\&|ADT1|HOSP|VIGIL|WARD|${hl7(when)}||ADT^${event}|ADT-${event}-${mrn}-${when}|P|2.5.1`,
  `EVN|${event}|${hl7(when)}`,
  `PID|1||${mrn}^^^HOSP^MR||DOE^JANE||19700101|F`,
  `PV1|1|I|${bed}|E||||||||||||||||V-${mrn}`,
].join('\r');

describe('readings of monitors that name no patient', () => {
  let warehouse: Warehouse;
  let associations: DeviceAssociations;
  let edge: RecordingServer;
  let client: RawClient;

  beforeAll(async () => {
    warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
    await warehouse.provision();
  });
  afterAll(async () => warehouse?.close());
  beforeEach(async () => {
    associations = createSqliteDeviceAssociations({ path: ':memory:' });
    const records = createAdtRecords(warehouse, associations);
    const published: RawReading[] = [];
    const attribution = createDeviceAttribution(associations, async (readings) => { published.push(...readings); });
    edge = await startRecordingServer({
      attribution,
      adt: {
        allowedSenders: [{ application: 'ADT1' }],
        record: async (event) => {
          await records.apply(event);
          if (event.visit.bed) await attribution.release('bed', event.visit.bed);
        },
      },
      allowedSenders: [{ application: 'GATEWAY' }],
      publish: async (readings) => { published.push(...readings); },
    });
    edge.published = published;
    client = await connectRaw(edge.port);
  });
  afterEach(async () => {
    client.end();
    await edge.server.close();
    await associations.close();
  });

  const send = async (message: string) => {
    client.send(frameMllp(message));
    return msaOf(await client.nextAck());
  };
  const attributed = () => edge.published.map((r) => [r.patientId, r.heartRate, r.observedAt]);

  it('by bed and by time: before and after a transfer each reading goes to who was in the bed then; none goes to the wrong patient', async () => {
    await send(adt('A01', 'MRN-A', T0, '4N^401^A'));
    await send(adt('A02', 'MRN-A', T0 + 2 * HOUR, '4N^402^B'));
    await send(adt('A01', 'MRN-B', T0 + 3 * HOUR, '4N^401^A'));
    expect((await send(gatewayOru(T0 + HOUR, 81, { bed: '4N^401^A' }))).code).toBe('AA');
    expect((await send(gatewayOru(T0 + 4 * HOUR, 99, { bed: '4N^401^A' }))).code).toBe('AA');
    expect(attributed()).toEqual([['MRN-A', 81, T0 + HOUR], ['MRN-B', 99, T0 + 4 * HOUR]]);
    expect(edge.published[0]!.readingId, 'the reading id names the patient it went to').toBe(readingIdOf('GW-MON-7', 'MRN-A', T0 + HOUR));
  });

  it('an empty bed holds the reading (AA, said in the ACK), and the next admission to that bed releases it only if it covers its time', async () => {
    await send(adt('A01', 'MRN-A', T0, '4N^401^A'));
    await send(adt('A02', 'MRN-A', T0 + 2 * HOUR, '4N^402^B'));
    const between = await send(gatewayOru(T0 + 2.5 * HOUR, 70, { bed: '4N^401^A' }));
    expect(between.code).toBe('AA');
    expect(between.text).toContain('held 1');
    expect(attributed(), 'the bed was empty: nobody gets it').toEqual([]);
    await send(adt('A01', 'MRN-B', T0 + 3 * HOUR, '4N^401^A'));
    expect(attributed(), 'MRN-B was admitted after the reading: still held').toEqual([]);
    expect(await associations.heldFor('bed', '4N-401-A')).toHaveLength(1);
    await send(adt('A01', 'MRN-C', T0 + 2.2 * HOUR, '4N^401^A')); // a late-recorded admission covering it
    expect(attributed()).toEqual([['MRN-C', 70, T0 + 2.5 * HOUR]]);
    expect(await associations.heldFor('bed', '4N-401-A'), 'released readings are no longer held').toEqual([]);
  });

  it('by device through PUT /v1/devices/:deviceId/association (clinician, audited): held readings in the new interval are released, earlier ones stay held', async () => {
    expect((await send(gatewayOru(T0 + HOUR, 75, { device: 'PUMP-12' }))).text).toContain('held 1');
    expect((await send(gatewayOru(T0 + 3 * HOUR, 77, { device: 'PUMP-12' }))).text).toContain('held 1');
    expect((await send(gatewayOru(T0 + 3 * HOUR, 77, { device: 'PUMP-12' }))).code, 'redelivered: held once').toBe('AA');
    const attribution = createDeviceAttribution(associations, async (readings) => { edge.published.push(...readings); });
    const { app, audit } = readSideApp({ routes: [(instance: FastifyInstance) => void instance.register(deviceAssociationRoute, { associations, attribution })] });
    try {
      const asDevice = await app.inject({ method: 'PUT', url: '/v1/devices/PUMP-12/association', headers: bearer('device'), payload: { patientId: 'MRN-D' } });
      expect(asDevice.statusCode, 'a device may not attribute readings').toBe(403);
      const response = await app.inject({
        method: 'PUT', url: '/v1/devices/PUMP-12/association', headers: bearer('clinician', 'nurse-1'),
        payload: { patientId: 'MRN-D', from: new Date(T0 + 2 * HOUR).toISOString() },
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toMatchObject({ deviceId: 'PUMP-12', patientId: 'MRN-D', released: 1 });
      expect(attributed()).toEqual([['MRN-D', 77, T0 + 3 * HOUR]]);
      expect(await associations.heldFor('device', 'PUMP-12'), 'the reading before the association stays held').toHaveLength(1);
      const trail = await audit.list({ patientId: 'MRN-D', limit: 10 });
      expect(trail).toContainEqual(expect.objectContaining({ actor: 'nurse-1', action: 'PUT /v1/devices/:deviceId/association' }));
      const later = await send(gatewayOru(T0 + 4 * HOUR, 79, { device: 'PUMP-12' }));
      expect(later.code).toBe('AA');
      expect(attributed().at(-1), 'new readings of the device go straight to the patient').toEqual(['MRN-D', 79, T0 + 4 * HOUR]);
    } finally {
      await app.close();
    }
  });

  it('a discharge ends the device association: later readings are held, not given to the discharged patient', async () => {
    await send(adt('A01', 'MRN-E', T0, '4N^405^A'));
    await associations.associate({ kind: 'device', key: 'MON-E', patientId: 'MRN-E', from: T0, source: 'clinician:nurse' });
    await send(adt('A03', 'MRN-E', T0 + HOUR, '4N^405^A'));
    expect((await send(gatewayOru(T0 + 30 * 60_000, 88, { device: 'MON-E' }))).code).toBe('AA');
    expect((await send(gatewayOru(T0 + 2 * HOUR, 90, { device: 'MON-E' }))).text).toContain('held 1');
    expect(attributed()).toEqual([['MRN-E', 88, T0 + 30 * 60_000]]);
  });
});
