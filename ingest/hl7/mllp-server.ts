import type { SenderSettingsMap } from './sender-settings.ts';
import { settingsFor } from './sender-settings.ts';
import net from 'node:net';
import tls from 'node:tls';
import { randomUUID } from 'node:crypto';
import type { RawReading } from '../../core/domain/reading.ts';
import { VigilError, isTransientFailure } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { Metrics } from '../../core/observability/metrics.ts';
import type { AckCode } from '../../core/wire/hl7/hl7-ack.ts';
import { buildAck } from '../../core/wire/hl7/hl7-ack.ts';
import type { FrameProblem } from '../../core/wire/hl7/mllp-framing.ts';
import { MllpDeframer, frameMllp } from '../../core/wire/hl7/mllp-framing.ts';
import type { MessageHeader, Refusal } from './oru-to-readings.ts';
import { HL7_ERROR, HL7V2_SOURCE, checkMessageType, oruToReadings, parseHeader } from './oru-to-readings.ts';
import type { AdtEvent } from './adt-to-event.ts';
import type { DeviceAttribution } from '../device-attribution.ts';
import { adtToEvent, isAdtMessage } from './adt-to-event.ts';
import { DEFAULTS } from '../../core/defaults.ts';

/** The wait the AR text suggests when the bus is down: the HTTP edges' Retry-After. */
const RETRY_AFTER_SECONDS = 1;

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
 * Who may send: with `certificateSenders`, the listener is TLS with verified client certificates
 * and a message's MSH-3/MSH-4 must be one its certificate (CN, DNS or URI SAN) may speak for; a
 * name the sender writes into its own MSH-3 proves nothing. Without it, `allowedSenders` applies
 * to every connection, which is only sound on loopback (the default `host`) or behind an
 * interface engine that authenticates senders.
 *
 * Slow, stuck or hoarding peers: only a complete message resets a connection's `idleTimeoutMs`
 * (bytes outside frames or a partial frame do not), a frame must complete `frameTimeoutMs` after
 * it began, a TLS handshake within `handshakeTimeoutMs`; at most `maxConnectionsPerPeer` per peer
 * address and `maxConnections` in all, the last `reservedConnections` of which only known peers
 * may use (`trustedPeers`, and addresses that recently authenticated with a mapped certificate).
 */
export interface AllowedSender {
  /** MSH-3: matches its namespace id (3.1) or its universal id (3.2), e.g. Philips Efficia's `^EfficiaCM`. */
  readonly application: string;
  /** MSH-4, matched the same way (4.1 or 4.2); any facility when omitted. */
  readonly facility?: string;
}

export interface MllpServerOptions {
  readonly port: number;
  readonly host?: string;
  /** TLS server options (key, cert, ca, requestCert ...); plain TCP when omitted. */
  readonly tls?: tls.TlsOptions;
  /** Senders accepted on every connection (plain TCP, or TLS without `certificateSenders`). */
  readonly allowedSenders: readonly AllowedSender[];
  /**
   * mTLS: certificate identity (subject CN, DNS or URI SAN) → the senders it may speak for. When
   * given, `tls` must request and verify client certificates, and this replaces `allowedSenders`.
   */
  readonly certificateSenders?: ReadonlyMap<string, readonly AllowedSender[]>;
  /** Per-sender leniencies (`parseSenderSettings`, VIGIL_MLLP_SENDER_SETTINGS); strict for senders not listed. */
  readonly senderSettings?: SenderSettingsMap;
  /**
   * ADT (admission, discharge, transfer) on the same listener: the senders allowed to send it
   * (VIGIL_MLLP_ADT_SENDERS; with mTLS the certificate must also allow the sender) and where the
   * events are recorded (ingest/hl7/adt-records.ts), resolving once they are. ADT is refused (AR)
   * when omitted.
   */
  readonly adt?: { readonly allowedSenders: readonly AllowedSender[]; readonly record: (event: AdtEvent) => Promise<void> };
  /**
   * Readings of messages with an empty PID-3 (a gateway that knows only the device or bed): given
   * the patient holding the device or bed at their time, or held until one does. Without it, an
   * empty PID-3 is refused (AE).
   */
  readonly attribution?: DeviceAttribution;
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
  readonly maxConnectionsPerPeer?: number;
  /** Of `maxConnections`, how many only known peers may use. */
  readonly reservedConnections?: number;
  /** Peer addresses (e.g. the interface engine) that may use the reserved connections and are not held to the per-peer cap. */
  readonly trustedPeers?: readonly string[];
  readonly handshakeTimeoutMs?: number;
  readonly maxQueuedFrames?: number;
  readonly closeTimeoutMs?: number;
  /** Clock for receivedAt and ACK timestamps. */
  readonly now?: () => number;
}

/** Commented in core/defaults.ts. */
export const MLLP_DEFAULTS = DEFAULTS.mllp;

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
  const certificateSenders = options.certificateSenders;
  const senderSettings = options.senderSettings;
  const sockets = new Set<net.Socket>();
  const idle = new Set<() => Promise<void>>();
  const admission = createAdmission(settings, options.trustedPeers ?? []);
  let closing = false;

  const onConnection = (socket: net.Socket): void => {
    sockets.add(socket);
    const queue: Work[] = [];
    let busy = false;
    let frameTimer: NodeJS.Timeout | undefined;
    let drained: (() => void) | undefined;
    // With mTLS, who this connection may speak for is fixed by its certificate at the handshake.
    const certificate = certificateSenders ? certificateOf(socket as tls.TLSSocket, certificateSenders) : undefined;
    if (certificate && certificate.senders.length > 0) admission.remember(peerOf(socket));
    const deframer = new MllpDeframer(settings.maxFrameBytes, {
      frame: (payload) => {
        // Only a complete message shows the peer is alive; stray bytes or a trickle do not.
        armIdle();
        enqueue({ kind: 'frame', payload });
      },
      problem: (problem) => enqueue({ kind: 'problem', problem }),
      garbage: (bytes) => log.debug({ bytes }, 'skipped bytes outside MLLP frames'),
    });

    socket.setNoDelay(true);
    let idleTimer: NodeJS.Timeout | undefined;
    function armIdle(): void {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        // A message still being answered (a slow bus) is not the peer idling.
        if (busy || queue.length > 0) return armIdle();
        log.info({ remote: socket.remoteAddress }, 'closing idle MLLP connection: no complete message within the idle limit');
        socket.destroy();
      }, settings.idleTimeoutMs);
    }
    armIdle();
    socket.on('data', (chunk: Buffer) => {
      deframer.push(chunk);
      armFrameDeadline();
    });
    // A frame must finish within frameTimeoutMs of its first byte, however slowly it trickles; but
    // not while this side has paused reading (a full queue on a busy machine): that time is ours.
    function armFrameDeadline(): void {
      if (deframer.midFrame && !frameTimer && !socket.isPaused()) {
        frameTimer = setTimeout(() => {
          log.info({ remote: socket.remoteAddress }, 'closing MLLP connection: frame not completed in time');
          socket.destroy();
        }, settings.frameTimeoutMs);
      } else if (!deframer.midFrame && frameTimer) {
        clearTimeout(frameTimer);
        frameTimer = undefined;
      }
    }
    function pauseReading(): void {
      socket.pause();
      if (frameTimer) clearTimeout(frameTimer);
      frameTimer = undefined;
    }
    socket.on('drain', () => drained?.());
    socket.on('error', (error) => log.debug({ code: (error as { code?: string }).code }, 'MLLP connection error'));
    socket.on('close', () => {
      sockets.delete(socket);
      if (frameTimer) clearTimeout(frameTimer);
      if (idleTimer) clearTimeout(idleTimer);
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
      if (queue.length >= settings.maxQueuedFrames) pauseReading();
      if (!busy) void drain();
    }

    async function drain(): Promise<void> {
      busy = true;
      try {
        while (queue.length > 0 && !socket.destroyed) {
          const work = queue.shift()!;
          const ack = await answer(work, certificate);
          if (socket.destroyed) break;
          if (!socket.write(frameMllp(ack))) {
            await new Promise<void>((resolve) => {
              drained = resolve;
            });
            drained = undefined;
          }
          if (queue.length < settings.maxQueuedFrames && !closing && socket.isPaused()) {
            socket.resume();
            armFrameDeadline();
          }
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
  async function answer(work: Work, certificate: PeerCertificate | undefined): Promise<string> {
    try {
      return work.kind === 'frame' ? await answerFrame(work.payload, certificate) : await answerProblem(work.problem);
    } catch (error) {
      log.error({ err: { name: (error as Error)?.name } }, 'unexpected error answering an MLLP frame');
      const payload = work.kind === 'frame' ? work.payload : work.problem.head;
      return refuse(payload, undefined, { ackCode: 'AE', condition: HL7_ERROR.applicationError, reason: 'the message could not be processed' }, now());
    }
  }

  async function answerFrame(payload: Buffer, certificate: PeerCertificate | undefined): Promise<string> {
    const receivedAt = now();
    const text = payload.toString('utf8');
    const parsed = parseHeader(text);
    if (!parsed.ok) return refuse(payload, undefined, parsed, receivedAt);
    const { header, message } = parsed;
    if (certificate && !isAllowed(certificate.senders, header)) {
      return refuse(payload, header, {
        ackCode: 'AR', condition: HL7_ERROR.unknownKey, location: 'MSH^1^3',
        reason: `certificate ${certificate.identity || '(no identity)'} may not send as ${header.sendingApplication || '(empty)'}/${header.sendingFacility || '(empty)'} (MSH-3/MSH-4)`,
      }, receivedAt);
    }
    if (isAdtMessage(header) && options.adt) return answerAdt(payload, header, parsed.message, options.adt, receivedAt);
    if (!certificate && !isAllowed(allowed, header)) {
      return refuse(payload, header, {
        ackCode: 'AR', condition: HL7_ERROR.unknownKey, location: 'MSH^1^3',
        reason: `sender ${header.sendingApplication || '(empty)'}/${header.sendingFacility || '(empty)'} (MSH-3/MSH-4) is not configured`,
      }, receivedAt);
    }
    const wrongType = checkMessageType(header);
    if (wrongType) return refuse(payload, header, wrongType, receivedAt);

    const result = oruToReadings(message, header, receivedAt, senderSettings ? settingsFor(senderSettings, header) : undefined, { unidentified: options.attribution !== undefined });
    if (!result.ok) return refuse(payload, header, result, receivedAt);
    let readings = result.readings, held = 0;
    try {
      if (result.unattributed.length > 0 && options.attribution) {
        const attributed = await options.attribution.attribute(result.unattributed);
        readings = [...readings, ...attributed.readings];
        held = attributed.held;
      }
      if (readings.length > 0) await publish(readings);
    } catch (error) {
      if (isTransientFailure(error)) {
        // Nothing wrong with the message: the sender keeps it and retries (AR = try again later).
        // Logged per message at debug only: the publisher logs the bus state change once.
        log.debug({ code: (error as VigilError).code, sender: header.sendingApplication }, 'bus unavailable; answered AR');
        return ack('AR', header, `system unavailable; resend later (retry after ${RETRY_AFTER_SECONDS} s)`, receivedAt, { condition: HL7_ERROR.applicationError });
      }
      return refuse(payload, header, { ackCode: 'AE', condition: HL7_ERROR.applicationError, reason: 'the readings could not be accepted' }, receivedAt);
    }
    const n = readings.length;
    const ignored = result.ignoredCodes.length > 0 ? `; ignored OBX-3 ${result.ignoredCodes.slice(0, 5).join(' ')}` : '';
    const heldText = held > 0 ? `; held ${held} until its device or bed is associated with a patient` : '';
    log.debug({ sender: header.sendingApplication, readings: n, held }, 'ORU^R01 accepted');
    return ack('AA', header, `accepted ${n} reading${n === 1 ? '' : 's'}${heldText}${ignored}`, receivedAt);
  }

  async function answerAdt(payload: Buffer, header: MessageHeader, message: Parameters<typeof adtToEvent>[0], adt: NonNullable<MllpServerOptions['adt']>, receivedAt: number): Promise<string> {
    if (!isAllowed(adt.allowedSenders, header)) {
      return refuse(payload, header, {
        ackCode: 'AR', condition: HL7_ERROR.unknownKey, location: 'MSH^1^3',
        reason: `sender ${header.sendingApplication || '(empty)'}/${header.sendingFacility || '(empty)'} (MSH-3/MSH-4) is not configured for ADT (VIGIL_MLLP_ADT_SENDERS)`,
      }, receivedAt);
    }
    const result = adtToEvent(message, header, senderSettings ? settingsFor(senderSettings, header) : undefined);
    if (!result.ok) return refuse(payload, header, result, receivedAt);
    try {
      await adt.record(result.event);
    } catch (error) {
      if (isTransientFailure(error)) {
        log.debug({ code: (error as VigilError).code, sender: header.sendingApplication }, 'records unavailable; ADT answered AR');
        return ack('AR', header, `system unavailable; resend later (retry after ${RETRY_AFTER_SECONDS} s)`, receivedAt, { condition: HL7_ERROR.applicationError });
      }
      log.error({ code: (error as { code?: unknown })?.code, event: header.triggerEvent }, 'ADT event could not be recorded');
      return refuse(payload, header, { ackCode: 'AE', condition: HL7_ERROR.applicationError, reason: 'the ADT event could not be recorded' }, receivedAt);
    }
    log.debug({ sender: header.sendingApplication, event: header.triggerEvent }, 'ADT accepted');
    return ack('AA', header, `ADT^${header.triggerEvent} recorded`, receivedAt);
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
    return ack(refusal.ackCode, header, refusal.reason, receivedAt, { condition: refusal.condition, ...(refusal.location ? { location: refusal.location } : {}) }, refusal.problems);
  }

  function ack(code: AckCode, header: MessageHeader | undefined, text: string, at: number, error?: Parameters<typeof buildAck>[0]['error'], problems?: Refusal['problems']): string {
    return buildAck({ code, text, now: at, ackControlId: randomUUID().replaceAll('-', '').slice(0, 20), ...(header ? { header } : {}), ...(error ? { error } : {}), ...(problems ? { problems } : {}) });
  }

  function isAllowed(senders: readonly AllowedSender[], header: MessageHeader): boolean {
    return senders.some((s) => header.applicationNames.includes(s.application)
      && (s.facility === undefined || header.facilityNames.includes(s.facility)));
  }

  // Admission runs on the TCP connection (before any TLS handshake), so a flood of sockets that
  // never finish one still meets the per-peer and total caps.
  const server = options.tls
    ? tls.createServer({ ...options.tls, allowHalfOpen: true, handshakeTimeout: settings.handshakeTimeoutMs })
    : net.createServer({ allowHalfOpen: true });
  // TLS connections still in their handshake, by peer address and port: nothing to answer there,
  // so close() ends them at once rather than waiting for the handshake limit.
  const handshaking = new Map<string, net.Socket>();
  const endpointOf = (socket: net.Socket): string => `${socket.remoteAddress}|${socket.remotePort}`;
  server.on('connection', (socket: net.Socket) => {
    const refusal = closing ? 'closing' : admission.admit(socket);
    if (refusal) {
      log.info({ remote: socket.remoteAddress, refusal }, 'MLLP connection refused');
      socket.destroy();
      return;
    }
    if (!options.tls) return onConnection(socket);
    const endpoint = endpointOf(socket);
    handshaking.set(endpoint, socket);
    // Node's own handshakeTimeout does not fire for a peer that sends nothing at all.
    const deadline = setTimeout(() => {
      if (handshaking.get(endpoint) !== socket) return;
      log.info({ remote: socket.remoteAddress }, 'closing MLLP connection: TLS handshake not completed in time');
      socket.destroy();
    }, settings.handshakeTimeoutMs);
    socket.once('close', () => {
      clearTimeout(deadline);
      if (handshaking.get(endpoint) === socket) handshaking.delete(endpoint);
    });
  });
  if (options.tls) {
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      handshaking.delete(endpointOf(socket));
      onConnection(socket);
    });
  }
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
      for (const socket of handshaking.values()) socket.destroy();
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
  const reserved = (value: number, max: number): number => {
    if (!Number.isInteger(value) || value < 0 || value >= max) throw new VigilError('CONFIG_INVALID', 'createMllpServer: reservedConnections must be an integer from 0 to maxConnections - 1');
    return value;
  };
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
  if (options.certificateSenders) {
    if (!options.tls || options.tls.requestCert !== true || options.tls.rejectUnauthorized === false || !options.tls.ca) {
      throw new VigilError('CONFIG_INVALID', 'createMllpServer: certificateSenders needs tls with a ca, requestCert: true and rejectUnauthorized left on');
    }
  }
  for (const fn of ['publish', 'deadLetter'] as const) {
    if (typeof options[fn] !== 'function') throw new VigilError('CONFIG_INVALID', `createMllpServer: ${fn} must be a function`);
  }
  return Object.freeze({
    // Plain MLLP proves nothing about its sender: loopback unless the caller chose otherwise.
    host: options.host ?? '127.0.0.1',
    maxFrameBytes: positive('maxFrameBytes', options.maxFrameBytes ?? MLLP_DEFAULTS.maxFrameBytes),
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs ?? MLLP_DEFAULTS.idleTimeoutMs),
    frameTimeoutMs: positive('frameTimeoutMs', options.frameTimeoutMs ?? MLLP_DEFAULTS.frameTimeoutMs),
    maxConnections: positive('maxConnections', options.maxConnections ?? MLLP_DEFAULTS.maxConnections),
    maxConnectionsPerPeer: positive('maxConnectionsPerPeer', options.maxConnectionsPerPeer ?? MLLP_DEFAULTS.maxConnectionsPerPeer),
    reservedConnections: reserved(options.reservedConnections ?? Math.min(MLLP_DEFAULTS.reservedConnections, Math.floor((options.maxConnections ?? MLLP_DEFAULTS.maxConnections) / 4)), options.maxConnections ?? MLLP_DEFAULTS.maxConnections),
    handshakeTimeoutMs: positive('handshakeTimeoutMs', options.handshakeTimeoutMs ?? MLLP_DEFAULTS.handshakeTimeoutMs),
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

/**
 * Parses `VIGIL_MLLP_CERT_SENDERS`: `identity=SENDER|SENDER;identity=...`, each sender written as
 * in `parseAllowedSenders` (`APP` or `APP@FACILITY`), the identity a certificate's subject CN or a
 * DNS/URI subject alternative name.
 */
export function parseCertificateSenders(text: string): Map<string, AllowedSender[]> {
  const map = new Map<string, AllowedSender[]>();
  for (const entry of text.split(';').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const identity = eq === -1 ? '' : entry.slice(0, eq).trim();
    const senders = eq === -1 ? [] : parseAllowedSenders(entry.slice(eq + 1).replaceAll('|', ','));
    if (identity === '' || senders.length === 0 || senders.some((s) => s.application === '')) {
      throw new VigilError('CONFIG_INVALID', `certificate senders: "${entry}" must read identity=SENDER|SENDER (SENDER is MSH-3 or MSH-3@MSH-4)`);
    }
    map.set(identity, [...(map.get(identity) ?? []), ...senders]);
  }
  return map;
}

interface PeerCertificate {
  /** The names the certificate proves, for messages and logs (not patient data). */
  readonly identity: string;
  /** Union of the senders mapped to any of those names. */
  readonly senders: readonly AllowedSender[];
}

/** The verified client certificate's names (subject CN, DNS and URI SANs) and the senders they map to. */
function certificateOf(socket: tls.TLSSocket, map: ReadonlyMap<string, readonly AllowedSender[]>): PeerCertificate {
  const cert = socket.authorized ? socket.getPeerCertificate() : undefined;
  const names: string[] = [];
  if (cert && Object.keys(cert).length > 0) {
    const cn = cert.subject?.CN as string | string[] | undefined;
    names.push(...(Array.isArray(cn) ? cn : cn ? [cn] : []));
    for (const san of (cert.subjectaltname ?? '').split(',').map((s) => s.trim())) {
      const match = /^(DNS|URI):(.+)$/.exec(san);
      if (match) names.push(match[2]!);
    }
  }
  return { identity: names[0] ?? '', senders: names.flatMap((name) => map.get(name) ?? []) };
}

/** The peer's address, an IPv4-mapped IPv6 address written as IPv4. */
function peerOf(socket: net.Socket): string {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Connection admission: per-peer and total caps, with the last `reservedConnections` slots kept
 * for known peers (configured, or recently authenticated by a mapped client certificate) so a
 * flood of idle sockets cannot lock out a real monitor or the interface engine.
 */
function createAdmission(settings: { maxConnections: number; maxConnectionsPerPeer: number; reservedConnections: number }, trustedPeers: readonly string[]) {
  const trusted = new Set(trustedPeers.map((p) => (p.startsWith('::ffff:') ? p.slice(7) : p)));
  // Addresses that authenticated, most recent last; bounded, the longest unseen forgotten first.
  const authenticated = new Set<string>();
  const REMEMBERED = 1024;
  const perPeer = new Map<string, number>();
  let total = 0;
  return {
    remember(peer: string): void {
      authenticated.delete(peer);
      authenticated.add(peer);
      if (authenticated.size > REMEMBERED) authenticated.delete(authenticated.values().next().value!);
    },
    /** Undefined when admitted (and counted until the socket closes), else why not. */
    admit(socket: net.Socket): string | undefined {
      const peer = peerOf(socket);
      const known = trusted.has(peer) || authenticated.has(peer);
      const mine = perPeer.get(peer) ?? 0;
      if (total >= settings.maxConnections) return 'all connections in use';
      if (!known && total >= settings.maxConnections - settings.reservedConnections) return 'only reserved connections left';
      if (!known && mine >= settings.maxConnectionsPerPeer) return 'too many connections from this peer';
      total++;
      perPeer.set(peer, mine + 1);
      socket.once('close', () => {
        total--;
        const left = (perPeer.get(peer) ?? 1) - 1;
        if (left === 0) perPeer.delete(peer);
        else perPeer.set(peer, left);
      });
      return undefined;
    },
  };
}
