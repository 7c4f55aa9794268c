import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from './errors.ts';

/**
 * The README is the operator's manual: its configuration table and its error table must say what
 * the code reads and answers. This keeps the three (README, core/config.ts and the other readers
 * of the environment, core/errors.ts) in step, so a new variable or error code cannot ship
 * undocumented and a removed one cannot linger in the docs.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PRODUCTION_FOLDERS = ['core', 'adapters', 'ingest', 'stream-processor', 'dashboard-api', 'batch-loader', 'models', 'simulators', 'cli'];
// A variable is read where the code names it as a string or reads `env.NAME`.
const ENV_READ = /(?:['"`]|env\.)(VIGIL_[A-Z0-9_]*[A-Z0-9])\b/g;

function productionFiles(folder: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name.includes('test-support') || entry.name === 'e2e') continue;
      out.push(...productionFiles(full));
    } else if (entry.name.endsWith('.ts') && !entry.name.includes('.test.') && !entry.name.includes('test-support')) {
      out.push(full);
    }
  }
  return out;
}

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('README configuration table and the code that reads the environment agree', () => {
  const variablesRead = new Map<string, string>();
  for (const folder of PRODUCTION_FOLDERS) {
    for (const file of productionFiles(path.join(ROOT, folder))) {
      for (const match of readFileSync(file, 'utf8').matchAll(ENV_READ)) {
        if (!variablesRead.has(match[1]!)) variablesRead.set(match[1]!, path.relative(ROOT, file));
      }
    }
  }
  const configuration = section(readme, 'Configuration');
  // Rows name variables in backticks; `VIGIL_X` / `_Y` shares the prefix of the first name.
  const documented = new Set<string>();
  for (const row of configuration.split('\n').filter((line) => line.startsWith('| `'))) {
    const names = (row.split('|')[1] ?? '').match(/`[A-Z0-9_]+`/g) ?? [];
    let prefix = '';
    for (const quoted of names.map((n) => n.slice(1, -1))) {
      if (quoted.startsWith('VIGIL_')) {
        documented.add(quoted);
        prefix = quoted.slice(0, quoted.lastIndexOf('_'));
      } else if (quoted.startsWith('_') && prefix) {
        documented.add(prefix + quoted);
      }
    }
  }

  it('finds the variables it checks (the scan itself works)', () => {
    expect(variablesRead.get('VIGIL_DATA_DIR')).toBe('core/config.ts');
    expect(documented.has('VIGIL_MLLP_TLS_KEY')).toBe(true);
  });

  it('documents every VIGIL_ variable production code reads', () => {
    const undocumented = [...variablesRead].filter(([name]) => !documented.has(name)).map(([name, file]) => `${name} (read in ${file})`);
    expect(undocumented, 'add a row to the README configuration table for each').toEqual([]);
  });

  it('documents no variable the code does not read', () => {
    const stale = [...documented].filter((name) => !variablesRead.has(name));
    expect(stale, 'README configuration rows naming variables nothing reads').toEqual([]);
  });
});

describe('README error table and the error catalog agree', () => {
  const errors = section(readme, 'Errors');
  const rows = new Map<string, { status: number; retriable: boolean }>();
  for (const row of errors.split('\n').filter((line) => line.startsWith('| `'))) {
    const [code, status, retriable] = row.split('|').slice(1, 4).map((cell) => cell.trim());
    rows.set(code!.replaceAll('`', ''), { status: Number(status), retriable: retriable === 'yes' });
  }

  it('lists every code with its HTTP status and whether retrying helps, and nothing else', () => {
    const catalog = Object.fromEntries(Object.entries(ERROR_CATALOG).map(([code, entry]) => [code, { status: entry.status, retriable: entry.retriable }]));
    expect(Object.fromEntries(rows)).toEqual(catalog);
  });
});
