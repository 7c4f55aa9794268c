import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isAcceptableId } from '../../core/domain/validate-ingest.ts';
import { createRandom } from '../../core/seeded-random.ts';
import type { Random } from '../../core/seeded-random.ts';
import { readingToOru } from '../../simulators/device-protocols/reading-to-oru.ts';
import { CARRIAGE_RETURN, END_BLOCK, START_BLOCK, frameMllp } from '../../core/wire/hl7/mllp-framing.ts';
import type { RecordingServer } from './mllp-test-support.ts';
import { connectRaw, msaOf, startRecordingServer } from './mllp-test-support.ts';
import { patientIdOfMessage } from './oru-to-readings.ts';
import { budget } from '../../core/contracts/wait-for.ts';

/**
 * Fuzzing the HL7 listener with seeded mutations of valid ORU^R01 messages: it must never crash,
 * and every input must be answered with an ACK (AA, AE or AR) or its connection cleanly closed.
 * Seeded and bounded so that a failure reproduces and the run stays well under 20 s.
 */
const SEED = Number(process.env.VIGIL_FUZZ_SEED ?? 20261122);
const CONTENT_MUTANTS = 3000;
const STREAM_CONNECTIONS = 150;
// A fixed clock for the messages and the listener, so a seed gives the same answers on every run.
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

let running: RecordingServer;
const deadLetterPatients = { filed: 0, without: 0 };
const rss = { before: 0, after: 0 };
beforeAll(async () => {
  rss.before = process.memoryUsage().rss;
  running = await startRecordingServer({
    maxFrameBytes: 64 * 1024, frameTimeoutMs: 2000, idleTimeoutMs: 2000, now: () => NOW,
    // Every stream connection comes from 127.0.0.1 at once: the per-peer cap is not under test here.
    maxConnectionsPerPeer: STREAM_CONNECTIONS + 10,
    // The dead-letter patient reader sees every refused mutant, as in production.
    deadLetter: async (payload) => {
      const patient = patientIdOfMessage(payload.toString('utf8'));
      if (isAcceptableId(patient)) deadLetterPatients.filed++;
      else deadLetterPatients.without++;
    },
  });
});
afterAll(async () => {
  await running.server.close();
  rss.after = process.memoryUsage().rss;
  const mb = (bytes: number): string => (bytes / 1_048_576).toFixed(0);
  console.info(`fuzz seed ${SEED}: RSS ${mb(rss.before)} MB before, ${mb(rss.after)} MB after; dead letters with a patient ${deadLetterPatients.filed}, without ${deadLetterPatients.without}`);
});

function validMessage(random: Random, i: number): string {
  const observedAt = NOW - random.int(60_000, 3_600_000);
  const reading = {
    deviceId: `bed-${random.int(1, 30)}`, patientId: `P${random.int(1000, 9999)}`, observedAt,
    heartRate: random.int(40, 160), spo2: random.int(85, 100), respiratoryRate: random.int(8, 35),
    temperature: Math.round(random.between(35, 40) * 10) / 10, bloodPressure: `${random.int(90, 180)}/${random.int(50, 100)}`,
  };
  return readingToOru(reading, { now: NOW, sendingApplication: 'MONITOR', controlId: `F${i}`, codes: random.chance(0.5) ? 'mdc' : 'loinc' });
}

const DELIMITERS = ['|', '^', '~', '\\', '&', '\r', '\n', ' ', '', 'MSH', 'OBX|', 'PID|', '\u00ff', '\u0000', '9'.repeat(30), '-'];

/** One of several mutations, sometimes stacked: byte flips, insertions, deletions, duplicated or dropped segments, huge fields. */
function mutate(random: Random, message: string): string {
  let text = message;
  const rounds = random.int(1, 4);
  for (let r = 0; r < rounds; r++) {
    const at = random.int(0, Math.max(0, text.length - 1));
    switch (random.int(0, 7)) {
      case 0: text = text.slice(0, at) + String.fromCharCode(random.int(0, 255)) + text.slice(at + 1); break;
      case 1: text = text.slice(0, at) + random.pick(DELIMITERS) + text.slice(at); break;
      case 2: text = text.slice(0, at) + text.slice(at + random.int(1, 40)); break;
      case 3: {
        const segments = text.split('\r');
        const k = random.int(0, segments.length - 1);
        if (random.chance(0.5)) segments.splice(k, 1);
        else segments.splice(k, 0, segments[random.int(0, segments.length - 1)]!);
        text = segments.join('\r');
        break;
      }
      case 4: text = text.slice(0, at); break;
      case 5: text = text.slice(0, at) + 'x'.repeat(random.int(100, 5000)) + text.slice(at); break;
      case 6: text = text.replace(/\d/g, (d) => (random.chance(0.05) ? String.fromCharCode(48 + random.int(0, 9)) : d)); break;
      case 7: text = text.split('|').map((f) => (random.chance(0.1) ? '' : f)).join('|'); break;
    }
  }
  return text;
}

describe('MLLP listener fuzzing', () => {
  it(`answers each of ${CONTENT_MUTANTS} mutated messages with one ACK, in order`, async () => {
    const random = createRandom(SEED, 'content');
    const client = await connectRaw(running.port);
    const codes = new Map<string, number>();
    const BATCH = 50; // pipelined, within the listener's per-connection queue
    for (let start = 0; start < CONTENT_MUTANTS; start += BATCH) {
      const mutants: Buffer[] = [];
      for (let i = start; i < start + BATCH; i++) {
        const text = mutate(random, validMessage(random, i));
        // Framing stays intact here (the stream test below attacks framing): no block characters inside.
        const body = Buffer.from(text, 'utf8').filter((b) => b !== START_BLOCK && b !== END_BLOCK);
        mutants.push(frameMllp(Buffer.from(body)));
      }
      client.send(Buffer.concat(mutants));
      for (let i = 0; i < BATCH; i++) {
        const ack = msaOf(await client.nextAck());
        expect(['AA', 'AE', 'AR']).toContain(ack.code);
        codes.set(ack.code, (codes.get(ack.code) ?? 0) + 1);
      }
    }
    client.end();
    // The mutations hit a mix: some survive (AA), most are refused with a reason.
    expect((codes.get('AE') ?? 0) + (codes.get('AR') ?? 0)).toBeGreaterThan(CONTENT_MUTANTS / 4);
    expect(codes.get('AA') ?? 0).toBeGreaterThan(0);
    console.info(`fuzz seed ${SEED}: ${JSON.stringify(Object.fromEntries(codes))}`);
  }, budget(20_000));

  it(`survives ${STREAM_CONNECTIONS} connections of random bytes and broken framing`, async () => {
    const random = createRandom(SEED, 'stream');
    const controls = [START_BLOCK, END_BLOCK, CARRIAGE_RETURN];
    const streamAcks = new Map<string, number>();
    await Promise.all(Array.from({ length: STREAM_CONNECTIONS }, async (_, c) => {
      const parts: Buffer[] = [];
      for (let p = random.int(1, 6); p > 0; p--) {
        const kind = random.int(0, 3);
        if (kind === 0) parts.push(Buffer.from(Array.from({ length: random.int(1, 400) }, () => (random.chance(0.1) ? random.pick(controls) : random.int(0, 255)))));
        else if (kind === 1) parts.push(frameMllp(mutate(random, validMessage(random, c))));
        else if (kind === 2) parts.push(frameMllp(validMessage(random, c)).subarray(0, random.int(1, 200)));
        else parts.push(Buffer.concat([Buffer.of(START_BLOCK), Buffer.alloc(random.int(65 * 1024, 80 * 1024), 0x41), Buffer.of(END_BLOCK, CARRIAGE_RETURN)]));
      }
      const socket = net.connect(running.port, '127.0.0.1');
      socket.on('error', () => undefined);
      let answered = '';
      socket.on('data', (chunk: Buffer) => {
        answered += chunk.toString('latin1');
      });
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.end(Buffer.concat(parts));
      // The listener answers what it can, then the connection closes (peer end, or the frame deadline).
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      for (const msa of answered.split('\x0b').slice(1)) {
        expect(msa).toMatch(/\rMSA\|A[AER]\|/);
        const code = /\rMSA\|(A[AER])\|/.exec(msa)?.[1] ?? '?';
        streamAcks.set(code, (streamAcks.get(code) ?? 0) + 1);
      }
    }));
    console.info(`fuzz seed ${SEED}: ${STREAM_CONNECTIONS} stream connections answered ${JSON.stringify(Object.fromEntries(streamAcks))}`);
    // Still up and still right, and no connection left behind.
    const client = await connectRaw(running.port);
    client.send(frameMllp(validMessage(random, 0)));
    expect(msaOf(await client.nextAck()).code).toBe('AA');
    client.end();
    await vi.waitFor(() => expect(running.server.connections, 'connections still open after the fuzz').toBe(0), { timeout: budget(5000), interval: 20 });
  }, budget(20_000));
});
