import { afterEach, describe, expect, it } from 'vitest';
import { budget, eventually as waitUntil } from '../core/contracts/wait-for.ts';
import type { PatientSummary } from '../core/domain/patient-summary.ts';
import { summarizePatient } from '../core/domain/patient-summary.ts';
import type { AppDeps } from '../cli/build-app.ts';
import type { ReadSideApp } from './test-fixtures.ts';
import { SESSION_COOKIE } from '../http/auth.ts';
import { bearer, reading, readSideApp, riskScore, testConfig, tokenFor } from './test-fixtures.ts';

/**
 * The stream against a real listening server: inject() cannot follow a response that never ends.
 */
let ctx: ReadSideApp | undefined;
const aborts: AbortController[] = [];

afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await ctx?.app.close();
  await ctx?.audit.close();
  ctx = undefined;
});

async function listen(stream: AppDeps['stream'] = {}, extra: Partial<AppDeps> = {}) {
  ctx = readSideApp({ stream, ...extra });
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = ctx.app.server.address() as { port: number };
  return { ctx, base: `http://127.0.0.1:${port}` };
}

/** Reads SSE frames from a fetch response as they arrive. */
function frames(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const queue: string[] = [];
  let pendingRead: Promise<ReadableStreamReadResult<string>> | undefined;
  return {
    /** The next frame, within the (scaled) budget. */
    next(timeoutMs = 3000): Promise<string> {
      return this.nextBefore(Date.now() + budget(timeoutMs));
    },
    /** The next frame, by the deadline (epoch ms); a read still pending at the deadline is kept for the next call. */
    async nextBefore(deadline: number): Promise<string> {
      while (queue.length === 0) {
        const split = buffer.indexOf('\n\n');
        if (split >= 0) {
          queue.push(buffer.slice(0, split));
          buffer = buffer.slice(split + 2);
          continue;
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`no SSE frame in time (partial frame: ${JSON.stringify(buffer.slice(0, 200))})`);
        pendingRead ??= reader.read();
        let timer: NodeJS.Timeout | undefined;
        const result = await Promise.race([pendingRead, new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), remaining); })]);
        clearTimeout(timer);
        if (result === 'timeout') continue;
        pendingRead = undefined;
        if (result.done) throw new Error('stream ended');
        buffer += result.value;
      }
      return queue.shift()!;
    },
  };
}

const patientOf = (frame: string): PatientSummary => {
  expect(frame.startsWith('event: patient\ndata: ')).toBe(true);
  return JSON.parse(frame.slice('event: patient\ndata: '.length)) as PatientSummary;
};

async function connect(base: string, headers: Record<string, string> = bearer('clinician', 'nurse-sse')) {
  const abort = new AbortController();
  aborts.push(abort);
  const response = await fetch(`${base}/v1/stream`, { headers, signal: abort.signal });
  return { response, abort };
}

async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 3000): Promise<void> {
  await waitUntil(what, check, (ok) => ok, timeoutMs, 10);
}

const sseClients = async (c: ReadSideApp) => (await c.metrics.sseClients.get()).values[0]?.value ?? 0;

describe('GET /v1/stream', () => {
  it('sends a retry hint, a snapshot of the ward, then each published update', async () => {
    const { ctx: c, base } = await listen();
    const now = Date.now();
    await c.timeseries.writeReadings([reading('P0001', now - 1000, { heartRate: 81 }), reading('P0002', now - 2000)]);

    const { response, abort } = await connect(base);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(response.headers.get('cache-control')).toContain('no-store');
    const stream = frames(response);
    expect(await stream.next()).toBe('retry: 3000');
    const snapshot = [patientOf(await stream.next()), patientOf(await stream.next())];
    expect(snapshot.map((s) => s.patientId)).toEqual(['P0001', 'P0002']);
    expect(snapshot[0]!.latest!.heartRate).toBe(81);
    expect(await sseClients(c)).toBe(1);

    const update = summarizePatient('P0003', [reading('P0003', now, { heartRate: 130 })], undefined);
    c.updates.publish(update);
    expect(patientOf(await stream.next())).toEqual(update);

    const audited = await c.audit.list({ limit: 10 });
    expect(audited).toMatchObject([{ actor: 'nurse-sse', action: 'GET /v1/stream', status: 200 }]);

    abort.abort();
    await eventually('the aborted client to be uncounted', async () => (await sseClients(c)) === 0);
  });

  it('carries NEWS2 completeness, and in silent risk mode no model risk, in the snapshot and in updates', async () => {
    const { ctx: c, base } = await listen({}, { config: testConfig({ VIGIL_RISK_MODE: 'silent' }) });
    const now = Date.now();
    await c.timeseries.writeReadings([reading('P0001', now - 1000)]);
    await c.timeseries.writeRiskScores([{ ...riskScore('P0001', now - 1000, 0.87), news2Complete: false, news2Missing: ['temperature'] }]);
    const stream = frames((await connect(base)).response);
    expect(await stream.next()).toBe('retry: 3000');
    expect(patientOf(await stream.next())).toMatchObject({ patientId: 'P0001', news2: { complete: false, missing: ['temperature'] }, risk: { mode: 'silent' } });

    const score = { ...riskScore('P0002', now, 0.91), news2Score: 0, news2Complete: false, news2Missing: ['respiratoryRate' as const, 'spo2' as const] };
    c.updates.publish(summarizePatient('P0002', [reading('P0002', now)], score));
    const update = patientOf(await stream.next());
    expect(update).toMatchObject({ patientId: 'P0002', news2: { score: 0, complete: false, missing: ['respiratoryRate', 'spo2'] } });
    expect(update.risk).toEqual({ mode: 'silent' });
  });

  it('sends heartbeats while nothing happens', async () => {
    const { base } = await listen({ heartbeatMs: 30 });
    const stream = frames((await connect(base)).response);
    expect(await stream.next()).toMatch(/^retry:/);
    expect(await stream.next()).toBe(': heartbeat');
  });

  it('disconnects a client that does not read instead of buffering without bound', async () => {
    const { ctx: c, base } = await listen({ maxBufferBytes: 16 * 1024, heartbeatMs: 60_000 });
    await connect(base); // never read from
    await eventually('the silent client to be counted', async () => (await sseClients(c)) === 1);
    const big = summarizePatient('P0009', [reading('P0009', Date.now(), { deviceId: 'x'.repeat(2000) })], undefined);
    await eventually('the client that does not read to be disconnected', async () => {
      for (let i = 0; i < 200; i++) c.updates.publish(big);
      return (await sseClients(c)) === 0;
    }, 10_000);
  });

  it('closing the app ends open streams', async () => {
    const { ctx: c, base } = await listen();
    const stream = frames((await connect(base)).response);
    await stream.next();
    await c.app.close();
    await expect(stream.next()).rejects.toThrow('stream ended');
    expect(await sseClients(c)).toBe(0);
  });

  it('accepts the session cookie from /login, as EventSource cannot send headers', async () => {
    const { ctx: c, base } = await listen();
    const login = await c.app.inject({ method: 'GET', url: `/login?token=${tokenFor('clinician', 'nurse-cookie')}` });
    const cookie = login.cookies.find((k) => k.name === SESSION_COOKIE)!;
    const { response } = await connect(base, { cookie: `${SESSION_COOKIE}=${cookie.value}` });
    expect(response.status).toBe(200);
    expect(await frames(response).next()).toMatch(/^retry:/);
    expect(await c.audit.list({ limit: 1 })).toMatchObject([{ actor: 'nurse-cookie', action: 'GET /v1/stream' }]);
  });

  /** Reads frames until `event: session-expired`, failing if the stream ends or stalls first. */
  async function untilSessionExpired(stream: ReturnType<typeof frames>, budgetMs: number): Promise<string> {
    const deadline = Date.now() + budget(budgetMs);
    for (;;) {
      const frame = await stream.nextBefore(deadline);
      if (frame.startsWith('event: session-expired')) return frame;
    }
  }

  it('ends the stream at the bearer token\'s expiry, saying so first', async () => {
    const { ctx: c, base } = await listen({ heartbeatMs: 100 });
    const { response } = await connect(base, { authorization: `Bearer ${tokenFor('clinician', 'nurse-short', 2)}` });
    expect(response.status).toBe(200);
    const stream = frames(response);
    const opened = Date.now();
    expect(await untilSessionExpired(stream, 8000)).toBe('event: session-expired\ndata: {"reason":"expired"}');
    // jwt exp has one-second granularity: the token lived between 1 and 2 s.
    expect(Date.now() - opened).toBeLessThan(budget(4000));
    await expect(stream.next(3000)).rejects.toThrow('stream ended');
    await eventually('the expired stream to be closed and uncounted', async () => (await sseClients(c)) === 0);
  });

  it('ends a cookie stream at the next heartbeat after its session signs out', async () => {
    const { ctx: c, base } = await listen({ heartbeatMs: 50 });
    const login = await c.app.inject({ method: 'GET', url: `/login?token=${tokenFor('clinician', 'nurse-out')}` });
    const cookie = `${SESSION_COOKIE}=${login.cookies.find((k) => k.name === SESSION_COOKIE)!.value}`;
    const { response } = await connect(base, { cookie });
    const stream = frames(response);
    expect(await stream.next()).toMatch(/^retry:/);
    expect((await c.app.inject({ method: 'POST', url: '/logout', headers: { cookie } })).statusCode).toBe(204);
    expect(await untilSessionExpired(stream, 5000)).toBe('event: session-expired\ndata: {"reason":"signed-out"}');
    await expect(stream.next(3000)).rejects.toThrow('stream ended');
  });

  it('refuses a device token', async () => {
    const { base } = await listen();
    const { response } = await connect(base, bearer('device'));
    expect(response.status).toBe(403);
  });
});
