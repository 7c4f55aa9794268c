import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { normalizeReading } from '../core/domain/normalize-reading.ts';
import type { RawReading, VitalReading } from '../core/domain/reading.ts';
import { toRawReading } from '../core/domain/validate-ingest.ts';
import { decodeReading, encodeReading } from '../core/wire/reading-codec.ts';
import { createSqliteTimeSeriesStore } from '../adapters/embedded/timeseries-sqlite.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { signToken } from '../http/auth.ts';
import { startVigil } from '../cli/test-support/vigil-process.ts';
import { createWard } from '../simulators/ward.ts';
import type { IngestReading } from '../core/domain/reading.ts';
import { NO_FAULTS } from '../simulators/simulation-parameters.ts';
import { percentile, type BenchResult } from './bench-result.ts';
import { vitalsRow } from '../stream-processor/vitals-row.ts';

const SECRET = 'bench-secret-0123456789abcdef';
const START_NODE_OPTIONS = /--max-old-space-size=\d+/.exec(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).scripts.start)?.[0] ?? '';
const BATCH = 500;

/** Clean readings from the simulated ward for `patients` beds, `count` in all, observed in the past hour. */
function wardReadings(patients: number, count: number): IngestReading[] {
  const ward = createWard({ patients, seed: 7, faults: NO_FAULTS, timeScale: 1 });
  const start = Date.now() - 3_600_000;
  const out: IngestReading[] = [];
  for (let i = 0; out.length < count; i++) {
    for (const reading of ward.observe(i % patients, start + Math.floor(i / patients) * 1000)) out.push(reading.body as unknown as IngestReading);
  }
  return out.slice(0, count);
}

/**
 * The floor: what the same work costs with no pipeline around it — validate, encode, decode,
 * parse, and write both stores in batches, in one tight loop.
 */
async function measureFloor(readings: readonly IngestReading[]): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-floor-'));
  const timeseries = createSqliteTimeSeriesStore({ path: path.join(dir, 'timeseries.sqlite') });
  const warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  await timeseries.provision();
  await warehouse.provision();
  const started = performance.now();
  for (let i = 0; i < readings.length; i += 1000) {
    const batch: VitalReading[] = [];
    for (const input of readings.slice(i, i + 1000)) {
      const raw = toRawReading(input, { receivedAt: Date.now(), source: 'bench' });
      if (!raw.ok) continue;
      const decoded: RawReading = decodeReading(encodeReading(raw.reading));
      const parsed = normalizeReading(decoded);
      if (parsed.ok) batch.push(parsed.reading);
    }
    await timeseries.writeReadings(batch);
    await warehouse.append('vitals', batch.map(vitalsRow));
  }
  const seconds = (performance.now() - started) / 1000;
  await timeseries.close();
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
  return readings.length / seconds;
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/**
 * The embedded pipeline end to end: `vigil start` in a child process (simulator off), this
 * process posting batches of ward readings over HTTP as fast as the edge takes them, while probe
 * readings measure the delay from posting a reading to the SSE update that carries it, at a ward's
 * pace and under heavy load.
 */
export async function benchEmbeddedPipeline(options: { patients?: number; seconds?: number; concurrency?: number } = {}): Promise<BenchResult> {
  const patients = options.patients ?? 1000;
  const seconds = options.seconds ?? 10;
  const concurrency = options.concurrency ?? 8;
  const readings = wardReadings(patients, 200_000);
  const floor = await measureFloor(readings.slice(0, 100_000));

  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-pipeline-'));
  // The heap bound `npm start` runs with: without it V8 grows its heap far past the live data under a flood.
  const vigil = await startVigil('start', { VIGIL_DATA_DIR: dataDir, VIGIL_AUTH_SECRET: SECRET, VIGIL_SIMULATE: '0', VIGIL_LOG_LEVEL: 'error', NODE_OPTIONS: START_NODE_OPTIONS });
  const device = `Bearer ${signToken(SECRET, { sub: 'bench', role: 'device', expiresIn: '1h' })}`;
  const clinician = `Bearer ${signToken(SECRET, { sub: 'bench', role: 'clinician', expiresIn: '1h' })}`;
  const post = (body: unknown) => fetch(`${vigil.url}/v1/readings`, { method: 'POST', headers: { authorization: device, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  // SSE: a probe counts as delivered by the first update for the probe patient whose newest
  // reading is at least as new (updates coalesce when readings arrive faster than re-scoring).
  const pendingProbes = new Map<number, number>(); // observedAt → when the POST was sent
  const probeDelays = new Map<number, number>();
  const abort = new AbortController();
  const stream = await fetch(`${vigil.url}/v1/stream`, { headers: { authorization: clinician }, signal: abort.signal });
  void (async () => {
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (data?.includes('"BENCH-PROBE"')) {
            const newest = Date.parse((JSON.parse(data) as { latest?: { observedAt: string } }).latest?.observedAt ?? '');
            const now = performance.now();
            for (const [observedAt, sentAt] of pendingProbes) {
              if (observedAt > newest) continue;
              probeDelays.set(observedAt, now - sentAt);
              pendingProbes.delete(observedAt);
            }
          }
        }
      }
    } catch {
      // aborted at the end
    }
  })();

  // Phase 1, throughput: flood the edge for `seconds`, then wait until the processor caught up.
  const startProcessed = await metricValue(vigil.url, 'vigil_readings_processed_total');
  const started = performance.now();
  const stopAt = started + seconds * 1000;
  let sent = 0;
  let accepted = 0;
  let refused = 0;
  const flood = (until: number, pauseMs: number, shift: number, lanes = concurrency) => Array.from({ length: lanes }, async (_, w) => {
    for (let i = w * BATCH; performance.now() < until; i = (i + lanes * BATCH) % (readings.length - BATCH)) {
      // Shift observedAt per round so every reading is new (not a duplicate of an earlier round).
      const round = shift + Math.floor(sent / readings.length);
      const batch = readings.slice(i, i + BATCH).map((r) => ({ ...r, observedAt: Date.parse(String(r.observedAt)) + round }));
      sent += batch.length;
      const response = await post(batch);
      if (response.status === 202) accepted += batch.length;
      else refused += batch.length;
      await response.arrayBuffer();
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  });
  await Promise.all(flood(stopAt, 0, 0));
  const sendSeconds = (performance.now() - started) / 1000;
  let processed = 0;
  for (let i = 0; i < 3000; i++) {
    processed = (await metricValue(vigil.url, 'vigil_readings_processed_total')) - startProcessed;
    if (processed >= accepted) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const totalSeconds = (performance.now() - started) / 1000;
  const throughput = processed / totalSeconds;

  /**
   * Delay from posting a reading to the SSE update carrying it, under a steady background
   * load of `rate` readings/s (batches of BATCH spread over the lanes): a probe every 100 ms, not
   * waiting for the previous one, then up to 10 s for the last. A probe never seen counts as
   * infinitely late, so the percentiles do not hide it.
   */
  const measureDelay = async (rate: number, shift: number) => {
    const lanes = Math.max(1, Math.min(concurrency, Math.round(rate / BATCH)));
    const pauseMs = Math.round((lanes * BATCH * 1000) / rate);
    const stopAt = performance.now() + 10_000;
    const background = flood(stopAt, pauseMs, shift, lanes);
    const sent: number[] = [];
    let lastObservedAt = 0;
    while (performance.now() < stopAt) {
      // Strictly increasing, so "at least as new" orders probes.
      const observedAt = Math.max(Date.now(), lastObservedAt + 1);
      lastObservedAt = observedAt;
      pendingProbes.set(observedAt, performance.now());
      const response = await post({ deviceId: 'bench-probe', patientId: 'BENCH-PROBE', observedAt, heartRate: 70 + (observedAt % 30) });
      if (response.status === 202) sent.push(observedAt);
      else pendingProbes.delete(observedAt);
      await response.arrayBuffer();
      await new Promise((r) => setTimeout(r, 100));
    }
    await Promise.all(background);
    const waitUntil = performance.now() + 10_000;
    while (sent.some((k) => pendingProbes.has(k)) && performance.now() < waitUntil) await new Promise((r) => setTimeout(r, 50));
    const delays = sent.map((observedAt) => probeDelays.get(observedAt) ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
    for (const observedAt of sent) pendingProbes.delete(observedAt);
    const shown = (ms: number) => (Number.isFinite(ms) ? Number(ms.toFixed(1)) : 'over 10 s');
    return { rate: Math.round((lanes * BATCH * 1000) / pauseMs), p50: shown(percentile(delays, 0.5)), p99: shown(percentile(delays, 0.99)), probes: delays.length, lost: delays.filter((d) => !Number.isFinite(d)).length };
  };
  // A ward's pace (each of the 1,000 patients every 5 s), then half the measured throughput. The
  // pause lets the re-scoring the flood left behind finish, so the ward figure is steady state.
  await new Promise((r) => setTimeout(r, 5_000));
  const ward = await measureDelay(patients / 5, 250);
  const heavy = await measureDelay(Math.max(patients / 5, throughput / 2), 500);
  const rssMb = peakRssMb(vigil.child.pid!);
  abort.abort();
  await vigil.stop();
  rmSync(dataDir, { recursive: true, force: true });

  return {
    name: 'embedded pipeline (HTTP edge → SQLite bus → processor → SQLite + DuckDB)',
    figures: {
      patients,
      'readings accepted': accepted,
      'readings refused (backpressure)': refused,
      'edge accept rate (readings/s)': Math.round(accepted / sendSeconds),
      'end-to-end throughput (readings/s)': Math.round(throughput),
      'floor: validate+encode+decode+parse+store loop (readings/s)': Math.round(floor),
      'ratio pipeline / floor': Number((throughput / floor).toFixed(2)),
      'ward pace: offered load (readings/s)': ward.rate,
      'ward pace: POST → SSE update, p50 / p99 (ms)': `${ward.p50} / ${ward.p99}`,
      'ward pace: probes (not seen within 10 s)': `${ward.probes} (${ward.lost})`,
      'heavy: offered load (readings/s)': heavy.rate,
      'heavy: POST → SSE update, p50 / p99 (ms)': `${heavy.p50} / ${heavy.p99}`,
      'heavy: probes (not seen within 10 s)': `${heavy.probes} (${heavy.lost})`,
      'peak RSS of vigil start (MB)': Math.round(rssMb),
    },
  };
}
