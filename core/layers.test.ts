// Layers run one way (issue 15): core/ (kernel) <- adapters/ <- http/ (the shared HTTP shell) <- features
// <- composition root + cli/. Features are peers: none imports another (shared pieces move down).
// bench/, infra/ tooling and test support stand on their own: they may import anything, and no
// production file imports them. This test reads every tracked .ts file's relative imports and
// fails, naming file, import and layers, on any import against the grain.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const FEATURES = ['ingest', 'stream-processor', 'dashboard-api', 'batch-loader', 'models', 'simulators', 'analytics-sql'];

export type Layer =
  | { kind: 'ranked'; name: 'core' | 'adapters' | 'http-shell' | 'feature' | 'composition'; rank: number; folder: string }
  | { kind: 'island'; name: 'test-support' | 'bench' | 'tooling' };

/** Which layer a repository-relative path belongs to. */
export function layerOf(path: string): Layer {
  const p = path.replace(/\\/g, '/');
  const top = p.split('/')[0]!;
  if (/\.test\.ts$/.test(p) || /(^|\/)test-support\//.test(p) || /(^|\/)test-fixtures\.ts$/.test(p)
    || /-test-support\.ts$/.test(p) || /(^|\/)e2e\//.test(p)) return { kind: 'island', name: 'test-support' };
  if (top === 'bench') return { kind: 'island', name: 'bench' };
  if (top === 'cli' || top === 'bin') return { kind: 'ranked', name: 'composition', rank: 4, folder: top };
  if (FEATURES.includes(top)) return { kind: 'ranked', name: 'feature', rank: 3, folder: top };
  if (top === 'http') return { kind: 'ranked', name: 'http-shell', rank: 2, folder: top };
  if (top === 'adapters') return { kind: 'ranked', name: 'adapters', rank: 1, folder: top };
  if (top === 'core') return { kind: 'ranked', name: 'core', rank: 0, folder: top };
  // infra/ (emulator scripts) and root config files: development tooling, not shipped code.
  return { kind: 'island', name: 'tooling' };
}

const describeLayer = (l: Layer): string => (l.kind === 'island' ? l.name : `${l.name}(${l.folder})`);

/** Why `from` may not import `to`, or undefined when the import runs with the grain. */
export function againstTheGrain(from: string, to: string): string | undefined {
  const a = layerOf(from);
  const b = layerOf(to);
  if (a.kind === 'island') return undefined; // tests, bench and tooling may reach into anything
  if (b.kind === 'island') return `production ${describeLayer(a)} imports ${b.name}`;
  if (b.rank > a.rank) return `${describeLayer(a)} imports the higher layer ${describeLayer(b)}`;
  return undefined;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

/** Relative import specifiers of one source text, resolved to repository-relative paths. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1]!;
    if (!spec.startsWith('.')) continue;
    out.push(normalize(join(dirname(file), spec)).replace(/\\/g, '/'));
  }
  return out;
}

interface Edge { from: string; to: string }

function productionEdges(): Edge[] {
  const files = execFileSync('git', ['ls-files', '*.ts'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  const edges: Edge[] = [];
  for (const file of files) {
    let text: string;
    try { text = readFileSync(join(root, file), 'utf8'); } catch { continue; } // deleted in the work tree
    for (const to of importsOf(file, text)) edges.push({ from: file, to });
  }
  return edges;
}

/**
 * Features are peers on the HTTP shell: a feature that imports another cannot be understood,
 * tested or deployed without it (and two that import each other form a circle). What two features
 * share moves down to core/ (or http/), and the composition root (cli/) plugs them together.
 */
function featureToFeature(from: string, to: string): string | undefined {
  const a = layerOf(from);
  const b = layerOf(to);
  if (a.kind !== 'ranked' || b.kind !== 'ranked' || a.name !== 'feature' || b.name !== 'feature') return undefined;
  return a.folder === b.folder ? undefined : `feature ${a.folder} imports the feature ${b.folder} (features are peers)`;
}

export function violations(edges: Edge[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of edges) {
    const why = againstTheGrain(e.from, e.to);
    if (why) out.set(`${e.from} -> ${e.to}`, why);
  }
  for (const e of edges) {
    const why = featureToFeature(e.from, e.to);
    if (why && !out.has(`${e.from} -> ${e.to}`)) out.set(`${e.from} -> ${e.to}`, why);
  }
  return out;
}

// Known violations, each with a comment saying why it is still here ('importer -> imported').
// Empty since the layering work of issue 15: keep it that way; a row that no longer matches a
// violation fails the test, so a fixed row cannot linger.
const ALLOWLIST: ReadonlyArray<string> = [];

describe('layers run one way', () => {
  it('flags a deliberate import against the grain', () => {
    expect(againstTheGrain('core/domain/news2.ts', 'adapters/embedded/bus-sqlite.ts')).toMatch(/higher layer/);
    expect(againstTheGrain('adapters/gcp/bus-pubsub.ts', 'ingest/hl7/mllp-server.ts')).toMatch(/higher layer/);
    expect(againstTheGrain('ingest/hl7/mllp-server.ts', 'cli/vigil.ts')).toMatch(/higher layer/);
    expect(againstTheGrain('models/score.ts', 'bench/run.ts')).toMatch(/imports bench/);
    expect(againstTheGrain('ingest/x.ts', 'cli/test-support/cli-output.ts')).toMatch(/imports test-support/);
    expect(againstTheGrain('adapters/gcp/x.ts', 'infra/emulator-env.ts')).toMatch(/imports tooling/);
    expect(againstTheGrain('http/auth.ts', 'dashboard-api/audit-routes.ts')).toMatch(/higher layer feature/);
    expect(againstTheGrain('adapters/embedded/x.ts', 'http/auth.ts')).toMatch(/higher layer http-shell/);
    const peers = violations([{ from: 'ingest/a.ts', to: 'dashboard-api/b.ts' }, { from: 'models/c.ts', to: 'simulators/d.ts' }]);
    expect([...peers.keys()]).toEqual(['ingest/a.ts -> dashboard-api/b.ts', 'models/c.ts -> simulators/d.ts']);
    expect(peers.get('models/c.ts -> simulators/d.ts')).toMatch(/features are peers/);
  });

  it('lets imports run down the layers and lets tests and bench reach anything', () => {
    expect(againstTheGrain('cli/vigil.ts', 'adapters/embedded/bus-sqlite.ts')).toBeUndefined();
    expect(againstTheGrain('ingest/hl7/mllp-server.ts', 'core/domain/reading.ts')).toBeUndefined();
    expect(againstTheGrain('adapters/gcp/bus-pubsub.ts', 'core/ports/bus.ts')).toBeUndefined();
    expect(againstTheGrain('ingest/fhir/fhir-routes.ts', 'http/auth.ts')).toBeUndefined();
    expect(againstTheGrain('cli/build-app.ts', 'ingest/readings-route.ts')).toBeUndefined();
    expect(violations([{ from: 'ingest/a.ts', to: 'ingest/hl7/b.ts' }]).size).toBe(0);
    expect(againstTheGrain('core/domain/news2.test.ts', 'cli/vigil.ts')).toBeUndefined();
    expect(againstTheGrain('bench/run.ts', 'cli/test-support/cli-output.ts')).toBeUndefined();
    expect(importsOf('a/b/c.ts', "import { x } from '../d.ts';\nimport type { Y } from './e.ts';\nconst m = await import('../../f/g.ts');\nexport { z } from './h.ts';\nimport 'node:fs';"))
      .toEqual(['a/d.ts', 'a/b/e.ts', 'f/g.ts', 'a/b/h.ts']);
  });

  it('no tracked production file imports against the grain (beyond the commented allowlist)', () => {
    const edges = productionEdges();
    // The walk must see the real graph, or an empty list would pass: one known edge per layer step.
    const seen = new Set(edges.map((e) => `${e.from} -> ${e.to}`));
    expect(seen).toContain('cli/runtime.ts -> cli/wiring/open-backends.ts');
    expect(seen).toContain('stream-processor/processor.ts -> core/observability/log-safe-error.ts');
    const found = violations(edges);
    const allowed = new Set(ALLOWLIST);
    const unexpected = [...found].filter(([k]) => !allowed.has(k)).map(([k, why]) => `${k}  (${why})`);
    const stale = ALLOWLIST.filter((k) => !found.has(k));
    expect({ unexpected, stale }).toEqual({ unexpected: [], stale: [] });
  });
});
