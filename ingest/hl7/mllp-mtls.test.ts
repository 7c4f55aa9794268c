import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../core/observability/logger.ts';
import { createMetrics } from '../../core/observability/metrics.ts';
import { connectMllp } from '../../simulators/device-protocols/mllp-client.ts';
import { frameMllp } from '../../core/wire/hl7/mllp-framing.ts';
import { createMllpServer, parseCertificateSenders } from './mllp-server.ts';
import type { RecordingServer } from './mllp-test-support.ts';
import { msaOf, startRecordingServer } from './mllp-test-support.ts';
import type { TestPki } from './mllp-test-pki.ts';
import { createTestPki } from './mllp-test-pki.ts';
import { budget, waitFor } from '../../core/contracts/wait-for.ts';

/**
 * Device identity at the HL7 edge: over mTLS the sender is who its client certificate says, and
 * may only speak for the MSH-3 senders mapped to that certificate. Certificates are made fresh
 * with openssl for this run.
 */
const at = (): string => `${new Date(Date.now() - 60_000).toISOString().slice(0, 19).replace(/[-T:]/g, '')}+0000`;
const oru = (controlId: string, sender: string): string => [
  `MSH|^~\\&|${sender}|VIGIL|HOSP|${at()}||ORU^R01^ORU_R01|${controlId}|P|2.6`,
  'PID|1||P0012^^^HOSP^MR',
  `OBR|1|||182777000^monitoring of patient^SCT|||${at()}`,
  'OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.0.2.1|71|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R',
].join('\r');

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.dispose());

let running: RecordingServer | undefined;
afterEach(async () => {
  await running?.server.close();
  running = undefined;
});

async function startMtlsServer(overrides: Parameters<typeof startRecordingServer>[0] = {}): Promise<RecordingServer> {
  return startRecordingServer({
    ...overrides,
    tls: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
    // GATEWAY is allowed on plain connections; over mTLS only the certificate's mapping counts.
    certificateSenders: parseCertificateSenders('gw-icu-west=MONITOR;other-name=ELSEWHERE;urn:vigil:gw-2=GATEWAY@ICU'),
  });
}

/** Sends one framed message over TLS with the given client credentials; resolves with what came back before the close. */
async function sendExpectingRefusal(port: number, credentials: { key?: Buffer; cert?: Buffer }): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'localhost', ...credentials });
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  socket.on('error', () => undefined);
  socket.once('secureConnect', () => socket.write(frameMllp(oru('NOCERT', 'MONITOR|ICU'))));
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return received;
}

describe('MLLP over mTLS: the sender is who its certificate says', () => {
  it('accepts readings from a client certificate mapped to the message sender (CN)', async () => {
    running = await startMtlsServer();
    const client = await connectMllp({ host: '127.0.0.1', port: running.port, tls: { ca: pki.ca, servername: 'localhost', ...pki.client('gw-icu-west') } });
    expect(msaOf(await client.send(oru('MTLS-1', 'MONITOR|ICU')))).toMatchObject({ code: 'AA', controlId: 'MTLS-1' });
    await client.close();
    expect(running.published).toMatchObject([{ patientId: 'P0012', deviceId: 'MONITOR', heartRate: 71, source: 'hl7v2' }]);
  });

  it('accepts a certificate known by a URI subject alternative name, with its facility', async () => {
    running = await startMtlsServer();
    const client = await connectMllp({ host: '127.0.0.1', port: running.port, tls: { ca: pki.ca, servername: 'localhost', ...pki.client('unmapped-cn', ['URI:urn:vigil:gw-2']) } });
    expect(msaOf(await client.send(oru('SAN-1', 'GATEWAY|ICU')))).toMatchObject({ code: 'AA', controlId: 'SAN-1' });
    expect(msaOf(await client.send(oru('SAN-2', 'GATEWAY|OR')))).toMatchObject({ code: 'AR', controlId: 'SAN-2' });
    await client.close();
    expect(running.published).toHaveLength(1);
  });

  it('answers AR and stores nothing when MSH-3 is not a sender the certificate may speak for', async () => {
    running = await startMtlsServer();
    const client = await connectMllp({ host: '127.0.0.1', port: running.port, tls: { ca: pki.ca, servername: 'localhost', ...pki.client('gw-icu-west') } });
    const ack = msaOf(await client.send(oru('SPOOF-1', 'GATEWAY|ICU')));
    expect(ack).toMatchObject({ code: 'AR', controlId: 'SPOOF-1' });
    expect(ack.text).toMatch(/certificate gw-icu-west may not send as GATEWAY\/ICU/);
    // A valid certificate mapped to nothing speaks for no one.
    const stranger = await connectMllp({ host: '127.0.0.1', port: running.port, tls: { ca: pki.ca, servername: 'localhost', ...pki.client('unknown-device') } });
    expect(msaOf(await stranger.send(oru('SPOOF-2', 'MONITOR|ICU')))).toMatchObject({ code: 'AR', controlId: 'SPOOF-2' });
    await client.close();
    await stranger.close();
    expect(running.published).toEqual([]);
  });

  it('refuses a client without a certificate', async () => {
    running = await startMtlsServer();
    const answered = await sendExpectingRefusal(running.port, {});
    expect(answered).not.toMatch(/MSA\|/);
    expect(running.published).toEqual([]);
    expect(running.server.connections).toBe(0);
  });

  it('refuses a client certificate from another CA, even with a mapped name', async () => {
    running = await startMtlsServer();
    const answered = await sendExpectingRefusal(running.port, pki.foreignClient('gw-icu-west'));
    expect(answered).not.toMatch(/MSA\|/);
    expect(running.published).toEqual([]);
  });

  it('refuses certificate senders without verified client certificates', () => {
    const base = {
      port: 0, allowedSenders: [], publish: async () => undefined, deadLetter: async () => undefined,
      logger: createLogger({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }),
      certificateSenders: parseCertificateSenders('gw=MONITOR'),
    };
    expect(() => createMllpServer({ ...base, tls: { key: pki.server.key, cert: pki.server.cert } })).toThrow(/requestCert/);
    expect(() => createMllpServer({ ...base, tls: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca, requestCert: true, rejectUnauthorized: false } })).toThrow(/rejectUnauthorized/);
  });
});

describe('MLLP over mTLS: connection slots', () => {
  it('keeps reserved slots for an address that authenticated with a mapped certificate', async () => {
    running = await startMtlsServer({ maxConnections: 6, reservedConnections: 2, maxConnectionsPerPeer: 10 });
    const credentials = { ca: pki.ca, servername: 'localhost', ...pki.client('gw-icu-west') };
    const first = await connectMllp({ host: '127.0.0.1', port: running.port, tls: { ...credentials, localAddress: '127.0.0.3' } as tls.ConnectionOptions });
    expect(msaOf(await first.send(oru('R-1', 'MONITOR|ICU')))).toMatchObject({ code: 'AA' });
    // An untrusted peer takes every unreserved slot (one is the monitor's own) with bare TCP sockets.
    const squatters: net.Socket[] = [];
    let refused = 0;
    for (let i = 0; i < 6; i++) {
      const socket = net.connect({ port: running.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      squatters.push(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => void refused++);
    }
    // Settled on the server: three admitted (4 unreserved slots, one is the monitor's), three closed.
    await vi.waitFor(() => expect(refused, 'squatter connections closed by the listener').toBe(3), { timeout: budget(5000), interval: 20 });
    try {
      // A second connection from the authenticated address still gets in, into a reserved slot.
      const second = await connectMllp({ host: '127.0.0.1', port: running.port, tls: { ...credentials, localAddress: '127.0.0.3' } as tls.ConnectionOptions });
      expect(msaOf(await second.send(oru('R-2', 'MONITOR|ICU')))).toMatchObject({ code: 'AA', controlId: 'R-2' });
      await second.close();
      // A newcomer that never authenticated does not.
      await expect(connectMllp({ host: '127.0.0.1', port: running.port, ackTimeoutMs: 3000, tls: { ...credentials, localAddress: '127.0.0.4' } as tls.ConnectionOptions })
        .then((c) => c.send(oru('R-3', 'MONITOR|ICU')))).rejects.toThrow();
    } finally {
      for (const socket of squatters) socket.destroy();
      await first.close();
    }
  });

  it('closes a TCP connection that never starts its TLS handshake within handshakeTimeoutMs', async () => {
    running = await startMtlsServer({ handshakeTimeoutMs: 300 });
    const socket = net.connect({ port: running.port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    let closed = false;
    socket.once('close', () => { closed = true; });
    try {
      await waitFor(() => closed, 5_000, 'the listener to close a silent TCP peer after its 300 ms handshake limit (it still holds a slot)');
    } finally {
      socket.destroy();
    }
  });
});

describe('MLLP without TLS', () => {
  it('binds to loopback unless a host is given', async () => {
    const server = createMllpServer({
      port: 0, allowedSenders: [{ application: 'MONITOR' }], publish: async () => undefined, deadLetter: async () => undefined,
      logger: createLogger({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }),
    });
    try {
      expect((await server.listen()).host).toBe('127.0.0.1');
    } finally {
      await server.close();
    }
  });
});

describe('parseCertificateSenders', () => {
  it('maps identities to MSH-3[@MSH-4] senders', () => {
    expect(parseCertificateSenders(' gw-1 = A|B@ICU ; urn:x:gw-2=C ')).toEqual(new Map([
      ['gw-1', [{ application: 'A' }, { application: 'B', facility: 'ICU' }]],
      ['urn:x:gw-2', [{ application: 'C' }]],
    ]));
  });
  it.each(['gw-1', '=A', 'gw-1=', 'gw-1=|'])('refuses %j', (text) => {
    expect(() => parseCertificateSenders(text)).toThrow(/identity=SENDER/);
  });
});
