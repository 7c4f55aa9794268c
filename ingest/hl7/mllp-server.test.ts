import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { VigilError } from '../../core/errors.ts';
import { createMetrics } from '../../core/observability/metrics.ts';
import { recordingBus } from '../../dashboard-api/test-fixtures.ts';
import { createReadingPublisher } from '../reading-publisher.ts';
import { connectMllp } from '../../simulators/device-protocols/mllp-client.ts';
import { frameMllp } from '../../core/wire/hl7/mllp-framing.ts';
import type { RecordingServer } from './mllp-test-support.ts';
import { connectRaw, msaOf, startRecordingServer } from './mllp-test-support.ts';
import { budget, waitFor } from '../../core/contracts/wait-for.ts';

const at = (offsetSeconds = 0): string => {
  const d = new Date(Date.now() - 60_000 + offsetSeconds * 1000).toISOString();
  return `${d.slice(0, 19).replace(/[-T:]/g, '')}+0000`;
};

function oru(controlId: string, obx: string[], sender = 'MONITOR|ICU', extra: string[] = []): string {
  return [
    `MSH|^~\\&|${sender}|VIGIL|HOSP|${at()}||ORU^R01^ORU_R01|${controlId}|P|2.6`,
    'PID|1||P0012^^^HOSP^MR',
    ...extra,
    `OBR|1|||182777000^monitoring of patient^SCT|||${at()}`,
    ...obx,
  ].join('\r');
}

const GOOD_OBX = [
  'OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.0.1.1|120|266016^MDC_DIM_MMHG^MDC|||||R',
  'OBX|2|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.0.1.2|80|266016^MDC_DIM_MMHG^MDC|||||R',
  'OBX|3|NM|147842^MDC_ECG_HEART_RATE^MDC|1.0.2.1|71|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R',
];

let running: RecordingServer | undefined;
afterEach(async () => {
  await running?.server.close();
  running = undefined;
});

describe('MLLP listener: who is a configured sender (MSH-3.1 or MSH-3.2, MSH-4.1 or MSH-4.2)', () => {
  const EFFICIA = { allowedSenders: [{ application: 'EfficiaCM' }, { application: 'MX800', facility: 'WARD7' }] };

  it('accepts a Philips Efficia header that names itself in MSH-3.2 only (MSH|^~\\&|^EfficiaCM|...), echoing MSH-3 as sent', async () => {
    running = await startRecordingServer(EFFICIA);
    const client = await connectRaw(running.port);
    client.send(frameMllp(oru('EFF-1', GOOD_OBX, '^EfficiaCM|')));
    const ack = await client.nextAck();
    expect(msaOf(ack), 'an MSH-3.2 sender in the allow-list must be answered AA').toMatchObject({ code: 'AA', controlId: 'EFF-1' });
    expect(ack).toMatch(/^MSH\|\^~\\&\|VIGIL\|HOSP\|\^EfficiaCM\|\|/);
    // No OBX-18: the device falls back to the name the sender gave itself.
    expect(running.published).toMatchObject([{ deviceId: 'EfficiaCM', bloodPressure: '120/80' }]);
    client.end();
  });

  it('matches a facility given in MSH-4.2 and still refuses the wrong facility or an unlisted name', async () => {
    running = await startRecordingServer(EFFICIA);
    const client = await connectRaw(running.port);
    const cases: [string, 'AA' | 'AR'][] = [
      ['MX800^^ISO|^WARD7', 'AA'], // application in 3.1, facility in 4.2
      ['^MX800|WARD7', 'AA'], // application in 3.2, facility in 4.1
      ['^MX800|^WARD8', 'AR'], // right application, wrong facility
      ['^Efficia|', 'AR'], // a prefix is not the name
      ['X^Y^EfficiaCM|', 'AR'], // MSH-3.3 (universal id type) is not a name
    ];
    for (const [i, [sender, expected]] of cases.entries()) {
      client.send(frameMllp(oru(`S${i}`, GOOD_OBX, sender)));
      expect(msaOf(await client.nextAck()), `MSH-3|MSH-4 = ${sender}`).toMatchObject({ code: expected, controlId: `S${i}` });
    }
    client.end();
  });
});

describe('MLLP listener: answers', () => {
  it('answers AA echoing MSH-10 and publishes the reading', async () => {
    running = await startRecordingServer();
    const client = await connectRaw(running.port);
    client.send(frameMllp(oru('CTRL-1', GOOD_OBX)));
    const ack = await client.nextAck();
    expect(msaOf(ack)).toEqual({ code: 'AA', controlId: 'CTRL-1', text: 'accepted 1 reading' });
    expect(ack).toMatch(/^MSH\|\^~\\&\|VIGIL\|HOSP\|MONITOR\|ICU\|\d{14}(\.\d{3})?\+0000\|\|ACK\^R01\^ACK\|\w+\|P\|2\.6\r/);
    expect(running.published).toMatchObject([{ patientId: 'P0012', deviceId: 'MONITOR', bloodPressure: '120/80', heartRate: 71, source: 'hl7v2' }]);
    expect(running.deadLetters).toEqual([]);
    client.end();
  });

  const negative: [string, Buffer | string, 'AE' | 'AR', RegExp, string][] = [
    ['unknown sender', frameMllp(oru('C1', GOOD_OBX, 'INTRUDER|')), 'AR', /sender INTRUDER.*not configured/, 'C1'],
    ['right application, wrong facility', frameMllp(oru('C2', GOOD_OBX, 'GATEWAY|OR')), 'AR', /not configured/, 'C2'],
    ['unsupported message type', frameMllp(oru('C3', GOOD_OBX).replace('ORU^R01^ORU_R01', 'ADT^A01^ADT_A01')), 'AR', /message type "ADT"/, 'C3'],
    ['missing PID', frameMllp(oru('C4', GOOD_OBX).replace(/PID\|[^\r]*\r/, '')), 'AE', /PID/, 'C4'],
    ['wrong units', frameMllp(oru('C5', ['OBX|1|NM|8867-4^HR^LN||70|mm[Hg]'])), 'AE', /unit "mm\[Hg\]" is not valid/, 'C5'],
    ['unknown codes', frameMllp(oru('C6', ['OBX|1|NM|99999^MDC_MYSTERY^MDC||70|/min'])), 'AE', /no vital sign Vigil tracks/, 'C6'],
    ['garbage inside a frame', frameMllp('\x00\xff hello, this is not HL7'), 'AR', /not an HL7 v2 message/, ''],
    ['a frame interrupted by a new start block', Buffer.concat([Buffer.from('\x0bMSH|^~\\&|MONITOR||VIGIL|HOSP|20260101000000+0000||ORU^R01|C7|P|2.6\rPID|1'), frameMllp(oru('C8', GOOD_OBX))]), 'AR', /frame broken/, 'C7'],
  ];
  it.each(negative)('%s → %s with a reason, kept as a dead letter', async (_name, bytes, code, reason, controlId) => {
    running = await startRecordingServer();
    const client = await connectRaw(running.port);
    client.send(bytes);
    const ack = msaOf(await client.nextAck());
    expect(ack).toMatchObject({ code, controlId });
    expect(ack.text).toMatch(reason);
    expect(running.deadLetters[0]?.reason).toMatch(new RegExp(`^${code} \\d{3}: `));
    // The listener stays up and the same connection carries on.
    client.send(frameMllp(oru('NEXT', GOOD_OBX)));
    let next = msaOf(await client.nextAck());
    if (next.controlId === 'C8') next = msaOf(await client.nextAck()); // the frame after the broken one was fine
    expect(next).toMatchObject({ code: 'AA', controlId: 'NEXT' });
    client.end();
  });

  it('reports every problem of a message at once, one ERR segment each', async () => {
    running = await startRecordingServer();
    const client = await connectRaw(running.port);
    client.send(frameMllp(oru('MANY', [
      'OBX|1|NM|8867-4^HR^LN||70|%|||||R', // wrong unit
      'OBX|2|NM|59408-5^SpO2^LN||ninety|%|||||R', // not a number
      'OBX|3|NM|9279-1^RR^LN||16|/min|||||R|||20261122100000', // zoneless time
      'OBX|4|NM|8480-6^SBP^LN||120|mm[Hg]|||||R', // systolic without diastolic
      'OBX|5|NM|8310-5^Temp^LN||37|Cel|||||R', // fine
    ])));
    const ack = await client.nextAck();
    expect(msaOf(ack)).toMatchObject({ code: 'AE', controlId: 'MANY' });
    const errs = ack.split('\r').filter((segment) => segment.startsWith('ERR|')).map((segment) => segment.split('|'));
    expect(errs.map((e) => [e[2], e[3]!.split('^')[0]]), 'one ERR per problem, with location and 0357 code').toEqual([
      ['OBX^1^6', '103'], ['OBX^2^5', '102'], ['OBX^3^14', '102'], ['OBX^4^3', '101'],
    ]);
    expect(errs[0]![8]).toMatch(/unit "%" is not valid for heartRate/);
    expect(errs[1]![8]).toMatch(/"ninety" is not a number/);
    expect(errs[2]![8]).toMatch(/no UTC offset/);
    expect(errs[3]![8]).toMatch(/without its diastolic partner/);
    expect(running.published).toEqual([]);
    expect(running.deadLetters[0]?.reason).toMatch(/heartRate.*ninety.*UTC offset.*partner/);
    client.end();
  });

  it('does not also call a pressure half "without its partner" when the partner itself was refused', async () => {
    running = await startRecordingServer();
    const client = await connectRaw(running.port);
    client.send(frameMllp(oru('PAIR', ['OBX|1|NM|8480-6^SBP^LN||120|mm[Hg]|||||R', 'OBX|2|NM|8462-4^DBP^LN||80|%|||||R'])));
    const ack = await client.nextAck();
    expect(ack.split('\r').filter((segment) => segment.startsWith('ERR|')).map((segment) => segment.split('|')[2])).toEqual(['OBX^2^6']);
    client.end();
  });

  it('keeps the original bytes of a refused message in the dead letters', async () => {
    running = await startRecordingServer();
    const client = await connectRaw(running.port);
    const message = oru('C9', ['OBX|1|NM|8867-4^HR^LN||70|%']);
    client.send(frameMllp(message));
    await client.nextAck();
    expect(running.deadLetters[0]!.payload.toString('utf8')).toBe(message);
    client.end();
  });

  it('skips garbage between frames and answers an oversize frame with AR, then carries on', async () => {
    running = await startRecordingServer({ maxFrameBytes: 2048 });
    const client = await connectRaw(running.port);
    const huge = oru('BIG', [...GOOD_OBX, ...Array.from({ length: 100 }, (_, i) => `NTE|${i}||${'x'.repeat(60)}`)]);
    client.send(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n'), frameMllp(huge), Buffer.from([0xff, 0x00, 0x1c, 0x0d]), frameMllp(oru('SMALL', GOOD_OBX))]));
    const first = msaOf(await client.nextAck());
    expect(first).toMatchObject({ code: 'AR', controlId: 'BIG' });
    expect(first.text).toMatch(/larger than 2048 bytes/);
    expect(msaOf(await client.nextAck())).toMatchObject({ code: 'AA', controlId: 'SMALL' });
    client.end();
  });

  it('answers AR without a dead letter when the bus is unavailable, so the sender retries', async () => {
    running = await startRecordingServer({
      publish: async () => {
        throw new VigilError('BACKPRESSURE', 'too many readings waiting');
      },
    });
    const client = await connectRaw(running.port);
    client.send(frameMllp(oru('BUSY', GOOD_OBX)));
    expect(msaOf(await client.nextAck())).toMatchObject({ code: 'AR', controlId: 'BUSY', text: 'system unavailable; resend later (retry after 1 s)' });
    expect(running.deadLetters).toEqual([]);
    client.end();
  });

  // recording.hold() makes a Bus whose publish does not settle (a test double of the port, standing
  // for an unreachable Pub/Sub): this exercises the edge's own bound through the real publisher.
  it('answers AR with a retry hint within the publish bound when the bus never confirms, and AA once it does', async () => {
    const recording = recordingBus();
    const publisher = createReadingPublisher({ bus: recording.bus, topic: 't', metrics: createMetrics({ defaultMetrics: false }), publishTimeoutMs: 300, maxBatchDelayMs: 0 });
    running = await startRecordingServer({ publish: (readings) => publisher.publish(readings) });
    recording.hold();
    const client = await connectRaw(running.port);
    const started = Date.now();
    client.send(frameMllp(oru('HUNG', GOOD_OBX)));
    const ack = await client.nextAck(10_000);
    const waited = Date.now() - started;
    expect(msaOf(ack)).toMatchObject({ code: 'AR', controlId: 'HUNG', text: expect.stringMatching(/resend later \(retry after 1 s\)/) });
    expect(ack, 'the ERR segment names an application error').toMatch(/\rERR\|/);
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited, 'the bound plus a generous margin for a busy machine').toBeLessThan(budget(3_000));
    expect(running.deadLetters).toEqual([]);
    recording.release();
    await waitFor(() => publisher.pending === 0, 5_000, 'the released bus to settle the pending reading', () => `${publisher.pending} pending`);
    client.send(frameMllp(oru('HUNG', GOOD_OBX)));
    expect(msaOf(await client.nextAck())).toMatchObject({ code: 'AA', controlId: 'HUNG' });
    client.end();
    await publisher.close();
  });

  it('answers pipelined frames in order', async () => {
    running = await startRecordingServer();
    const client = await connectRaw(running.port);
    client.send(Buffer.concat(Array.from({ length: 40 }, (_, i) => frameMllp(oru(`P${i}`, GOOD_OBX)))));
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(msaOf(await client.nextAck()).controlId);
    expect(ids).toEqual(Array.from({ length: 40 }, (_, i) => `P${i}`));
    client.end();
  });
});

describe('MLLP listener: slow peers and shutdown', () => {
  it('closes a connection whose frame trickles in slower than frameTimeoutMs (slowloris)', async () => {
    running = await startRecordingServer({ frameTimeoutMs: 300, idleTimeoutMs: 10_000 });
    const client = await connectRaw(running.port);
    const bytes = frameMllp(oru('SLOW', GOOD_OBX));
    let i = 0;
    const trickle = setInterval(() => client.send(bytes.subarray(i, ++i)), 50);
    const started = Date.now();
    await client.closed;
    clearInterval(trickle);
    expect(Date.now() - started, 'closed by the 300 ms frame deadline, not the 10 s idle limit').toBeLessThan(budget(2000));
    expect(running.published).toEqual([]);
  });

  it('closes an idle connection', async () => {
    running = await startRecordingServer({ idleTimeoutMs: 200 });
    const client = await connectRaw(running.port);
    await client.closed;
    await waitFor(() => running!.server.connections === 0, 2_000, 'the listener to count the idle connection closed', () => `${running!.server.connections} open`);
  });

  it('close() stops accepting, answers the message in flight, then ends the connection', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const published: unknown[] = [];
    let publishing = false;
    running = await startRecordingServer({
      publish: async (readings) => {
        publishing = true;
        await gate;
        published.push(...readings);
      },
    });
    const { port } = running;
    const client = await connectRaw(port);
    client.send(frameMllp(oru('INFLIGHT', GOOD_OBX)));
    await waitFor(() => publishing, 5_000, 'the listener to start publishing the in-flight message');
    const closing = running.server.close();
    await expect(connectRaw(port)).rejects.toThrow();
    release();
    expect(msaOf(await client.nextAck())).toMatchObject({ code: 'AA', controlId: 'INFLIGHT' });
    await closing;
    await client.closed;
    expect(published).toHaveLength(1);
    running = undefined;
  });
});

describe('MLLP listener over TLS', () => {
  it('accepts ORU^R01 over TLS with the configured certificate', async () => {
    const dir = new URL('./test-tls/', import.meta.url);
    const cert = readFileSync(new URL('test-only-cert.pem', dir));
    running = await startRecordingServer({ tls: { key: readFileSync(new URL('test-only-key.pem', dir)), cert } });
    const client = await connectMllp({ host: '127.0.0.1', port: running.port, tls: { ca: cert, servername: 'localhost' } });
    expect(msaOf(await client.send(oru('TLS-1', GOOD_OBX)))).toMatchObject({ code: 'AA', controlId: 'TLS-1' });
    await client.close();
    expect(running.published).toHaveLength(1);
  });

  it('refuses a plain-TCP peer on the TLS port without going down', async () => {
    const dir = new URL('./test-tls/', import.meta.url);
    running = await startRecordingServer({ tls: { key: readFileSync(new URL('test-only-key.pem', dir)), cert: readFileSync(new URL('test-only-cert.pem', dir)) } });
    const plain = await connectRaw(running.port);
    plain.send(frameMllp(oru('PLAIN', GOOD_OBX)));
    await plain.closed;
    expect(running.published).toEqual([]);
  });
});
