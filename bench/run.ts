import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { BenchResult } from './bench-result.ts';

/**
 * `npm run bench`: every benchmark, each against a floor measured in the same run. Benchmarks
 * print figures; they assert nothing (timed tests would flake on a shared 2-core machine).
 */
const BENCHES: Record<string, { describe: string; run: () => Promise<BenchResult> }> = {
  pipeline: {
    describe: 'embedded pipeline end to end vs a decode+parse+store loop',
    run: async () => (await import('./embedded-pipeline.ts')).benchEmbeddedPipeline(),
  },
  stores: {
    describe: 'each embedded store alone vs its engine\'s raw write of the same rows (SQLite INSERTs, DuckDB appender)',
    run: async () => (await import('./bench-stores.ts')).benchStores(),
  },
  load: {
    describe: 'vigil load of a 1,000,000-row admissions CSV vs DuckDB read_csv of the same file',
    run: async () => {
      const r = await (await import('./bench-load.ts')).benchLoad();
      return {
        name: 'batch loader → DuckDB (full validation) vs DuckDB read_csv',
        figures: {
          rows: r.rows, 'file (MB)': Math.round(r.fileBytes / 1e6),
          [`vigil load, ${r.loaderMethod} (rows/s)`]: r.loaderRowsPerSecond, 'reload, every key present (rows/s)': r.reloadRowsPerSecond,
          'streamed path, row by row in Node (rows/s)': r.streamedRowsPerSecond,
          'read_csv floor (rows/s)': r.readCsvRowsPerSecond, 'read_csv into a keyed table (rows/s)': r.readCsvKeyedRowsPerSecond,
          'ratio load / read_csv': r.ratio, 'ratio load / keyed read_csv': r.ratioKeyed, 'peak RSS (MiB)': r.peakRssMiB,
        },
      };
    },
  },
  hl7: {
    describe: 'HL7 v2 ORU^R01 over MLLP (1 and 16 connections) vs POST /v1/readings',
    run: async () => (await import('./bench-mllp.ts')).benchMllp(),
  },
  scoring: {
    describe: 'recovery-risk scoring (features + ONNX) vs a bare session.run',
    run: async () => {
      const r = await (await import('./bench-scoring.ts')).benchScoring();
      return {
        name: 'risk model scoring (onnxruntime-node)',
        figures: {
          'batch size': r.batchSize, 'patients/s with factors': Math.round(r.patientsPerSecond),
          'patients/s without factors': Math.round(r.patientsPerSecondNoFactors),
          'one re-score p50 (ms)': Number(r.rescoreP50Ms.toFixed(2)), 'one re-score p99 (ms)': Number(r.rescoreP99Ms.toFixed(2)),
          'bare session.run floor (patients/s)': Math.round(r.bareRunPatientsPerSecond),
          'rows run per patient with factors': Number(r.rowsPerPatientWithFactors.toFixed(2)),
          'overhead with factors vs bare run of the same rows': Number(r.overheadRatio.toFixed(2)),
          'overhead without factors vs bare run of the same rows': Number(r.overheadRatioNoFactors.toFixed(2)),
        },
      };
    },
  },
  gcp: {
    describe: 'pipeline on the Pub/Sub, Bigtable and BigQuery emulators vs raw client floors (needs npm run emulators:up)',
    run: async () => (await import('./bench-gcp.ts')).benchGcpPipeline(),
  },
  kafka: {
    describe: 'pipeline on the Kafka broker vs a raw kafkajs consume, with latency (needs npm run emulators:up)',
    run: async () => (await import('./bench-kafka.ts')).benchKafkaPipeline(),
  },
  sse: {
    describe: 'SSE fan-out: 200 patients/s to 100 dashboards, publish-to-delivery delay',
    run: async () => (await import('./bench-sse.ts')).benchSseFanout(),
  },
};

const { values } = parseArgs({
  options: { only: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(`Usage: npm run bench [-- --only name[,name]] [--json results.json]\n\nBenchmarks:\n${Object.entries(BENCHES).map(([k, b]) => `  ${k.padEnd(10)} ${b.describe}`).join('\n')}`);
  process.exit(0);
}
const selected = values.only ? values.only.split(',') : Object.keys(BENCHES);
const results: BenchResult[] = [];
for (const name of selected) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}" (have: ${Object.keys(BENCHES).join(', ')})`);
    process.exit(2);
  }
  console.log(`\n== ${name}: ${bench.describe}`);
  try {
    const result = await bench.run();
    results.push(result);
    print(result);
  } catch (error) {
    console.error(`benchmark ${name} failed:`, error);
    process.exitCode = 1;
  }
}
if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
exitWhenIdle();

/**
 * Every bench closes what it opened, but a client library may keep a socket or timer alive after
 * its close (kafkajs, gRPC). The figures are printed and written by now, so after a grace period
 * name whatever still holds the event loop (to fix it where it is opened) and exit.
 */
function exitWhenIdle(graceMs = 5_000): void {
  setTimeout(() => {
    const holding = process.getActiveResourcesInfo().filter((kind) => kind !== 'Timeout');
    console.error(`bench: still open after the last benchmark (${holding.join(', ') || 'timers'}); exiting`);
    process.exit();
  }, graceMs).unref();
}

function print(result: BenchResult): void {
  console.log(result.name);
  if (result.skipped) {
    console.log(`  skipped: ${result.skipped}`);
    return;
  }
  const width = Math.max(...Object.keys(result.figures).map((k) => k.length));
  for (const [key, value] of Object.entries(result.figures)) console.log(`  ${key.padEnd(width)}  ${value}`);
}
