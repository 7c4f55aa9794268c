import net from 'node:net';
import { createLogger } from '../../core/observability/logger.ts';
import { createMetrics } from '../../core/observability/metrics.ts';
import type { RawReading } from '../../core/domain/reading.ts';
import { MllpDeframer } from '../../core/wire/hl7/mllp-framing.ts';
import type { MllpServer, MllpServerOptions } from './mllp-server.ts';
import { createMllpServer } from './mllp-server.ts';
import { budget } from '../../core/contracts/wait-for.ts';

/**
 * Test support for the MLLP listener: a server on a free port whose publish and dead letters are
 * recorded, and a raw socket client that can send any bytes (broken frames, garbage) and collects
 * the ACK frames it gets back.
 */
export interface RecordingServer {
  server: MllpServer;
  port: number;
  published: RawReading[];
  deadLetters: { payload: Buffer; reason: string }[];
}

export async function startRecordingServer(overrides: Partial<MllpServerOptions> = {}): Promise<RecordingServer> {
  const published: RawReading[] = [];
  const deadLetters: { payload: Buffer; reason: string }[] = [];
  const server = createMllpServer({
    port: 0,
    host: '127.0.0.1',
    allowedSenders: [{ application: 'MONITOR' }, { application: 'GATEWAY', facility: 'ICU' }],
    publish: async (readings) => {
      published.push(...readings);
    },
    deadLetter: async (payload, reason) => {
      deadLetters.push({ payload, reason });
    },
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics({ defaultMetrics: false }),
    ...overrides,
  });
  const { port } = await server.listen();
  return { server, port, published, deadLetters };
}

export interface RawClient {
  send(bytes: Buffer | string): void;
  /** Resolves with the next ACK (frame text), or rejects when the connection closes first. */
  nextAck(timeoutMs?: number): Promise<string>;
  readonly closed: Promise<void>;
  /** Whether the connection has closed (for waits on a condition). */
  readonly isClosed: boolean;
  end(): void;
}

/** `localAddress` (another 127.x.y.z on Linux) makes the client a different peer. */
export async function connectRaw(port: number, localAddress?: string): Promise<RawClient> {
  const socket = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const acks: string[] = [];
  const waiting: ((ack: string | undefined) => void)[] = [];
  const deframer = new MllpDeframer(1 << 20, {
    frame: (payload) => {
      const text = payload.toString('utf8');
      const waiter = waiting.shift();
      if (waiter) waiter(text);
      else acks.push(text);
    },
    problem: () => undefined,
    garbage: () => undefined,
  });
  socket.on('data', (chunk: Buffer) => deframer.push(chunk));
  socket.on('error', () => undefined);
  let isClosed = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => {
    isClosed = true;
    for (const waiter of waiting.splice(0)) waiter(undefined);
    resolve();
  }));
  return {
    send: (bytes) => void socket.write(bytes),
    nextAck: (timeoutMs = 5000) => {
      const ready = acks.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      if (socket.destroyed) return Promise.reject(new Error('connection closed'));
      return new Promise((resolve, reject) => {
        const waiter = (ack: string | undefined): void => {
          clearTimeout(timer);
          if (ack === undefined) reject(new Error('connection closed before the ACK'));
          else resolve(ack);
        };
        // A waiter that gave up leaves the queue, so a late ACK goes to the next caller, not to it.
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1);
          reject(new Error(`no ACK within ${budget(timeoutMs)} ms (${acks.length} unclaimed ACKs)`));
        }, budget(timeoutMs));
        waiting.push(waiter);
      });
    },
    closed,
    get isClosed() {
      return isClosed;
    },
    end: () => socket.destroy(),
  };
}

export { msaOf } from '../../simulators/device-protocols/mllp-client.ts';
