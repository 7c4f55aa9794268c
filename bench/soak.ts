import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BigQuery } from '@google-cloud/bigquery';
import { Bigtable } from '@google-cloud/bigtable';
import { PassThroughClient } from 'google-auth-library';
import { Kafka, logLevel } from 'kafkajs';
import { deleteKafkaRun, kafkaRunEnv, runVigil } from '../adapters/kafka/test-support/pipeline-env.ts';
import type { VigilProcess } from '../cli/test-support/vigil-process.ts';
import { startVigil } from '../cli/test-support/vigil-process.ts';
import { resolveEmulatorEnv } from '../infra/emulator-env.ts';
import { percentile } from './bench-result.ts';

/**
 * `npm run soak -- --minutes N`: the ward at pace for N minutes on the scale-out shape (Kafka bus,
 * Bigtable time series, BigQuery warehouse, all from `npm run emulators:up`): one `vigil ingest`,
 * two `vigil process`, `vigil simulate` posting to the edge. Every few minutes one processor is
 * SIGKILLed and restarted; once, half-way, the Bigtable emulator is paused (SIGSTOP) for a while.
 * Every interval it prints each process's RSS, the processors' lag and the dead letters; at the end
 * the readings accepted against those stored in each store. A bench, not a test: it asserts
 * nothing (figures on a shared 2-core machine vary), it prints.
 */
const VIGIL_BIN = fileURLToPath(new URL('../bin/vigil.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    patients: { type: 'string', default: '200' },
    'interval-ms': { type: 'string', default: '2000' },
    'kill-every-minutes': { type: 'string', default: '3' },
    'pause-seconds': { type: 'string', default: '45' },
    'report-seconds': { type: 'string', default: '60' },
  },
});
const minutes = Number(values.minutes);
const patients = Number(values.patients);
const intervalMs = Number(values['interval-ms']);
const killEveryMs = Number(values['kill-every-minutes']) * 60_000;
const pauseMs = Number(values['pause-seconds']) * 1000;
const reportMs = Number(values['report-seconds']) * 1000;
const SAMPLE_MS = 2_000;

const emulators = resolveEmulatorEnv();
if (!emulators) {
  console.error('soak: no emulators: run `npm run emulators:up` first (it needs Kafka, Bigtable and BigQuery)');
  process.exit(69);
}
// The soak's own clients (the final counts) talk to the emulators too.
Object.assign(process.env, emulators);
const brokers = emulators.KAFKA_BROKERS.split(',');
const env = kafkaRunEnv(brokers, 'vigil-soak', {
  ...emulators,
  VIGIL_TIMESERIES: 'bigtable',
  VIGIL_WAREHOUSE: 'bigquery',
  VIGIL_KAFKA_PARTITIONS: '6',
  VIGIL_LOG_LEVEL: 'warn',
});
const run = env.VIGIL_SUBSCRIPTION!.replace(/[^a-zA-Z0-9]/g, '_');
Object.assign(env, { VIGIL_BIGTABLE_TABLE: `${run}_vitals`, VIGIL_BIGQUERY_DATASET: run });

interface Sample { at: number; lag: number[]; rss: Record<string, number>; heapUsed: number[] }
const samples: Sample[] = [];
const events: string[] = [];
const started = Date.now();
const clock = (at = Date.now()): string => {
  const s = Math.round((at - started) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const note = (what: string): void => {
  events.push(`${clock()} ${what}`);
  console.log(`${clock()}  ** ${what}`);
};

function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

async function metric(url: string, name: string): Promise<number> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
    let sum = 0;
    for (const line of text.split('\n')) if (line.startsWith(name) && !line.startsWith('#')) sum += Number(line.split(' ').at(-1));
    return sum;
  } catch {
    return NaN;
  }
}

async function deadLetters(): Promise<number> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(env.VIGIL_DEAD_LETTER_TOPIC!);
    return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  } catch {
    return 0;
  } finally {
    await admin.disconnect();
  }
}

async function bigtableReadings(): Promise<number> {
  const client = new Bigtable({ projectId: emulators!.GOOGLE_CLOUD_PROJECT, metricsEnabled: false });
  try {
    let rows = 0;
    await new Promise<void>((resolve, reject) => {
      client.instance('vigil').table(env.VIGIL_BIGTABLE_TABLE!)
        .createReadStream({ prefix: 'r#', filter: [{ column: { cellLimit: 1 } }, { value: { strip: true } }] })
        .on('data', () => (rows += 1)).on('error', reject).on('end', resolve);
    });
    return rows;
  } finally {
    await client.close();
  }
}

/** The soak's own BigQuery client on the emulator (no credentials). */
function emulatorBigQuery(): BigQuery {
  return new BigQuery({ projectId: emulators!.GOOGLE_CLOUD_PROJECT, authClient: new PassThroughClient() });
}

/**
 * Distinct reading ids in `vitals_raw`: what the de-duplicating `vitals` view would show. Counted on
 * the raw table because the emulator took over 40 minutes through the view after a 30-minute soak
 * (the raw count: 14 s); bounded so a stuck count ends the soak with the figures it has.
 */
async function bigqueryReadings(): Promise<number | string> {
  const count = emulatorBigQuery().query({ query: `SELECT count(DISTINCT reading_id) AS n FROM \`${emulators!.GOOGLE_CLOUD_PROJECT}.${run}.vitals_raw\`` })
    .then(([rows]) => Number((rows as { n: number }[])[0]?.n ?? 0), (error: unknown) => `n/a (${(error as Error).message})`);
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<string>((resolve) => { timer = setTimeout(() => resolve('n/a (the count did not finish in 10 min)'), 600_000); });
  try {
    return await Promise.race([count, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

const bigtablePid = Number(readFileSync(path.join(ROOT, '.emulators', 'run', 'bigtable.pid'), 'utf8').trim());
let paused = false;
const resume = (): void => {
  if (paused) process.kill(bigtablePid, 'SIGCONT');
  paused = false;
};
process.on('exit', resume);
process.on('SIGINT', () => { resume(); process.exit(130); });

let ingest: VigilProcess | undefined;
const processors: (VigilProcess | undefined)[] = [undefined, undefined];
let simulator: ChildProcess | undefined;
try {
  const provisioned = await runVigil('provision', env, 300_000);
  if (provisioned.code !== 0) throw new Error(`vigil provision failed:\n${provisioned.output}`);
  ingest = await startVigil('ingest', env, { timeoutMs: 60_000 });
  for (const i of [0, 1]) processors[i] = await startVigil('process', env, { timeoutMs: 60_000 });
  simulator = spawn(process.execPath, [VIGIL_BIN, 'simulate', '--target', 'http', '--url', ingest.url, '--patients', String(patients), '--interval-ms', String(intervalMs)], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  note(`started: ingest, 2 processors, ${patients} patients every ${intervalMs} ms (${Math.round(patients * 1000 / intervalMs)} readings/s) for ${minutes} min`);
  console.log('time   RSS MB: ingest  proc-1  proc-2 | heap used MB, window min: proc-1 proc-2 | lag s (window) p50   max | accepted  dead letters');

  const runStart = Date.now();
  const endAt = runStart + minutes * 60_000;
  const pauseAt = runStart + minutes * 30_000;
  let nextKill = runStart + killEveryMs;
  let nextReport = runStart + reportMs;
  let kills = 0;
  let crashes = 0;
  let windowStart = Date.now();
  while (Date.now() < endAt) {
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
    const lag = (await Promise.all(processors.map((p) => (p ? metric(p.url, 'vigil_processor_lag_seconds') : NaN)))).filter((v) => Number.isFinite(v) && v > 0);
    // The V8 heap in use: its lowest value over a window (just after a full GC) is the live heap.
    const heapUsed = await Promise.all(processors.map(async (p) => (p ? Math.round((await metric(p.url, 'nodejs_heap_size_used_bytes')) / 1_048_576) : NaN)));
    samples.push({ at: Date.now(), lag, heapUsed, rss: { ingest: rssMb(ingest.child.pid), 'proc-1': rssMb(processors[0]?.child.pid), 'proc-2': rssMb(processors[1]?.child.pid) } });
    if (!paused && pauseMs > 0 && Date.now() >= pauseAt && !events.some((e) => e.includes('paused'))) {
      process.kill(bigtablePid, 'SIGSTOP');
      paused = true;
      note(`Bigtable emulator paused (SIGSTOP) for ${pauseMs / 1000} s`);
      setTimeout(() => { resume(); note('Bigtable emulator resumed (SIGCONT)'); }, pauseMs).unref();
    }
    // A processor that died on its own is a finding, not noise: say how, quote its last words, restart it.
    for (const [i, p] of processors.entries()) {
      if (!p || (p.child.exitCode === null && p.child.signalCode === null)) continue;
      const lastLines = p.output().trim().split('\n').slice(-3).join(' | ').slice(0, 600);
      note(`proc-${i + 1} exited on its own (code ${p.child.exitCode}, signal ${p.child.signalCode}): ${lastLines}; restarting`);
      crashes += 1;
      processors[i] = await startVigil('process', env, { timeoutMs: 120_000 });
    }
    if (Date.now() >= nextKill) {
      const i = kills % 2;
      await processors[i]!.kill();
      note(`proc-${i + 1} SIGKILLed; restarting`);
      processors[i] = await startVigil('process', env, { timeoutMs: 120_000 });
      kills += 1;
      nextKill += killEveryMs;
    }
    if (Date.now() >= nextReport) {
      const window = samples.filter((s) => s.at >= windowStart);
      const lags = window.flatMap((s) => s.lag).sort((a, b) => a - b);
      const last = window.at(-1)!.rss;
      const accepted = await metric(ingest.url, 'vigil_readings_ingested_total');
      const heapMin = [0, 1].map((i) => Math.min(...window.map((s) => s.heapUsed[i]!).filter(Number.isFinite)));
      console.log(`${clock()}          ${String(last.ingest).padStart(5)}   ${String(last['proc-1']).padStart(5)}   ${String(last['proc-2']).padStart(5)} |                              ${String(heapMin[0]).padStart(5)}  ${String(heapMin[1]).padStart(5)} |           ${lags.length ? percentile(lags, 0.5).toFixed(2).padStart(5) : '  n/a'} ${lags.length ? lags.at(-1)!.toFixed(1).padStart(5) : '  n/a'} | ${String(accepted).padStart(8)}  ${String(await deadLetters()).padStart(4)}`);
      windowStart = Date.now();
      nextReport += reportMs;
    }
  }

  simulator.kill('SIGTERM');
  await new Promise((r) => simulator!.once('exit', r));
  const accepted = await metric(ingest.url, 'vigil_readings_ingested_total');
  note(`simulator stopped: ${accepted} readings accepted by the edge; waiting for the stores`);
  // Only Bigtable is counted while draining: the BigQuery emulator runs one request at a time, and a
  // count through the de-duplicating view holds it long enough to stall the processors' inserts.
  const drainDeadline = Date.now() + 600_000;
  let inBigtable = 0;
  while (Date.now() < drainDeadline) {
    inBigtable = await bigtableReadings();
    note(`Bigtable holds ${inBigtable} readings`);
    if (inBigtable >= accepted) break;
    await new Promise((r) => setTimeout(r, 15_000));
  }
  note('drained (or gave up); stopping the processors, then counting BigQuery');
  for (const p of processors) await p?.stop();
  const inBigQuery = await bigqueryReadings();
  const first = samples.filter((s) => s.at < runStart + reportMs);
  const lastWindow = samples.filter((s) => s.at >= endAt - reportMs);
  const p50 = (xs: Sample[]) => { const l = xs.flatMap((s) => s.lag).sort((a, b) => a - b); return l.length ? percentile(l, 0.5).toFixed(2) : 'n/a'; };
  const rssOf = (s: Sample | undefined) => (s ? Object.entries(s.rss).map(([k, v]) => `${k} ${v}`).join(', ') : 'n/a');
  console.log('\nsoak summary');
  console.log(`  duration ${minutes} min, ${patients} patients every ${intervalMs} ms, ${kills} processor kills, ${crashes} processor crashes, Bigtable paused ${pauseMs / 1000} s once`);
  console.log(`  accepted by the edge ${accepted}; in Bigtable ${inBigtable}; in BigQuery ${inBigQuery}; dead letters ${await deadLetters()}`);
  console.log(`  lag p50: first ${reportMs / 1000} s ${p50(first)} s, last ${reportMs / 1000} s ${p50(lastWindow)} s`);
  console.log(`  RSS MB at start: ${rssOf(first.at(-1))}; at end: ${rssOf(samples.at(-1))}`);
  const heapPeak = Math.max(...samples.flatMap((s) => s.heapUsed).filter(Number.isFinite));
  console.log(`  processor heap used, peak of any sample: ${heapPeak} MB (size a processor's --max-old-space-size above it)`);
  console.log(`  events:\n    ${events.join('\n    ')}`);
} finally {
  resume();
  simulator?.kill('SIGKILL');
  for (const p of processors) await p?.stop();
  await ingest?.stop();
  await deleteKafkaRun(brokers, env).catch(() => undefined);
  const client = new Bigtable({ projectId: emulators.GOOGLE_CLOUD_PROJECT, metricsEnabled: false });
  await client.instance('vigil').table(env.VIGIL_BIGTABLE_TABLE!).delete().catch(() => undefined);
  await client.close();
  // The BigQuery emulator reads a project's whole catalog on every request: a soak's 180,000 rows
  // left behind are read again by every request of the next soak (likely why one started at lag p50 3.3 s, not 0.8 s).
  await emulatorBigQuery().dataset(run).delete({ force: true }).catch(() => undefined);
}
