import { afterEach, describe, expect, it } from 'vitest';
import { Client, Message } from 'node-hl7-client';
import type { InboundResponse } from 'node-hl7-client';
import { createLogger } from '../../core/observability/logger.ts';
import type { EmbeddedEdge } from './test-support/embedded-edge.ts';
import { openEmbeddedEdge } from './test-support/embedded-edge.ts';
import type { MllpServer } from './mllp-server.ts';
import { createMllpServer } from './mllp-server.ts';

/**
 * An ORU^R01 shaped like a bedside monitor's IHE PCD-01 message, sent by an MLLP client library
 * that is not ours (node-hl7-client), through the listener onto the real embedded SQLite bus.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function hl7Time(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace(/[-T:]/g, '')}+0000`;
}

function monitorOru(controlId: string, observedAt: number): string {
  const t = hl7Time(observedAt);
  return [
    `MSH|^~\\&|PHILIPS_MX800^00095C8A1234^EUI-64|ICU-WEST|VIGIL|HOSP|${t}||ORU^R01^ORU_R01|${controlId}|P|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO`,
    'PID|||P0042^^^HOSP^MR||Moss^Alma^^^^^L|||F',
    'PV1||I|ICU-WEST^^BED07',
    `OBR|1|||182777000^monitoring of patient^SCT|||${t}|${t}`,
    'OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||0123456789ABCDEF^EUI-64',
    `OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.0.1.1|88|264864^MDC_DIM_BEAT_PER_MIN^MDC|50-120||||R|||${t}||||MX800-BED07`,
    `OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.2.1|94|262688^MDC_DIM_PERCENT^MDC|90-100||||R|||${t}||||MX800-BED07`,
    `OBX|4|NM|151562^MDC_RESP_RATE^MDC|1.0.3.1|22|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R|||${t}||||MX800-BED07`,
    `OBX|5||150020^MDC_PRESS_BLD_NONINV^MDC|1.0.4|||||||X|||${t}||||MX800-BED07`,
    `OBX|6|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.0.4.1|132|266016^MDC_DIM_MMHG^MDC|||||R|||${t}||||MX800-BED07`,
    `OBX|7|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.0.4.2|84|266016^MDC_DIM_MMHG^MDC|||||R|||${t}||||MX800-BED07`,
    `OBX|8|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.0.4.3|100|266016^MDC_DIM_MMHG^MDC|||||R|||${t}||||MX800-BED07`,
    `OBX|9|NM|150364^MDC_TEMP_BODY^MDC|1.0.5.1|100.4|266560^MDC_DIM_FAHR^MDC|||||R|||${t}||||MX800-BED07`,
  ].join('\r');
}

async function listenerOnEmbeddedBus(): Promise<{ edge: EmbeddedEdge; server: MllpServer; port: number; deadLetters: string[] }> {
  const edge = await openEmbeddedEdge();
  cleanups.push(() => edge.close());
  const deadLetters: string[] = [];
  const server = createMllpServer({
    port: 0, host: '127.0.0.1',
    allowedSenders: [{ application: 'PHILIPS_MX800', facility: 'ICU-WEST' }],
    publish: (readings) => edge.publisher.publish(readings),
    deadLetter: async (_payload, reason) => {
      deadLetters.push(reason);
    },
    logger: createLogger({ level: 'silent' }), metrics: edge.metrics,
  });
  const { port } = await server.listen();
  cleanups.push(() => server.close());
  return { edge, server, port, deadLetters };
}

describe('ORU^R01 from an independent MLLP client (node-hl7-client) onto the embedded bus', () => {
  it('gets ACK AA echoing MSH-10, and the reading is on the bus with systolic/diastolic intact', async () => {
    const { edge, port, deadLetters } = await listenerOnEmbeddedBus();
    const acks: string[] = [];
    let gotAck!: () => void;
    const acked = new Promise<void>((resolve) => {
      gotAck = resolve;
    });
    const client = new Client({ host: '127.0.0.1' });
    const connection = client.createConnection({ port, waitAck: true, maxConnectionAttempts: 3 }, async (response: InboundResponse) => {
      acks.push(response.getMessage().toString());
      gotAck();
    });
    cleanups.push(() => connection.close());
    const observedAt = Math.floor((Date.now() - 120_000) / 1000) * 1000;
    await connection.sendMessage(new Message({ text: monitorOru('MX800-000731', observedAt) }));
    await acked;

    const ack = new Message({ text: acks[0]! });
    expect(ack.get('MSA.1').toString()).toBe('AA');
    expect(ack.get('MSA.2').toString()).toBe('MX800-000731');
    expect(ack.get('MSA.3').toString()).toMatch(/^accepted 1 reading; ignored OBX-3 150023/);
    expect(ack.get('MSH.9.1').toString()).toBe('ACK');
    expect(ack.get('MSH.5').toString()).toBe('PHILIPS_MX800');
    expect(deadLetters).toEqual([]);

    const [reading] = await edge.readAll(1);
    expect(reading).toMatchObject({
      patientId: 'P0042', deviceId: 'MX800-BED07', observedAt, source: 'hl7v2',
      heartRate: 88, spo2: 94, respiratoryRate: 22, bloodPressure: '132/84', temperature: 38, temperatureUnit: 'C',
    });
  });

  it('an unknown sender gets AR from the same client', async () => {
    const { port, deadLetters } = await listenerOnEmbeddedBus();
    let ack = '';
    let gotAck!: () => void;
    const acked = new Promise<void>((resolve) => {
      gotAck = resolve;
    });
    const client = new Client({ host: '127.0.0.1' });
    const connection = client.createConnection({ port, waitAck: true, maxConnectionAttempts: 3 }, async (response: InboundResponse) => {
      ack = response.getMessage().toString();
      gotAck();
    });
    cleanups.push(() => connection.close());
    await connection.sendMessage(new Message({ text: monitorOru('X-1', Date.now() - 60_000).replace('ICU-WEST', 'ICU-EAST') }));
    await acked;
    expect(new Message({ text: ack }).get('MSA.1').toString()).toBe('AR');
    expect(deadLetters[0]).toMatch(/^AR 204: sender PHILIPS_MX800\/ICU-EAST/);
  });
});
