import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/observability/logger.ts';
import { buildApp } from '../../cli/build-app.ts';
import { bearer, testConfig } from '../../dashboard-api/test-fixtures.ts';
import { openEmbeddedEdge } from '../hl7/test-support/embedded-edge.ts';
import { fhirRoutes } from './fhir-routes.ts';
import { bloodPressureExample } from './spec-vital-signs-examples.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('FHIR blood-pressure panel onto the embedded SQLite bus', () => {
  it('201, and the reading on the bus carries systolic/diastolic as the JSON edge would', async () => {
    const edge = await openEmbeddedEdge('vigil-fhir-');
    cleanups.push(() => edge.close());
    const app = buildApp({
      config: testConfig(), logger: createLogger({ level: 'silent' }), metrics: edge.metrics, readiness: [],
      ingest: { publisher: edge.publisher },
      routes: [(a) => void a.register(fhirRoutes, { publish: (r) => edge.publisher.publish(r), deadLetter: async () => undefined })],
    });
    cleanups.push(() => app.close());
    const observation = bloodPressureExample();
    const response = await app.inject({
      method: 'POST', url: '/fhir/Observation',
      headers: { ...bearer('device', 'bp-cuff-7'), 'content-type': 'application/fhir+json; fhirVersion=4.0' },
      payload: JSON.stringify(observation),
    });
    expect(response.statusCode).toBe(201);
    const [reading] = await edge.readAll(1);
    expect(reading).toMatchObject({
      readingId: response.json().id, patientId: 'example', deviceId: 'bp-cuff-7', source: 'fhir',
      observedAt: Date.parse(observation.effectiveDateTime), bloodPressure: '107/60', heartRate: null,
    });
  });
});
