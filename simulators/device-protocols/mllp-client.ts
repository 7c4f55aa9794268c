import net from 'node:net';
import tls from 'node:tls';
import { VigilError } from '../../core/errors.ts';
import { MllpDeframer, frameMllp } from '../../core/wire/hl7/mllp-framing.ts';

/**
 * A device-side MLLP connection: sends one HL7 message at a time and resolves with its ACK, as
 * HL7 senders do (the next message goes only after the previous one is acknowledged). Callers
 * that send concurrently are served in call order.
 */
export interface MllpClient {
  /** Resolves with the ACK text; rejects (retriable) when the connection fails or no ACK comes in time. */
  send(message: string): Promise<string>;
  close(): Promise<void>;
}

export interface MllpClientOptions {
  readonly host: string;
  readonly port: number;
  /** TLS connection options; plain TCP when omitted. */
  readonly tls?: tls.ConnectionOptions;
  readonly ackTimeoutMs?: number;
}

export async function connectMllp(options: MllpClientOptions): Promise<MllpClient> {
  const ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
  const socket: net.Socket = options.tls
    ? tls.connect({ host: options.host, port: options.port, ...options.tls })
    : net.connect(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    socket.once(options.tls ? 'secureConnect' : 'connect', resolve);
    socket.once('error', (cause) => reject(new VigilError('BACKEND_UNAVAILABLE', `cannot connect to MLLP ${options.host}:${options.port}`, { cause })));
  });
  socket.setNoDelay(true);
  let waiting: { resolve(ack: string): void; reject(error: unknown): void } | undefined;
  let failure: unknown;
  const deframer = new MllpDeframer(1 << 20, {
    frame: (payload) => {
      const w = waiting;
      waiting = undefined;
      w?.resolve(payload.toString('utf8'));
    },
    problem: () => undefined,
    garbage: () => undefined,
  });
  socket.on('data', (chunk: Buffer) => deframer.push(chunk));
  const fail = (error: unknown): void => {
    failure ??= error;
    const w = waiting;
    waiting = undefined;
    w?.reject(failure);
  };
  socket.on('error', (cause) => fail(new VigilError('BACKEND_UNAVAILABLE', 'MLLP connection failed', { cause })));
  socket.on('close', () => fail(new VigilError('BACKEND_UNAVAILABLE', 'MLLP connection closed')));

  let chain: Promise<unknown> = Promise.resolve();
  const sendOne = (message: string): Promise<string> => new Promise<string>((resolve, reject) => {
    if (failure) return reject(failure);
    const timer = setTimeout(() => {
      waiting = undefined;
      reject(new VigilError('BACKEND_UNAVAILABLE', `no ACK within ${ackTimeoutMs} ms`));
      socket.destroy(); // a late ACK would be taken for the next message's
    }, ackTimeoutMs);
    waiting = {
      resolve: (ack) => {
        clearTimeout(timer);
        resolve(ack);
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    };
    socket.write(frameMllp(message));
  });

  return {
    send(message) {
      const result = chain.then(() => sendOne(message));
      chain = result.catch(() => undefined);
      return result;
    },
    async close() {
      await chain;
      if (socket.destroyed) return;
      await new Promise<void>((resolve) => socket.end(resolve));
      socket.destroy();
    },
  };
}

/** MSA-1 (AA, AE, AR, or '' when the ACK has no MSA), MSA-2 and MSA-3 of an ACK. */
export function msaOf(ack: string): { code: string; controlId: string; text: string } {
  const msa = ack.split('\r').find((s) => s.startsWith('MSA|'))?.split('|') ?? [];
  return { code: msa[1] ?? '', controlId: msa[2] ?? '', text: msa[3] ?? '' };
}
