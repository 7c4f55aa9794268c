import { existsSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { VigilConfig } from '../core/config.ts';
import type { PatientUpdates } from '../core/domain/patient-updates.ts';
import { createInMemoryPatientUpdates } from '../core/domain/patient-updates.ts';
import type { Logger } from '../core/observability/logger.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import { createMetrics } from '../core/observability/metrics.ts';
import type { Bus } from '../core/ports/bus.ts';
import type { TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { openAlertStore, openAuditLog, openBus, openDeviceAssociations, openSessionRevocations, openTimeSeries, openWarehouse } from './wiring/open-backends.ts';
import { provisionSteps } from './wiring/provision.ts';
import { readinessChecks } from './wiring/readiness.ts';
import { startStoreRetention } from './wiring/retention.ts';
import { createAlertEngine } from '../dashboard-api/alerts/alert-engine.ts';
import { resolveAlertThresholds } from '../dashboard-api/alerts/alert.ts';
import { signToken } from '../http/auth.ts';
import { buildApp } from './build-app.ts';
import { createEdgeDeadLetters } from '../ingest/edge-dead-letters.ts';
import { patientIdOfFhirPayload } from '../ingest/fhir/fhir-patient-of.ts';
import { fhirReadRoutes } from '../ingest/fhir/fhir-read-routes.ts';
import { fhirRoutes } from '../ingest/fhir/fhir-routes.ts';
import { patientIdOfMessage } from '../ingest/hl7/oru-to-readings.ts';
import type { MllpServerOptions } from '../ingest/hl7/mllp-server.ts';
import { createMllpServer, parseAllowedSenders, parseCertificateSenders } from '../ingest/hl7/mllp-server.ts';
import { parseSenderSettings } from '../ingest/hl7/sender-settings.ts';
import { VigilError } from '../core/errors.ts';
import { createReadingPublisher } from '../ingest/reading-publisher.ts';
import type { RiskModel } from '../core/ports/risk-model.ts';
import { startProcessor } from '../stream-processor/processor.ts';
import { createHttpSink } from '../simulators/sink-http.ts';
import type { ReadingSink } from '../simulators/reading-sink.ts';
import { createFhirSink } from '../simulators/device-protocols/sink-fhir.ts';
import { createMixedDeviceSink } from '../simulators/device-protocols/sink-mixed-devices.ts';
import { createMllpSink } from '../simulators/device-protocols/sink-mllp.ts';
import { runSimulation } from '../simulators/live-readings.ts';
import { createWard } from '../simulators/ward.ts';
import { createWardAdmissionRecorder } from '../simulators/ward-admission-records.ts';
import { createWarehouseAdmissionLookup } from '../stream-processor/admission-context.ts';
import { createAdtRecords } from '../ingest/hl7/adt-records.ts';
import { createDeviceAttribution } from '../ingest/device-attribution.ts';
import type { DeviceAttribution } from '../ingest/device-attribution.ts';
import { deviceAssociationRoute } from '../ingest/device-association-route.ts';
import { createWardCensus } from '../dashboard-api/ward-census.ts';
import type { DeviceAssociations } from '../core/ports/device-associations.ts';
import { describeServedModel } from '../models/provenance.ts';
import type { ServedModel } from '../models/provenance.ts';
import { pollPatientUpdates } from './poll-patient-updates.ts';

/** Which components this process runs. `vigil start` runs them all. */
export interface RuntimeParts {
  /** The device edge: POST /v1/readings (and the FHIR routes). */
  readonly ingest: boolean;
  /** A stream processor instance. */
  readonly process: boolean;
  /** The clinician read API, SSE stream and dashboard. */
  readonly read: boolean;
  /** Simulated patients posting through this process's own edge (0: none). */
  readonly simulate: number;
}

export interface Runtime {
  /** Base URL the HTTP server listens on. */
  readonly url: string;
  /** host:port of the HL7 v2 MLLP listener, when this process runs the edge. */
  readonly mllpAddress?: string;
  /** How the MLLP listener knows its senders: client certificates, loopback only, or not at all. */
  readonly mllpSecurity?: MllpSecurity;
  readonly app: FastifyInstance;
  readonly metrics: Metrics;
  /** Drains and closes everything, in order. Safe to call twice. */
  stop(): Promise<void>;
}

export type MllpSecurity = 'mtls' | 'plaintext-loopback' | 'plaintext-insecure';

/** A process is embedded when every backend it uses is, so provisioning at start-up is safe. */
function isEmbedded(config: VigilConfig): boolean {
  return config.bus.kind === 'embedded' && config.timeseries.kind === 'embedded' && config.warehouse.kind === 'duckdb';
}

export async function startRuntime(config: VigilConfig, parts: RuntimeParts, logger: Logger): Promise<Runtime> {
  const metrics = createMetrics();
  const updates: PatientUpdates = createInMemoryPatientUpdates();
  const closers: { name: string; close: () => Promise<void> }[] = [];
  const closeAll = async () => {
    for (const { name, close } of closers.reverse()) {
      try {
        await close();
      } catch (error) {
        logger.error({ err: error, component: name }, 'error while closing');
      }
    }
  };

  try {
    const bus: Bus | undefined = parts.ingest || parts.process ? await openBus(config, logger) : undefined;
    if (bus) closers.push({ name: 'bus', close: () => bus.close() });
    const timeseries: TimeSeriesStore | undefined = parts.process || parts.read ? await openTimeSeries(config, logger) : undefined;
    if (timeseries) closers.push({ name: 'timeseries', close: () => timeseries.close() });
    // The edge needs the warehouse too: HL7 and FHIR messages it cannot use become dead letters there.
    const warehouse: Warehouse | undefined = parts.process || parts.read || parts.ingest ? await openWarehouse(config, logger, { lockedDown: true }) : undefined;
    if (warehouse) closers.push({ name: 'warehouse', close: () => warehouse.close() });

    if (isEmbedded(config)) {
      for (const step of provisionSteps(config, { bus, timeseries, warehouse })) await step.run();
    }

    // What the risk score is and whether this site validated it: the same answer for the
    // processor (which applies the calibration) and the dashboard (which says so on screen).
    const served = describeServedModel({ modelPath: config.modelPath, calibration: config.riskCalibration });
    if (served.provenance.localValidationIgnored) logger.warn({ reason: served.provenance.localValidationIgnored }, 'local calibration not applied');
    // The alert engine takes its risk threshold from the model's card, so a dashboard-only process loads it too.
    const riskModel = parts.process || parts.read ? await loadRiskModel(config, served, logger) : undefined;
    let storesDown: (() => string[]) | undefined;
    if (parts.process && bus && timeseries && warehouse) {
      const processor = await startProcessor({
        bus, timeseries, warehouse, updates, metrics, logger,
        ...(riskModel ? { riskModel, admissions: createWarehouseAdmissionLookup(warehouse, { logger }) } : {}),
        settings: {
          ...config.processor,
          topic: config.bus.readingsTopic,
          subscription: config.bus.subscription,
          deadLetterTopic: config.bus.deadLetterTopic,
          news2MaxAgeMs: config.news2.maxAgeMs,
        },
      });
      closers.push({ name: 'processor', close: () => processor.stop() });
      storesDown = () => processor.downBackends();
    }

    if (parts.read && !parts.process && timeseries) {
      // No processor in this process to announce updates: follow the shared store instead.
      const poller = pollPatientUpdates({ timeseries, updates, logger, intervalMs: 500 });
      closers.push({ name: 'update poller', close: () => poller.stop() });
    }

    const publisher = parts.ingest && bus ? createReadingPublisher({
      bus, topic: config.bus.readingsTopic, metrics, logger, publishTimeoutMs: config.bus.edgePublishTimeoutMs,
    }) : undefined;
    if (publisher) closers.push({ name: 'publisher', close: () => publisher.close() });

    // Who read which patient, in one trail for every instance on the same backend (Bigtable or the data folder).
    const audit = parts.read ? await openAuditLog(config, logger) : undefined;
    if (audit) {
      closers.push({ name: 'audit log', close: () => audit.close() });
      await audit.provision();
    }
    // Signed-out sessions, shared by every instance on the same backend (data folder or Bigtable).
    const revocations = await openSessionRevocations(config, logger);
    closers.push({ name: 'session revocations', close: () => revocations.close() });
    await revocations.provision();

    // The ward census (beds from ADT): recorded by the edge, read by the dashboard; shared state.
    const associations = parts.ingest || parts.read ? await openDeviceAssociations(config, logger) : undefined;
    if (associations) {
      closers.push({ name: 'device associations', close: () => associations.close() });
      await associations.provision();
    }
    const census = associations ? createWardCensus(associations) : undefined;
    // Readings of monitors that name no patient: attributed by device or bed, else held (issue 16, item 6).
    const attribution = associations && publisher
      ? createDeviceAttribution(associations, (readings) => publisher.publish(readings))
      : undefined;

    const edge = publisher && warehouse
      ? {
          publish: (readings: Parameters<typeof publisher.publish>[0]) => publisher.publish(readings),
          fhirDeadLetter: createEdgeDeadLetters(warehouse, 'fhir', patientIdOfFhirPayload),
          hl7DeadLetter: createEdgeDeadLetters(warehouse, 'hl7v2', patientIdOfMessage),
        }
      : undefined;

    // An alert engine wherever the ward is read, fed by the updates this process sees (its
    // processor's or its poller's). Several engines share one store, which opens each episode once
    // and keeps the first acknowledgement; each engine refreshes from it to show the others' changes.
    let alerts: Awaited<ReturnType<typeof createAlertEngine>> | undefined;
    let alertStore: Awaited<ReturnType<typeof openAlertStore>> | undefined;
    if (parts.read) {
      const store = await openAlertStore(config, logger);
      alertStore = store;
      closers.push({ name: 'alert store', close: () => store.close() });
      await store.provision();
      const thresholds = resolveAlertThresholds(config.alerts, { riskMode: config.riskMode, ...(riskModel ? { model: riskModel } : {}) });
      const engine = await createAlertEngine({ updates, store, thresholds, logger, refreshIntervalMs: config.alerts.refreshMs });
      closers.push({ name: 'alert engine', close: () => engine.stop() });
      alerts = engine;
    }

    if (parts.process) {
      // Stopped before the stores close (closers run in reverse), after the HTTP server.
      const retention = await startStoreRetention(config, logger, metrics, { timeseries, warehouse, audit, alertStore });
      closers.push({ name: 'retention purge', close: () => retention.stop() });
    }

    const readiness = readinessChecks({
      metrics, ...(storesDown ? { storesDown } : {}),
      backends: ([['bus', bus], ['timeseries', timeseries], ['warehouse', warehouse]] as const)
        .flatMap(([role, b]) => (b ? [{ role, kind: b.kind, ping: () => b.ping() }] : [])),
    });
    // A dashboard that cannot audit cannot serve patient data, so it is not ready either.
    if (audit) readiness.push({ name: `audit log (${audit.kind})`, ping: () => audit.ping() });
    // Alerts are shared ward state: a dashboard that cannot reach them would show a ward without them.
    const alertStoreNow = alertStore;
    if (alertStoreNow) readiness.push({ name: `alert store (${alertStoreNow.kind})`, ping: () => alertStoreNow.ping() });
    const app = buildApp({
      config, logger, metrics, readiness, revocations, modelProvenance: served.provenance,
      ...(publisher ? { ingest: { publisher } } : {}),
      ...(parts.read && timeseries && warehouse && audit ? { read: { timeseries, warehouse, updates, audit, ...(alerts ? { alerts } : {}), ...(census ? { census } : {}) } } : {}),
      routes: [
        ...(edge ? [(instance: FastifyInstance) => void instance.register(fhirRoutes, { publish: edge.publish, deadLetter: edge.fhirDeadLetter })] : []),
        // Results out (GET /fhir/Observation, /fhir/Patient/:id) wherever the clinician side runs: the
        // same condition as `read` above, so the audit hook these routes rely on is installed.
        ...(parts.read && timeseries && warehouse && audit ? [(instance: FastifyInstance) => void instance.register(fhirReadRoutes, { timeseries })] : []),
        // A clinician associates a monitor with a patient: needs the audit hook (read side) and the bus (edge side).
        ...(parts.read && audit && associations && attribution
          ? [(instance: FastifyInstance) => void instance.register(deviceAssociationRoute, { associations, attribution })]
          : []),
      ],
    });
    await app.listen({ port: config.http.port, host: config.http.host });
    closers.push({ name: 'http', close: () => app.close() });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const url = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;

    let mllpAddress: string | undefined;
    let mllpSecurity: MllpSecurity | undefined;
    if (edge) {
      const mllp = createMllpServer({
        port: config.mllp.port,
        host: config.mllp.host,
        allowedSenders: parseAllowedSenders(config.mllp.allowedSenders),
        senderSettings: parseSenderSettings(config.mllp.senderSettings),
        ...mllpIdentityOptions(config),
        maxConnections: config.mllp.maxConnections,
        maxConnectionsPerPeer: config.mllp.maxConnectionsPerPeer,
        reservedConnections: config.mllp.reservedConnections,
        trustedPeers: config.mllp.trustedPeers,
        idleTimeoutMs: config.mllp.idleTimeoutMs,
        publish: edge.publish,
        deadLetter: edge.hl7DeadLetter,
        ...(associations && warehouse ? { adt: adtOptions(config, warehouse, associations, updates, attribution) } : {}),
        ...(attribution ? { attribution } : {}),
        logger,
        metrics,
      });
      const bound = await mllp.listen();
      mllpAddress = `${bound.host}:${bound.port}`;
      mllpSecurity = config.mllp.tls ? 'mtls' : config.mllp.insecurePlaintext ? 'plaintext-insecure' : 'plaintext-loopback';
      if (mllpSecurity === 'plaintext-loopback') {
        logger.info({ host: bound.host, port: bound.port }, 'HL7 MLLP is plaintext, so it listens on loopback only; set VIGIL_MLLP_TLS_CERT, VIGIL_MLLP_TLS_KEY, VIGIL_MLLP_TLS_CA and VIGIL_MLLP_CERT_SENDERS to accept monitors over the network');
      } else if (mllpSecurity === 'plaintext-insecure') {
        logger.warn({ host: bound.host, port: bound.port }, 'HL7 MLLP is plaintext and exposed beyond loopback (VIGIL_MLLP_INSECURE_PLAINTEXT_BIND): anyone who can reach this port can write vitals for any patient');
      }
      // Closed before the publisher (registered earlier, closed later): no message is left half-answered.
      closers.push({ name: 'mllp', close: () => mllp.close() });
    }

    if (parts.simulate > 0 && parts.ingest) {
      const abort = new AbortController();
      const admissions = warehouse ? createWardAdmissionRecorder(warehouse, logger, timeseries) : undefined;
      const ward = createWard({ patients: parts.simulate, seed: config.simulate.seed, ...(admissions ? { onAdmit: admissions.record } : {}) });
      const token = signToken(config.auth.secret, { sub: 'simulated-ward', role: 'device', expiresIn: Math.min(30 * 24 * 3600, config.auth.maxLifetimeSeconds), audience: config.auth.audience, issuer: config.auth.issuer });
      const json = createHttpSink({ url, token, signal: abort.signal, maxBatchAgeMs: 100 });
      const [mllpHost, mllpPort] = (mllpAddress ?? ':0').split(':');
      // The simulated monitors have no client certificate: over mTLS they post JSON and FHIR only.
      const sink: ReadingSink = config.simulate.protocols === 'json' || !mllpAddress || config.mllp.tls
        ? json
        : createMixedDeviceSink([
            { name: 'json', sink: json, share: 0.6 },
            { name: 'hl7v2', sink: createMllpSink({ host: mllpHost === '0.0.0.0' ? '127.0.0.1' : mllpHost!, port: Number(mllpPort), sendingApplication: 'VIGIL-SIM' }), share: 0.2 },
            { name: 'fhir', sink: createFhirSink({ url, token, signal: abort.signal }), share: 0.2 },
          ]);
      const running = runSimulation({ ward, sink, intervalMs: config.simulate.intervalMs, signal: abort.signal }).catch((error) => {
        // Stopping it on shutdown aborts what it was sending; only a failure of its own is an error.
        if (!abort.signal.aborted) logger.error({ err: error }, 'simulator stopped');
      });
      // Stopped first on shutdown, so its last readings reach the edge before the edge closes.
      closers.push({ name: 'simulator', close: async () => { abort.abort(); await running; await admissions?.flush(); } });
    }

    let stopping: Promise<void> | undefined;
    return { url, app, metrics, ...(mllpAddress ? { mllpAddress } : {}), ...(mllpSecurity ? { mllpSecurity } : {}), stop: () => (stopping ??= closeAll()) };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * ADT on the MLLP listener: recorded in the warehouse and the bed intervals; a patient who left
 * the ward is announced to this process's live viewers (other dashboards leave them out of their
 * next snapshot, read from the same records).
 */
function adtOptions(config: VigilConfig, warehouse: Warehouse, associations: DeviceAssociations, updates: PatientUpdates, attribution: DeviceAttribution | undefined): NonNullable<MllpServerOptions['adt']> {
  const records = createAdtRecords(warehouse, associations);
  return {
    allowedSenders: parseAllowedSenders(config.mllp.adtSenders),
    record: async (event) => {
      const outcome = await records.apply(event);
      for (const patientId of outcome.left) updates.publishLeft(patientId);
      // A patient placed in a bed: readings held for that bed from their time on are theirs now.
      for (const bed of [event.visit.bed, event.visit.priorBed]) if (bed && attribution) await attribution.release('bed', bed);
    },
  };
}

/** mTLS options from the configured PEM files and certificate mapping; nothing for plain MLLP. */
function mllpIdentityOptions(config: VigilConfig): Pick<MllpServerOptions, 'tls' | 'certificateSenders'> {
  const files = config.mllp.tls;
  if (!files) return {};
  const read = (variable: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (cause) {
      throw new VigilError('CONFIG_INVALID', `Invalid configuration: ${variable} cannot be read (${(cause as { code?: string }).code ?? 'error'})`, { cause });
    }
  };
  return {
    tls: {
      cert: read('VIGIL_MLLP_TLS_CERT', files.certPath),
      key: read('VIGIL_MLLP_TLS_KEY', files.keyPath),
      ca: read('VIGIL_MLLP_TLS_CA', files.caPath),
      requestCert: true,
      rejectUnauthorized: true,
    },
    certificateSenders: parseCertificateSenders(config.mllp.certificateSenders),
  };
}

async function loadRiskModel(config: VigilConfig, served: ServedModel, logger: Logger): Promise<RiskModel | undefined> {
  if (!existsSync(config.modelPath)) {
    logger.warn({ model: config.modelPath }, 'risk model not found: scoring with NEWS2 only');
    return undefined;
  }
  const { loadOnnxRiskModel } = await import('../models/risk-model-onnx.ts');
  const model = await loadOnnxRiskModel({ path: config.modelPath, ...(served.calibration ? { calibration: served.calibration } : {}) });
  logger.info({ model: model.name, validatedLocally: served.calibration !== null }, 'risk model loaded');
  return model;
}
