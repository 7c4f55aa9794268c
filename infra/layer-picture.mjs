// The layer picture drawn from the imports: every folder pair (production files only; tests,
// bench/ and tooling are islands) with its import count, marked when it runs against the layers
// (core <- adapters <- http <- features <- cli) or joins two features (peers import nothing of each
// other). The rule itself is core/layers.test.ts; this prints the picture for notes and reviews.
// usage: node infra/layer-picture.mjs [git revision, default HEAD]
import { execFileSync } from 'node:child_process';
import { dirname, join, normalize } from 'node:path';

const rev = process.argv[2] ?? 'HEAD';
const git = (...args) => execFileSync('git', args, { encoding: 'utf8', maxBuffer: 1e8 });
const FEATURES = ['ingest', 'stream-processor', 'dashboard-api', 'batch-loader', 'models', 'simulators', 'analytics-sql'];
const isTestSupport = (p) => /\.test\.ts$/.test(p) || /(^|\/)test-support\//.test(p) || /(^|\/)test-fixtures\.ts$/.test(p)
  || /-test-support\.ts$/.test(p) || /(^|\/)e2e\//.test(p);

/** [folder, rank]; rank 9 = an island (imported by no production file). */
function layer(p) {
  const [top, second] = p.split('/');
  if (isTestSupport(p) || top === 'bench') return ['island', 9];
  if (top === 'cli' || top === 'bin') return [top, 4];
  if (FEATURES.includes(top)) return [top, 3];
  if (top === 'http') return ['http', 2];
  if (top === 'adapters') return [`adapters/${second}`, 1];
  if (top === 'core') return ['core', 0];
  return ['island', 9];
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
const pairs = new Map();
for (const file of git('ls-tree', '-r', '--name-only', rev).split('\n').filter((f) => f.endsWith('.ts'))) {
  const [from, fromRank] = layer(file);
  if (fromRank === 9) continue;
  for (const m of git('show', `${rev}:${file}`).matchAll(IMPORT)) {
    if (!m[1].startsWith('.')) continue;
    const [to, toRank] = layer(normalize(join(dirname(file), m[1])));
    if (to === from) continue;
    const bad = toRank === 9 ? 'imports an island' : toRank > fromRank ? 'against the grain'
      : toRank === 3 && fromRank === 3 ? 'feature imports a feature' : '';
    const key = `${from} -> ${to}`;
    const entry = pairs.get(key) ?? { n: 0, bad };
    entry.n++;
    pairs.set(key, entry);
  }
}
let badPairs = 0;
let badImports = 0;
for (const [key, { n, bad }] of [...pairs].sort(([a], [b]) => a.localeCompare(b))) {
  if (bad) { badPairs++; badImports += n; }
  console.log(`${bad ? '✗' : ' '} ${key.padEnd(40)} ${String(n).padStart(4)}${bad ? `  (${bad})` : ''}`);
}
console.log(`${pairs.size} folder pairs; ${badPairs} against the layers (${badImports} imports)`);
