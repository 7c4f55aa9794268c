import net from 'node:net';
import tls from 'node:tls';
import { randomUUID } from 'node:crypto';
import type { RawReading } from '../../core/domain/reading.ts';
import { VigilError, isRetriable } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { Metrics } from '../../core/observability/metrics.ts';
import type { AckCode } from './hl7-ack.ts';
import { buildAck } from './hl7-ack.ts';
import type { FrameProblem } from './mllp-framing.ts';
import { MllpDeframer, frameMllp } from './mllp-framing.ts';
import type { MessageHeader, Refusal } from './oru-to-readings.ts';
import { HL7_ERROR, HL7V2_SOURCE, checkMessageType, oruToReadings, parseHeader } from './oru-to-readings.ts';

/**
 * The HL7 v2 edge: an MLLP listener (TCP, or TLS when `tls` is given) that accepts ORU^R01 from
 * configured senders and answers every message with an ACK.
 *
 * Lifecycle: `createMllpServer(options)` validates the options → `listen()` → `close()`. `close()`
 * stops accepting connections and reading, answers every frame already received, then ends the
 * connections (destroying those still busy after `closeTimeoutMs`).
 *
 * Per connection, frames are answered one at a time in arrival order (HL7 senders wait for each
 * ACK; a sender that pipelines still gets its ACKs in order). What is held is bounded: at most
 * `maxFrameBytes` per frame, `maxQueuedFrames` frames waiting (the socket is paused beyond that),
 * and no new frame is read while the peer is not reading its ACKs.
 *
 * Slow or stuck peers: a connection with no bytes for `idleTimeoutMs` is closed, and so is one
 * whose frame has not completed `frameTimeoutMs` after it began (a slowloris trickle resets an
 * idle timer, not this one); at most `maxConnections` are open at once.
 */
export interface AllowedSender {
  /** MSH-3 (namespace id, the first component). */
  readonly application: string;
  /** MSH-4 (first component); any facility when omitted. */
  readonly facility?: string;
}

export interface MllpServerOptions {
  readonly port: number;
  readonly host?: string;
  /** TLS server options (key, cert, ca, requestCert ...); plain TCP when omitted. */
  readonly tls?: tls.TlsOptions;
  readonly allowedSenders: readonly AllowedSender[];
  /** Resolves once the bus has every reading (ReadingPublisher.publish). */
  readonly publish: (readings: RawReading[]) => Promise<void>;
  /** Keeps an unusable message with the reason; the original bytes, untouched. */
  readonly deadLetter: (payload: Buffer, reason: string) => Promise<void>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly maxFrameBytes?: number;
  readonly idleTimeoutMs?: number;
  readonly frameTimeoutMs?: number;
  readonly maxConnections?: number;
  readonly maxQueuedFrames?: number;
  readonly closeTimeoutMs?: number;
  /** Clock for receivedAt and ACK timestamps. */
  readonly now?: () => number;
}

export const MLLP_DEFAULTS = Object.freeze({
  // An ORU^R01 from a monitor is a few KB; 1 MiB allows a gateway's large batch and bounds memory.
  maxFrameBytes: 1_048_576,
  // Monitors keep one connection open and send every few seconds to minutes.
  idleTimeoutMs: 5 * 60_000,
  // A real frame arrives in milliseconds; 30 s tolerates a congested WAN, not a trickle.
  frameTimeoutMs: 30_000,
  maxConnections: 512,
  maxQueuedFrames: 16,
  closeTimeoutMs: 10_000,
});

export interface MllpServer {
  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
  /** Connections open now. */
  readonly connections: number;
}

type Work = { kind: 'frame'; payload: Buffer } | { kind: 'problem'; problem: FrameProblem };

export function createMllpServer(options: MllpServerOptions): MllpServer {
  const settings = validate(options);
  const { publish, deadLetter, logger, metrics } = options;
  const now = options.now ?? Date.now;
  const log = logger.child({ component: 'mllp' });
  const allowed = options.allowedSenders.map((s) => ({ application: s.application, facility: s.facility }));
  const sockets = new Set<net.Socket>();
  const idle = new Set<() => Promise<void>>();
  let closing = false;

  const onConnection = (socket: net.Socket): void => {
    sockets.add(socket);
    const queue: Work[] = [];
    let busy = false;
    let frameTimer: NodeJS.Timeout | undefined;
    let drained: (() => void) | undefined;
    const deframer = new MllpDeframer(settings.maxFrameBytes, {
      frame: (payload) => enqueue({ kind: 'frame', payload }),
      problem: (problem) => enqueue({ kind: 'problem', problem }),
      garbage: (bytes) => log.debug({ bytes }, 'skipped bytes outside MLLP frames'),
    });

    socket.setNoDelay(true);
    socket.setTimeout(settings.idleTimeoutMs, () => {
      log.info({ remote: socket.remoteAddress }, 'closing idle MLLP connection');
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      deframer.push(chunk);
      // A frame must finish within frameTimeoutMs of its first byte, however slowly it trickles.
      if (deframer.midFrame && !frameTimer) {
        frameTimer = setTimeout(() => {
          log.info({ remote: socket.remoteAddress }, 'closing MLLP connection: frame not completed in time');
          socket.destroy();
        }, settings.frameTimeoutMs);
      } else if (!deframer.midFrame && frameTimer) {
        clearTimeout(frameTimer);
        frameTimer = undefined;
      }
    });
    socket.on('drain', () => drained?.());
    socket.on('error', (error) => log.debug({ code: (error as { code?: string }).code }, 'MLLP connection error'));
    socket.on('close', () => {
      sockets.delete(socket);
      if (frameTimer) clearTimeout(frameTimer);
      drained?.();
    });

    const settle = async (): Promise<void> => {
      // Graceful close: stop reading, answer what was received, then end the connection.
      socket.pause();
      while (busy || queue.length > 0) await new Promise((r) => setTimeout(r, 5));
      socket.end();
    };
    idle.add(settle);
    socket.on('close', () => idle.delete(settle));
    // The peer finished sending (half-close): answer what it sent, then close our side.
    socket.on('end', () => void settle());

    function enqueue(work: Work): void {
      queue.push(work);
      if (queue.length >= settings.maxQueuedFrames) socket.pause();
      if (!busy) void drain();
    }

    async function drain(): Promise<void> {
      busy = true;
      try {
        while (queue.length > 0 && !socket.destroyed) {
          const work = queue.shift()!;
          const ack = await answer(work);
          if (socket.destroyed) break;
          if (!socket.write(frameMllp(ack))) {
            await new Promise<void>((resolve) => {
              drained = resolve;
            });
            drained = undefined;
          }
          if (queue.length < settings.maxQueuedFrames && !closing && socket.isPaused()) socket.resume();
        }
      } catch (error) {
        // `answer` never throws; a failing socket write must still not take the listener down.
        log.error({ err: { name: (error as Error)?.name } }, 'unexpected MLLP connection failure; closing it');
        socket.destroy();
      } finally {
        busy = false;
      }
    }
  };

  /** Never throws: a message that trips something unexpected still gets an answer. */
  async function answer(work: Work): Promise<string> {
    try {
      return work.kind === 'frame' ? await answerFrame(work.payload) : await answerProblem(work.problem);
    } catch (error) {
      log.error({ err: { name: (error as Error)?.name } }, 'unexpected error answering an MLLP frame');
      const payload = work.kind === 'frame' ? work.payload : work.problem.head;
      return refuse(payload, undefined, { ackCode: 'AE', condition: HL7_ERROR.applicationError, reason: 'the message could not be processed' }, now());
    }
  }

  async function answerFrame(payload: Buffer): Promise<string> {
    const receivedAt = now();
    const text = payload.toString('utf8');
    const parsed = parseHeader(text);
    if (!parsed.ok) return refuse(payload, undefined, parsed, receivedAt);
    const { header, message } = parsed;
    if (!isAllowed(header)) {
      return refuse(payload, header, {
        ackCode: 'AR', condition: HL7_ERROR.unknownKey, location: 'MSH^1^3',
        reason: `sender ${header.sendingApplication || '(empty)'}/${header.sendingFacility || '(empty)'} (MSH-3/MSH-4) is not configured`,
      }, receivedAt);
    }
    const wrongType = checkMessageType(header);
    if (wrongType) return refuse(payload, header, wrongType, receivedAt);

    const result = oruToReadings(message, header, receivedAt);
    if (!result.ok) return refuse(payload, header, result, receivedAt);
    try {
      await publish(result.readings);
    } catch (error) {
      if (isRetriable(error)) {
        // Nothing wrong with the message: the sender keeps it and retries (AR = try again later).
        log.warn({ code: (error as VigilError).code, sender: header.sendingApplication }, 'bus unavailable; answered AR');
        return ack('AR', header, 'system unavailable; resend later', receivedAt, { condition: HL7_ERROR.applicationError });
      }
      return refuse(payload, header, { ackCode: 'AE', condition: HL7_ERROR.applicationError, reason: 'the readings could not be accepted' }, receivedAt);
    }
    const n = result.readings.length;
    const ignored = result.ignoredCodes.length > 0 ? `; ignored OBX-3 ${result.ignoredCodes.slice(0, 5).join(' ')}` : '';
    log.debug({ sender: header.sendingApplication, readings: n }, 'ORU^R01 accepted');
    return ack('AA', header, `accepted ${n} reading${n === 1 ? '' : 's'}${ignored}`, receivedAt);
  }

  async function answerProblem(problem: FrameProblem): Promise<string> {
    const receivedAt = now();
    // The head may still hold a readable MSH: then the ACK can echo its control id.
    const parsed = parseHeader(problem.head.toString('utf8'));
    const header = parsed.ok ? parsed.header : undefined;
    const reason = problem.kind === 'oversize'
      ? `MLLP frame larger than ${settings.maxFrameBytes} bytes; split the message`
      : 'MLLP frame broken: a start block (0x0B) or an end block without CR interrupted it';
    return refuse(problem.head, header, { ackCode: 'AR', condition: HL7_ERROR.segmentSequence, reason }, receivedAt);
  }

  async function refuse(payload: Buffer, header: MessageHeader | undefined, refusal: Refusal, receivedAt: number): Promise<string> {
    metrics.readingsRefused.inc({ source: HL7V2_SOURCE });
    log.info({ ack: refusal.ackCode, code: refusal.condition.code, location: refusal.location, sender: header?.sendingApplication }, 'HL7 message refused');
    try {
      await deadLetter(payload, `${refusal.ackCode} ${refusal.condition.code}: ${refusal.reason}`);
      metrics.deadLetters.inc({ reason: `${HL7V2_SOURCE}_${refusal.ackCode}` });
    } catch (error) {
      log.error({ code: (error as { code?: unknown })?.code }, 'could not store an HL7 dead letter');
    }
    return ack(refusal.ackCode, header, refusal.reason, receivedAt, { condition: refusal.condition, ...(refusal.location ? { location: refusal.location } : {}) });
  }

  function ack(code: AckCode, header: MessageHeader | undefined, text: string, at: number, error?: Parameters<typeof buildAck>[0]['error']): string {
    return buildAck({ code, text, now: at, ackControlId: randomUUID().replaceAll('-', '').slice(0, 20), ...(header ? { header } : {}), ...(error ? { error } : {}) });
  }

  function isAllowed(header: MessageHeader): boolean {
    return allowed.some((s) => s.application === header.sendingApplication && (s.facility === undefined || s.facility === header.sendingFacility));
  }

  const server = options.tls
    ? tls.createServer({ ...options.tls, allowHalfOpen: true }, onConnection)
    : net.createServer({ allowHalfOpen: true }, onConnection);
  server.maxConnections = settings.maxConnections;
  server.on('error', (error) => log.error({ code: (error as { code?: string }).code }, 'MLLP listener error'));
  if (options.tls) {
    server.on('tlsClientError', (error) => log.info({ code: (error as { code?: string }).code }, 'MLLP TLS handshake failed'));
  }

  return {
    get connections() {
      return sockets.size;
    },
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (error: Error): void => reject(new VigilError('CONFIG_INVALID', `MLLP listener cannot bind ${settings.host}:${options.port}`, { cause: error }));
        server.once('error', onError);
        server.listen(options.port, settings.host, () => {
          server.off('error', onError);
          const address = server.address() as net.AddressInfo;
          log.info({ port: address.port, tls: Boolean(options.tls) }, 'MLLP listener ready');
          resolve({ host: address.address, port: address.port });
        });
      });
    },
    async close() {
      if (closing) return;
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const timeout = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, settings.closeTimeoutMs);
      await Promise.allSettled([...idle].map((settle) => settle()));
      await stopped;
      clearTimeout(timeout);
    },
  };
}

function validate(options: MllpServerOptions) {
  const positive = (name: string, value: number): number => {
    if (!Number.isInteger(value) || value < 1) throw new VigilError('CONFIG_INVALID', `createMllpServer: ${name} must be a positive integer`);
    return value;
  };
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new VigilError('CONFIG_INVALID', 'createMllpServer: port must be an integer 0..65535');
  }
  if (!Array.isArray(options.allowedSenders) || options.allowedSenders.some((s) => typeof s?.application !== 'string' || s.application === '')) {
    throw new VigilError('CONFIG_INVALID', 'createMllpServer: allowedSenders must list { application, facility? } with a non-empty application');
  }
  for (const fn of ['publish', 'deadLetter'] as const) {
    if (typeof options[fn] !== 'function') throw new VigilError('CONFIG_INVALID', `createMllpServer: ${fn} must be a function`);
  }
  return Object.freeze({
    host: options.host ?? '0.0.0.0',
    maxFrameBytes: positive('maxFrameBytes', options.maxFrameBytes ?? MLLP_DEFAULTS.maxFrameBytes),
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs ?? MLLP_DEFAULTS.idleTimeoutMs),
    frameTimeoutMs: positive('frameTimeoutMs', options.frameTimeoutMs ?? MLLP_DEFAULTS.frameTimeoutMs),
    maxConnections: positive('maxConnections', options.maxConnections ?? MLLP_DEFAULTS.maxConnections),
    maxQueuedFrames: positive('maxQueuedFrames', options.maxQueuedFrames ?? MLLP_DEFAULTS.maxQueuedFrames),
    closeTimeoutMs: positive('closeTimeoutMs', options.closeTimeoutMs ?? MLLP_DEFAULTS.closeTimeoutMs),
  });
}

/**
 * Parses allowed senders written as `APP` or `APP@FACILITY`, comma-separated (for an environment
 * variable such as VIGIL_MLLP_SENDERS).
 */
export function parseAllowedSenders(text: string): AllowedSender[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    const at = entry.indexOf('@');
    return at === -1 ? { application: entry } : { application: entry.slice(0, at), facility: entry.slice(at + 1) };
  });
}
