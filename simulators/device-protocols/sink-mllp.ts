import type tls from 'node:tls';
import { VigilError } from '../../core/errors.ts';
import { withRetry } from '../../core/retry.ts';
import type { SimulatedReading } from '../device-faults.ts';
import type { ReadingSink, SinkStats } from '../reading-sink.ts';
import type { MllpClient } from './mllp-client.ts';
import { connectMllp, msaOf } from './mllp-client.ts';
import { readingToOru } from './reading-to-oru.ts';

export interface MllpSinkOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: tls.ConnectionOptions;
  /** MSH-3; must be a configured sender on the listener. */
  readonly sendingApplication: string;
  readonly sendingFacility?: string;
  readonly codes?: 'mdc' | 'loinc';
  /** Connections used side by side (each sends one message at a time). Default 2. */
  readonly connections?: number;
  /** Attempts per message for AR "resend later" and connection failures (default 6). */
  readonly attempts?: number;
  readonly signal?: AbortSignal;
}

/**
 * Sends simulated readings as a monitor gateway would: one ORU^R01 per reading over MLLP, waiting
 * for each ACK. AA counts as accepted and AE as rejected (the reading was malformed); AR for an
 * unavailable system is retried with backoff; AR for anything else (an unknown sender, say) stops
 * the sink, since resending cannot fix it.
 */
export function createMllpSink(options: MllpSinkOptions): ReadingSink {
  const size = options.connections ?? 2;
  const pool: (MllpClient | undefined)[] = Array.from({ length: size }, () => undefined);
  let written = 0, accepted = 0, rejected = 0, retries = 0, sequence = 0;
  let fatal: unknown;

  async function client(slot: number): Promise<MllpClient> {
    const existing = pool[slot];
    if (existing) return existing;
    const created = await connectMllp({ host: options.host, port: options.port, ...(options.tls ? { tls: options.tls } : {}) });
    pool[slot] = created;
    return created;
  }

  async function sendOne(slot: number, reading: SimulatedReading): Promise<void> {
    const message = readingToOru(reading.body, {
      sendingApplication: options.sendingApplication,
      ...(options.sendingFacility ? { sendingFacility: options.sendingFacility } : {}),
      controlId: `SIM${Date.now().toString(36)}${(sequence++).toString(36)}`,
      codes: options.codes ?? 'mdc',
    });
    const code = await withRetry(async () => {
      let ack: string;
      try {
        ack = await (await client(slot)).send(message);
      } catch (error) {
        pool[slot] = undefined; // reconnect on the next attempt
        throw error;
      }
      const { code, text } = msaOf(ack);
      if (code === 'AR' && /resend later/.test(text)) throw new VigilError('BACKPRESSURE', text);
      if (code === 'AR') throw new VigilError('FORBIDDEN', `MLLP listener rejected the messages: ${text}`);
      return code;
    }, {
      attempts: options.attempts ?? 6, initialDelayMs: 100, maxDelayMs: 5_000,
      onRetry: () => void retries++,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (code === 'AA') accepted++;
    else rejected++;
  }

  return {
    async write(readings) {
      if (fatal) throw fatal;
      written += readings.length;
      let next = 0;
      const worker = async (slot: number): Promise<void> => {
        while (next < readings.length) await sendOne(slot, readings[next++]!);
      };
      try {
        await Promise.all(pool.map((_, slot) => worker(slot)));
      } catch (error) {
        fatal = error;
        throw error;
      }
    },
    async flush() {
      await Promise.all(pool.map((c) => c?.close()));
      pool.fill(undefined);
    },
    stats(): SinkStats {
      return { written, accepted, rejected, retries };
    },
  };
}
