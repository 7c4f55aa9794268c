import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../core/observability/metrics.ts';
import { createReadingPublisher } from '../ingest/reading-publisher.ts';
import { fhirRoutes } from '../ingest/fhir/fhir-routes.ts';
import { heartRateExample } from '../ingest/fhir/spec-vital-signs-examples.ts';
import { SESSION_COOKIE } from './auth.ts';
import type { ReadSideApp } from '../dashboard-api/test-fixtures.ts';
import { bearer, readSideApp, recordingBus, testConfig, tokenFor } from '../dashboard-api/test-fixtures.ts';
import { budget, eventually } from '../core/contracts/wait-for.ts';

let ctx: ReadSideApp | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await ctx?.app.close();
  await ctx?.audit.close();
  ctx = undefined;
});

const READING = JSON.stringify({ deviceId: 'bed-12', patientId: 'P0012', observedAt: new Date().toISOString(), heartRate: 72 });

function appWithIngest(env: Record<string, string> = {}) {
  const recording = recordingBus();
  const metrics = createMetrics({ defaultMetrics: false });
  const published: unknown[] = [];
  ctx = readSideApp({
    config: testConfig(env),
    ingest: { publisher: createReadingPublisher({ bus: recording.bus, topic: 'readings', metrics, maxBatchDelayMs: 0 }) },
    routes: [(a: FastifyInstance) => void a.register(fhirRoutes, { publish: async (r) => void published.push(...r), deadLetter: async () => undefined })],
  });
  return { ctx, recording, published };
}

async function listen(c: ReadSideApp): Promise<number> {
  await c.app.listen({ port: 0, host: '127.0.0.1' });
  return (c.app.server.address() as { port: number }).port;
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    sockets.push(socket);
    socket.once('error', reject);
  });
}

/** Resolves with what the server sent once it closes the socket, or rejects after the (scaled) budget. */
function closedBy(socket: Socket, budgetMs: number, what: string): Promise<string> {
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: socket still open after ${budget(budgetMs)} ms (received ${JSON.stringify(received.slice(0, 80))})`)), budget(budgetMs));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', () => undefined);
  });
}

describe('content encodings Vigil does not decode: 415', () => {
  it.each([
    ['br on a plain body', 'br', Buffer.from(READING)],
    ['gzip', 'gzip', gzipSync(READING)],
    ['a list with gzip', 'identity, gzip', gzipSync(READING)],
  ])('POST /v1/readings with %s is 415 and nothing is published', async (_what, encoding, body) => {
    const { ctx: c, recording } = appWithIngest();
    const res = await c.app.inject({ method: 'POST', url: '/v1/readings', headers: { ...bearer('device'), 'content-type': 'application/json', 'content-encoding': encoding }, payload: body });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(recording.calls).toHaveLength(0);
  });

  it('FHIR answers 415 with an OperationOutcome too; identity is accepted', async () => {
    const { ctx: c, published } = appWithIngest();
    const headers = { ...bearer('device', 'gw-1'), 'content-type': 'application/fhir+json' };
    const refused = await c.app.inject({ method: 'POST', url: '/fhir/Observation', headers: { ...headers, 'content-encoding': 'gzip' }, payload: gzipSync(JSON.stringify(heartRateExample())) });
    expect(refused.statusCode).toBe(415);
    expect(refused.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-supported' }] });
    const plain = await c.app.inject({ method: 'POST', url: '/fhir/Observation', headers: { ...headers, 'content-encoding': 'identity' }, payload: JSON.stringify(heartRateExample()) });
    expect(plain.statusCode).toBe(201);
    expect(published).toHaveLength(1);
  });

  it('an unauthenticated caller still gets 401 first', async () => {
    const { ctx: c } = appWithIngest();
    const res = await c.app.inject({ method: 'POST', url: '/v1/readings', headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, payload: READING });
    expect(res.statusCode).toBe(401);
  });
});

describe('behind a TLS-terminating proxy (VIGIL_TRUST_PROXY)', () => {
  const signIn = (c: ReadSideApp, headers: Record<string, string>) =>
    c.app.inject({ method: 'GET', url: `/login?token=${tokenFor('clinician')}`, headers });
  const cookieOf = (res: Awaited<ReturnType<typeof signIn>>) => res.cookies.find((k) => k.name === SESSION_COOKIE)!;

  it('sets Secure on the session cookie when the trusted proxy says the client used https', async () => {
    ctx = readSideApp({ config: testConfig({ VIGIL_TRUST_PROXY: '127.0.0.1/8' }) });
    expect(cookieOf(await signIn(ctx, { 'x-forwarded-proto': 'https' })).secure).toBe(true);
    expect(cookieOf(await signIn(ctx, {})).secure).toBeFalsy();
  });

  it('ignores X-Forwarded-Proto by default (a client could claim anything)', async () => {
    ctx = readSideApp();
    expect(cookieOf(await signIn(ctx, { 'x-forwarded-proto': 'https' })).secure).toBeFalsy();
  });

  it('refuses a malformed setting at start-up, and takes hop counts, addresses and proxy-addr names', () => {
    expect(() => testConfig({ VIGIL_TRUST_PROXY: 'everyone; DROP' })).toThrow('VIGIL_TRUST_PROXY');
    expect(testConfig({ VIGIL_TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(testConfig({ VIGIL_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).http.trustProxy).toBe('loopback,10.0.0.0/8');
    expect(testConfig({}).http.trustProxy).toBe(false);
  });
});

describe('timeouts and the connection cap (real sockets)', () => {
  it('closes a device POST that trickles its body (408) once the request timeout passes', async () => {
    const { ctx: c } = appWithIngest({ VIGIL_HTTP_REQUEST_TIMEOUT_MS: '600', VIGIL_HTTP_HEADERS_TIMEOUT_MS: '600' });
    const port = await listen(c);
    const socket = await openSocket(port);
    socket.write(`POST /v1/readings HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${tokenFor('device')}\r\ncontent-type: application/json\r\ncontent-length: ${READING.length}\r\n\r\n`);
    let sent = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed && sent < READING.length - 1) socket.write(READING[sent++]!);
    }, 100);
    const started = Date.now();
    try {
      const answer = await closedBy(socket, 10_000, 'trickled body');
      expect(answer).toContain('408');
      expect(Date.now() - started).toBeLessThan(budget(10_000));
      expect(sent, 'closed before the body was complete').toBeLessThan(READING.length - 1);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes a connection that never finishes its headers', async () => {
    ctx = readSideApp({ config: testConfig({ VIGIL_HTTP_HEADERS_TIMEOUT_MS: '400', VIGIL_HTTP_REQUEST_TIMEOUT_MS: '400' }) });
    const socket = await openSocket(await listen(ctx));
    socket.write('GET /v1/patients HTTP/1.1\r\nhost: x\r\n');
    await closedBy(socket, 10_000, 'unfinished headers');
  });

  it('refuses connections beyond VIGIL_HTTP_MAX_CONNECTIONS, and serves again once one closes', async () => {
    ctx = readSideApp({ config: testConfig({ VIGIL_HTTP_MAX_CONNECTIONS: '2' }) });
    const port = await listen(ctx);
    const held = [await openSocket(port), await openSocket(port)];
    const third = await openSocket(port);
    await closedBy(third, 10_000, 'connection over the cap');
    held[0]!.destroy();
    await eventually('a connection accepted (GET /healthz 200; 0 = refused) after one of the held ones closed',
      () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0), (status) => status === 200, 10_000, 50);
  });
});
