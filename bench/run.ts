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

function print(result: BenchResult): void {
  console.log(result.name);
  if (result.skipped) {
    console.log(`  skipped: ${result.skipped}`);
    return;
  }
  const width = Math.max(...Object.keys(result.figures).map((k) => k.length));
  for (const [key, value] of Object.entries(result.figures)) console.log(`  ${key.padEnd(width)}  ${value}`);
}
