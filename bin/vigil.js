#!/usr/bin/env node
// Entry point of the `vigil` CLI. The project runs its TypeScript directly on Node >= 24 (type
// stripping); when started by an older Node, re-run under the project's pinned Node from
// node_modules so `./bin/vigil.js` works whatever `node` is first on the PATH.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants as osConstants } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    console.error(`vigil needs Node.js 24 or newer (this is ${process.version}); run "npm ci" to install the pinned Node.`);
    process.exit(1);
  }
  // Signals sent to this wrapper's pid (a supervisor's SIGTERM, Ctrl-C) are passed on, so the
  // real process drains and exits rather than being orphaned when the wrapper goes.
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  const [code, signal] = await once(child, 'exit');
  process.exit(code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1));
}
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  // Type stripping and node:sqlite announce themselves as experimental on every start; that is noise.
  if (warning.name !== 'ExperimentalWarning') console.error(warning);
});
await import('../cli/vigil.ts');
