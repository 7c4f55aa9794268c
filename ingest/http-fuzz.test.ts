import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../core/observability/logger.ts';
import { buildApp } from '../cli/build-app.ts';
import { bearer, cannedWarehouse, testConfig } from '../dashboard-api/test-fixtures.ts';
import { createRandom } from '../core/seeded-random.ts';
import type { Random } from '../core/seeded-random.ts';
import { createEdgeDeadLetters } from './edge-dead-letters.ts';
import { patientIdOfFhirPayload } from './fhir/fhir-patient-of.ts';
import { fhirRoutes } from './fhir/fhir-routes.ts';
import { bloodPressureExample, bodyTemperatureFahrenheitExample, heartRateExample, oxygenSaturationExample } from './fhir/spec-vital-signs-examples.ts';
import type { EmbeddedEdge } from './hl7/test-support/embedded-edge.ts';
import { openEmbeddedEdge } from './hl7/test-support/embedded-edge.ts';
import { budget } from '../core/contracts/wait-for.ts';

/**
 * Fuzzing the HTTP edges (`POST /v1/readings`, `POST /fhir/Observation`, `POST /fhir`) with seeded
 * mutations of valid requests: structural (keys dropped, duplicated, renamed; wrong types; deep
 * nesting; huge arrays and numbers; odd ids, blood pressures and dates), byte-level (truncation,
 * flipped bytes, invalid UTF-8) and header-level (content types, encodings, charsets). Every answer
 * must be below 500, the process must stay up, and afterwards a valid reading is still accepted.
 * The app runs on the real embedded SQLite bus; most requests go through `inject()`, a share over
 * a loopback socket. Seeded (VIGIL_FUZZ_SEED) and on a fixed clock, so a failure reproduces.
 */
const SEED = Number(process.env.VIGIL_FUZZ_SEED ?? 20261204);
// CPU-bound (no waits): the test timeouts below only guard against a hang; 10,000 requests took
// 98 s on a loaded 2-core machine and over 240 s beside two more busy loops.
const JSON_MUTANTS = 10_000;
const FHIR_MUTANTS = 2_000;
/** One request in this many goes over a real loopback socket instead of inject(). */
const SOCKET_SHARE = 40;
const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

let edge: EmbeddedEdge;
let app: FastifyInstance;
let baseUrl: string;
const deadLetters = { withPatient: 0, without: 0 };
const rss = { before: 0, after: 0 };
/** Readings the JSON edge answered 202 for, to hold against what reached the bus. */
let acceptedReadings = 0;
// Signed on the fixed clock, in beforeAll.
let device: Record<string, string>;

beforeAll(async () => {
  // Only Date is faked (the bus's timers stay real), advancing from a fixed moment.
  vi.useFakeTimers({ toFake: ['Date'], now: NOW, shouldAdvanceTime: true });
  device = bearer('device', 'fuzz-gw-1');
  rss.before = process.memoryUsage().rss;
  edge = await openEmbeddedEdge('vigil-http-fuzz-');
  const fhirDeadLetter = createEdgeDeadLetters({
    ...cannedWarehouse(),
    async append(_table, rows) {
      for (const row of rows) {
        if (row.patient_id === null) deadLetters.without++;
        else deadLetters.withPatient++;
      }
    },
  }, 'fhir', patientIdOfFhirPayload);
  app = buildApp({
    config: testConfig(), logger: createLogger({ level: 'silent' }),
    metrics: edge.metrics, ingest: { publisher: edge.publisher }, readiness: [{ name: edge.bus.kind, ping: () => edge.bus.ping() }],
    routes: [(a) => void a.register(fhirRoutes, { publish: (r) => edge.publisher.publish(r), deadLetter: fhirDeadLetter })],
  });
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await edge?.close();
  vi.useRealTimers();
  rss.after = process.memoryUsage().rss;
  const mb = (bytes: number): string => (bytes / 1_048_576).toFixed(0);
  console.info(`http fuzz seed ${SEED}: RSS ${mb(rss.before)} MB before, ${mb(rss.after)} MB after; FHIR dead letters with a patient ${deadLetters.withPatient}, without ${deadLetters.without}`);
});

interface Request {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** Sends one request through inject() or, one time in SOCKET_SHARE, over loopback; the status, or 0 if the server closed the socket first. */
async function send(request: Request, i: number): Promise<number> {
  if (i % SOCKET_SHARE !== 0) {
    const response = await app.inject({ method: 'POST', url: request.url, headers: request.headers, payload: request.body });
    if (response.statusCode === 202) acceptedReadings += (response.json() as { accepted: number }).accepted;
    return response.statusCode;
  }
  try {
    const response = await fetch(baseUrl + request.url, { method: 'POST', headers: request.headers, body: new Uint8Array(request.body) });
    const text = await response.text();
    if (response.status === 202) acceptedReadings += (JSON.parse(text) as { accepted: number }).accepted;
    return response.status;
  } catch (error) {
    // The server may answer early (413) and close while the client is still sending: counted as 0.
    if ((error as { cause?: { code?: string } }).cause?.code === 'ECONNRESET' || (error as { cause?: { code?: string } }).cause?.code === 'EPIPE') return 0;
    throw error;
  }
}

// ---- values that tend to break parsers and validators ----

const ODD_IDS = ['', ' ', '\u0000', 'P\u0000001', '\u202eP001', 'P\u200b001', '👩‍⚕️', 'Ｐ００１', '../../etc/passwd', 'P'.repeat(300), "P001'; DROP TABLE readings;--", '<script>', '%00', '\ud800', 'null', '__proto__', 'constructor'];
const ODD_BP = ['120/', '/80', '1e9/80', '120/80/60', '120//80', ' 120 / 80 ', '-120/80', '120/-80', '120.5/80.5', '0/0', '999999999999999999999/1', 'NaN/NaN', 'Infinity/80', '120\\80', '120/80\u0000', '١٢٠/٨٠', '', '/', '120', 'abc/def'];
const ODD_DATES = ['', '0', '-1', '1e20', '2026-13-45T99:99:99Z', '2026-12-04', '2026-12-04T12:00', '2026-12-04T12:00:00', '2026-12-04T12:00:00+25:00', '+275760-09-13T00:00:00Z', '-271821-04-20T00:00:00Z', '9999-12-31T23:59:59Z', '1970-01-01T00:00:00Z', '2026-12-04T11:59:00.123456789Z', '2026-W49-5', 'yesterday', 'Fri, 04 Dec 2026 11:59:00 GMT', '2026-12-04T11:59:00Z\u0000', '２０２６-12-04T11:59:00Z'];
const ODD_NUMBERS: unknown[] = [0, -0, -1, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 5e-324, 0.1 + 0.2, 'NaN', 'Infinity', '-Infinity', '1e999', '0x48', '72bpm', '72.0', ' 72 ', '', null, true, false, [], [72], {}, { value: 72 }];
const ODD_VALUES: unknown[] = [...ODD_NUMBERS, ...ODD_IDS.slice(0, 6), ...ODD_BP.slice(0, 4), ...ODD_DATES.slice(0, 4), { $gt: '' }, { __proto__: { polluted: true } }];
const KEY_RENAMES = (key: string): string[] => [key.toUpperCase(), ` ${key}`, `${key}\u0000`, `${key}_`, '__proto__', 'constructor', 'prototype', ''];

function validReading(random: Random, i: number): Record<string, unknown> {
  const reading: Record<string, unknown> = {
    deviceId: `bed-${random.int(1, 30)}`, patientId: `P${random.int(1000, 9999)}`,
    observedAt: random.chance(0.5) ? Date.now() - random.int(60_000, 3_600_000) : new Date(Date.now() - random.int(60_000, 3_600_000)).toISOString(),
    heartRate: random.int(40, 160), spo2: random.int(85, 100), respiratoryRate: random.int(8, 35),
    bloodPressure: `${random.int(90, 180)}/${random.int(50, 100)}`, consciousness: random.pick(['A', 'C', 'V', 'P', 'U']), onOxygen: random.chance(0.2),
  };
  if (random.chance(0.5)) Object.assign(reading, { temperature: Math.round(random.between(35, 40) * 10) / 10, temperatureUnit: 'C' });
  if (i % 7 === 0) delete reading.spo2;
  return reading;
}

/** Every object/array inside `root` (root included), to pick a place to mutate. */
function containers(root: unknown): (Record<string, unknown> | unknown[])[] {
  const found: (Record<string, unknown> | unknown[])[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node !== null && typeof node === 'object') {
      found.push(node as Record<string, unknown>);
      stack.push(...Object.values(node as object));
    }
  }
  return found;
}

function nest(value: unknown, depth: number): unknown {
  let nested = value;
  for (let d = 0; d < depth; d++) nested = [nested];
  return nested;
}

/** A fresh copy of an odd value, so later mutations never alias (or loop through) a shared one. */
function oddOf(random: Random, leaves: readonly unknown[]): unknown {
  return structuredClone(random.pick(leaves));
}

/** One structural change somewhere in the tree: drop, rename, retype, wrap, duplicate or grow. */
function mutateTree(random: Random, root: unknown, oddLeaves: readonly unknown[]): unknown {
  const places = containers(root);
  if (places.length === 0) return oddOf(random, oddLeaves);
  const place = random.pick(places);
  const keys = Object.keys(place);
  if (keys.length === 0) {
    if (Array.isArray(place)) place.push(oddOf(random, oddLeaves));
    else place[random.pick(['resourceType', 'patientId', 'x'])] = oddOf(random, oddLeaves);
    return root;
  }
  const key = random.pick(keys);
  const record = place as Record<string, unknown>;
  switch (random.int(0, 6)) {
    case 0: if (Array.isArray(place)) place.splice(Number(key), 1); else delete record[key]; break;
    case 1: {
      if (Array.isArray(place)) break;
      const value = record[key];
      delete record[key];
      record[random.pick(KEY_RENAMES(key))] = value;
      break;
    }
    case 2: case 3: record[key] = oddOf(random, oddLeaves); break;
    case 4: record[key] = random.chance(0.5) ? { value: record[key] } : nest(record[key], random.int(1, 20)); break;
    case 5: if (Array.isArray(place)) place.push(structuredClone(place[Number(key)])); else record[`${key}`] = structuredClone(record[random.pick(keys)]); break;
    case 6: record[key] = Array.from({ length: random.int(2, 200) }, () => oddOf(random, oddLeaves)); break;
  }
  return root;
}

const INVALID_UTF8 = [Buffer.of(0xff), Buffer.of(0xc3, 0x28), Buffer.of(0xed, 0xa0, 0x80), Buffer.of(0xf0, 0x28, 0x8c, 0x28), Buffer.of(0xef, 0xbb, 0xbf), Buffer.of(0x00), Buffer.of(0xc0, 0xaf)];

/** Text-level and byte-level damage to the serialized body. */
function mutateBytes(random: Random, text: string): Buffer {
  let body = text;
  switch (random.int(0, 5)) {
    case 0: {
      // A duplicate key, which JSON.parse resolves to the last one.
      const match = /"(\w+)":/.exec(body.slice(random.int(0, Math.max(0, body.length - 1))));
      if (match) body = body.replace(`"${match[1]}":`, `"${match[1]}":${JSON.stringify(oddOf(random, ODD_VALUES))},"${match[1]}":`);
      break;
    }
    case 1: body = body.replace(/\d+(\.\d+)?/, random.pick(['1e999', '-1e999', '9'.repeat(400), '1.' + '0'.repeat(400) + '1', 'NaN', 'Infinity', '0x1F', '01', '+1', '.5', '1.', '-'])); break;
    case 2: body = '['.repeat(random.int(1, 50_000)) + body + ']'.repeat(random.int(0, 50_000)); break;
    case 3: body = '{"a":'.repeat(random.int(1, 20_000)) + body + '}'.repeat(random.int(0, 20_000)); break;
    default: break;
  }
  let bytes = Buffer.from(body, 'utf8');
  switch (random.int(0, 4)) {
    case 0: bytes = bytes.subarray(0, random.int(0, bytes.length)); break;
    case 1: {
      bytes = Buffer.from(bytes);
      for (let f = random.int(1, 5); f > 0 && bytes.length > 0; f--) bytes[random.int(0, bytes.length - 1)] = random.int(0, 255);
      break;
    }
    case 2: {
      const at = random.int(0, bytes.length);
      bytes = Buffer.concat([bytes.subarray(0, at), random.pick(INVALID_UTF8), bytes.subarray(at)]);
      break;
    }
    default: break;
  }
  return bytes;
}

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-8', 'application/json; charset=latin1',
  'application/json; charset=utf-16', 'APPLICATION/JSON', 'application/json;;;', 'application/json; boundary=x', 'application/fhir+json',
  'application/fhir+json; fhirVersion=4.0', 'application/fhir+xml', 'text/plain', 'text/json', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x', 'application/octet-stream', '*/*', 'application/', ';', 'application/json\u0000',
];
const CONTENT_ENCODINGS = ['gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip'];

function headers(random: Random, normalType: string): Record<string, string> {
  const h: Record<string, string> = { ...device, 'content-type': normalType };
  if (random.chance(0.15)) {
    const type = random.pick(CONTENT_TYPES);
    // A header value with a NUL cannot be sent; inject() and fetch() would throw before the server sees it.
    if (!type.includes('\u0000')) h['content-type'] = type;
  }
  if (random.chance(0.05)) delete h['content-type'];
  if (random.chance(0.05)) h['content-encoding'] = random.pick(CONTENT_ENCODINGS);
  return h;
}

function count(statuses: Map<number, number>, status: number): void {
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
}

function expectNo5xx(statuses: Map<number, number>, what: string): void {
  const serverErrors = [...statuses].filter(([status]) => status >= 500);
  expect(serverErrors, `${what}: server errors (status, count)`).toEqual([]);
}

async function expectHealthy(): Promise<void> {
  const reading = { deviceId: 'bed-1', patientId: 'P4242', observedAt: new Date(Date.now() - 60_000).toISOString(), heartRate: 72, bloodPressure: '120/80' };
  const json = await app.inject({ method: 'POST', url: '/v1/readings', headers: { ...device, 'content-type': 'application/json' }, payload: JSON.stringify(reading) });
  expect(json.statusCode, json.body).toBe(202);
  const fhir = await app.inject({ method: 'POST', url: '/fhir/Observation', headers: { ...device, 'content-type': 'application/fhir+json' }, payload: JSON.stringify(heartRateExample()) });
  expect(fhir.statusCode, fhir.body).toBe(201);
  expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
  expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
}

function jsonMutant(random: Random, i: number): Request {
  let body: unknown;
  const shape = random.int(0, 39);
  if (shape === 0) {
    // A huge array (1 in 40): compact readings up to near the body limit, often with one bad item.
    const items: unknown[] = Array.from({ length: random.int(1000, 11_000) }, (_, k) => ({ deviceId: 'b', patientId: `P${k % 50}`, observedAt: Date.now() - 60_000, heartRate: 70 }));
    if (random.chance(0.7)) items[random.int(0, items.length - 1)] = oddOf(random, ODD_VALUES);
    body = items;
  } else if (shape <= 7) {
    // Arrays of mixed valid and invalid items.
    body = Array.from({ length: random.int(1, 20) }, (_, k) => (random.chance(0.7) ? validReading(random, i + k) : mutateTree(random, validReading(random, i + k), ODD_VALUES)));
  } else {
    const reading = validReading(random, i);
    // Field-specific oddities first, then generic structure.
    if (random.chance(0.3)) reading[random.pick(['deviceId', 'patientId'])] = random.pick(ODD_IDS);
    if (random.chance(0.2)) reading.bloodPressure = random.pick(ODD_BP);
    if (random.chance(0.2)) reading.observedAt = random.pick(ODD_DATES);
    if (random.chance(0.2)) reading[random.pick(['heartRate', 'spo2', 'respiratoryRate', 'temperature'])] = oddOf(random, ODD_NUMBERS);
    if (random.chance(0.1)) reading.temperatureUnit = random.pick(['F', 'K', 'c', '', null, '°C']);
    if (random.chance(0.1)) reading.consciousness = random.pick(['a', 'New confusion', '', 1, null]);
    body = reading;
    for (let r = random.int(0, 3); r > 0; r--) body = mutateTree(random, body, ODD_VALUES);
    if (random.chance(0.05)) body = [body];
  }
  const text = JSON.stringify(body) ?? 'undefined';
  const bytes = random.chance(0.4) ? mutateBytes(random, text) : Buffer.from(text, 'utf8');
  return { url: '/v1/readings', headers: headers(random, 'application/json'), body: bytes };
}

const FHIR_EXAMPLES = [heartRateExample, bloodPressureExample, bodyTemperatureFahrenheitExample, oxygenSaturationExample];
const FHIR_ODD: unknown[] = [
  ...ODD_VALUES, ...ODD_DATES, 'Patient/', 'Patient/\u0000', '#contained', 'urn:uuid:x', `Patient/${'x'.repeat(5000)}`, 'Patient/a/_history/1',
  { reference: 'Patient/\u202eexample' }, { coding: [] }, { coding: [{ system: 'http://loinc.org', code: '8867-4' }, { system: 'http://loinc.org', code: '8480-6' }] },
  { value: 1e308, code: '/min', system: 'http://unitsofmeasure.org' }, { value: '44', code: '/min' }, { value: 44, code: '[degF]' }, [{ code: { coding: [] } }],
  'Observation', 'Bundle', 'batch', 'transaction', 'final', 'entered-in-error',
];

function fhirResource(random: Random): Record<string, unknown> {
  const when = new Date(Date.now() - random.int(60_000, 3_600_000)).toISOString();
  // A deep copy: the examples share module-level objects (the category) that mutations must not touch.
  const resource = structuredClone(random.pick(FHIR_EXAMPLES)(when)) as Record<string, unknown>;
  if (random.chance(0.5)) resource.subject = { reference: `Patient/P${random.int(1000, 9999)}` };
  return resource;
}

function compact(resource: Record<string, unknown>): Record<string, unknown> {
  const { text: _text, meta: _meta, identifier: _identifier, basedOn: _basedOn, interpretation: _interpretation, referenceRange: _range, performer: _performer, ...rest } = resource;
  return rest;
}

function fhirMutant(random: Random): Request {
  const asBundle = random.chance(0.5);
  let body: unknown;
  if (asBundle) {
    // Now and then a bundle around the entry cap (1000), of compact resources to stay within the body limit.
    const huge = random.chance(0.02);
    const entries = Array.from({ length: huge ? random.int(900, 1100) : random.int(0, 6) }, () => ({ fullUrl: 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0', resource: huge ? compact(fhirResource(random)) : fhirResource(random), request: { method: 'POST', url: 'Observation' } }));
    body = { resourceType: 'Bundle', type: random.pick(['batch', 'transaction', 'transaction', 'batch', 'collection']), entry: entries };
  } else {
    body = fhirResource(random);
  }
  for (let r = random.int(1, 4); r > 0; r--) body = mutateTree(random, body, FHIR_ODD);
  const text = JSON.stringify(body) ?? 'undefined';
  const bytes = random.chance(0.3) ? mutateBytes(random, text) : Buffer.from(text, 'utf8');
  return { url: asBundle ? '/fhir' : '/fhir/Observation', headers: headers(random, 'application/fhir+json'), body: bytes };
}

describe('HTTP edge fuzzing on the embedded bus', () => {
  it(`answers each of ${JSON_MUTANTS} mutated POST /v1/readings below 500 and still accepts a valid reading`, async () => {
    const random = createRandom(SEED, 'json');
    const statuses = new Map<number, number>();
    for (let i = 0; i < JSON_MUTANTS; i++) count(statuses, await send(jsonMutant(random, i), i));
    console.info(`http fuzz seed ${SEED}: POST /v1/readings x${JSON_MUTANTS}: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expectNo5xx(statuses, 'POST /v1/readings');
    // The mutations hit a mix: some survive (202), most are refused with a reason.
    expect(statuses.get(202) ?? 0, 'no mutant was accepted').toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0, 'no mutant was refused').toBeGreaterThan(JSON_MUTANTS / 4);
    // Every reading answered 202 went onto the bus, and nothing a refusal covered did.
    const ingested = async () => (await edge.metrics.readingsIngested.get()).values.find((v) => v.labels.source === 'json')?.value ?? 0;
    await vi.waitFor(async () => expect(await ingested(), 'JSON readings published to the bus vs accepted').toBe(acceptedReadings), { timeout: 10_000, interval: 50 });
    console.info(`http fuzz seed ${SEED}: ${acceptedReadings} readings accepted and published to the embedded bus`);
    await expectHealthy();
  }, budget(300_000));

  it(`answers each of ${FHIR_MUTANTS} mutated FHIR Observations and Bundles below 500 and still accepts a valid one`, async () => {
    const random = createRandom(SEED, 'fhir');
    const statuses = { observation: new Map<number, number>(), bundle: new Map<number, number>() };
    for (let i = 0; i < FHIR_MUTANTS; i++) {
      const request = fhirMutant(random);
      count(request.url === '/fhir' ? statuses.bundle : statuses.observation, await send(request, i));
    }
    for (const [route, map] of Object.entries(statuses)) {
      console.info(`http fuzz seed ${SEED}: FHIR ${route} x${[...map.values()].reduce((a, b) => a + b, 0)}: ${JSON.stringify(Object.fromEntries([...map].sort()))}`);
      expectNo5xx(map, `FHIR ${route}`);
    }
    expect(statuses.observation.get(201) ?? 0, 'no Observation mutant was accepted').toBeGreaterThan(0);
    expect(statuses.bundle.get(200) ?? 0, 'no Bundle mutant was answered 200').toBeGreaterThan(0);
    await expectHealthy();
  }, budget(300_000));
});
