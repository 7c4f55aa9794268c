import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { START_BLOCK, frameMllp } from '../../core/wire/hl7/mllp-framing.ts';
import type { RecordingServer } from './mllp-test-support.ts';
import { connectRaw, msaOf, startRecordingServer } from './mllp-test-support.ts';
import { budget, delay, waitFor } from '../../core/contracts/wait-for.ts';

/**
 * Connection hoarding and idling (issue 12, finding 7): one peer cannot take every connection,
 * known peers keep reserved slots, and only complete messages keep a connection alive. Peers are
 * told apart by source address (127.0.0.x on loopback).
 */
const at = (): string => `${new Date(Date.now() - 60_000).toISOString().slice(0, 19).replace(/[-T:]/g, '')}+0000`;
const oru = (controlId: string): string => [
  `MSH|^~\\&|MONITOR|ICU|VIGIL|HOSP|${at()}||ORU^R01^ORU_R01|${controlId}|P|2.6`,
  'PID|1||P0012^^^HOSP^MR',
  `OBR|1|||182777000^monitoring of patient^SCT|||${at()}`,
  'OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.0.2.1|71|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R',
].join('\r');

let running: RecordingServer | undefined;
const flood: net.Socket[] = [];
afterEach(async () => {
  for (const socket of flood.splice(0)) socket.destroy();
  await running?.server.close();
  running = undefined;
});

/** Opens `count` idle connections from `localAddress`; resolves once the server has admitted or refused every one. */
async function openIdle(port: number, localAddress: string, count: number): Promise<{ refused: () => number }> {
  let refused = 0;
  await Promise.all(Array.from({ length: count }, () => new Promise<void>((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    flood.push(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      refused++;
      resolve();
    });
    socket.once('connect', () => resolve());
  })));
  return { refused: () => refused };
}

async function expectAccepted(port: number, localAddress: string | undefined, controlId: string): Promise<void> {
  const client = await connectRaw(port, localAddress);
  client.send(frameMllp(oru(controlId)));
  const ack = await client.nextAck(5000).catch((error: Error) => {
    throw new Error(`monitor from ${localAddress ?? '127.0.0.1'} got no ACK: ${error.message}`);
  });
  expect(msaOf(ack)).toMatchObject({ code: 'AA', controlId });
  client.end();
}

describe('MLLP connection limits', () => {
  it('520 idle connections from one peer cannot lock out a real monitor (defaults)', async () => {
    running = await startRecordingServer();
    const attacker = await openIdle(running.port, '127.0.0.2', 520);
    // The server has settled each of them: kept open, or closed by the per-peer cap.
    await vi.waitFor(() => expect(running!.server.connections + attacker.refused()).toBe(520), { timeout: budget(10_000), interval: 20 });
    expect(running.server.connections).toBeLessThanOrEqual(32);
    await expectAccepted(running.port, undefined, 'REAL-MONITOR');
  }, budget(20_000));

  it('keeps reserved connections for a trusted peer when untrusted peers fill the rest', async () => {
    running = await startRecordingServer({ maxConnections: 20, reservedConnections: 4, maxConnectionsPerPeer: 8, trustedPeers: ['127.0.0.1'] });
    const peers = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
    const floods = await Promise.all(peers.map((peer) => openIdle(running!.port, peer, 8)));
    await vi.waitFor(() => expect(running!.server.connections + floods.reduce((n, f) => n + f.refused(), 0)).toBe(32), { timeout: budget(10_000), interval: 20 });
    expect(running.server.connections).toBe(16);
    // An untrusted newcomer gets nothing: only the reserved slots are left.
    const stranger = await connectRaw(running.port, '127.0.0.9');
    stranger.send(frameMllp(oru('STRANGER')));
    await expect(stranger.nextAck(5000)).rejects.toThrow(/connection closed/);
    // The trusted peer gets in, beyond the per-peer cap too.
    for (let i = 0; i < 3; i++) await expectAccepted(running.port, undefined, `TRUSTED-${i}`);
  }, budget(20_000));
});

describe('MLLP idle limit: only complete messages reset it', () => {
  it('closes a connection trickling bytes outside any frame', async () => {
    running = await startRecordingServer({ idleTimeoutMs: 300, frameTimeoutMs: 60_000 });
    const client = await connectRaw(running.port);
    const trickle = setInterval(() => client.send('x'), 50);
    const started = Date.now();
    await waitFor(() => client.isClosed, 5_000, 'the listener to close a connection idle past its 300 ms limit');
    clearInterval(trickle);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('closes a connection trickling a partial frame at the idle limit, long before the frame deadline', async () => {
    running = await startRecordingServer({ idleTimeoutMs: 300, frameTimeoutMs: 60_000 });
    const client = await connectRaw(running.port);
    client.send(Buffer.of(START_BLOCK));
    const bytes = Buffer.from(oru('PARTIAL'));
    let i = 0;
    const trickle = setInterval(() => client.send(bytes.subarray(i, ++i)), 50);
    await waitFor(() => client.isClosed, 5_000, 'the listener to close a connection idle past its 300 ms limit (the frame deadline is a minute)');
    clearInterval(trickle);
    expect(running.published).toEqual([]);
  });

  it('keeps a connection that sends complete messages open past the idle limit, then closes it when they stop', async () => {
    // Each message's ACK round trip must fit in the idle limit, so the limit grows on a slow machine.
    const idleTimeoutMs = budget(1000);
    running = await startRecordingServer({ idleTimeoutMs });
    const client = await connectRaw(running.port);
    const started = Date.now();
    let n = 0;
    while (Date.now() - started < 3 * idleTimeoutMs) {
      client.send(frameMllp(oru(`KEEP-${n}`)));
      expect(msaOf(await client.nextAck())).toMatchObject({ code: 'AA', controlId: `KEEP-${n++}` });
      // The pacing of a monitor sending every 100 ms; not a wait for anything.
      await delay(100);
    }
    const quiet = Date.now();
    await client.closed;
    expect(Date.now() - quiet).toBeGreaterThanOrEqual(idleTimeoutMs / 2);
  }, budget(20_000));
});
