#!/usr/bin/env node
// Entry point of the `vigil` CLI. The project runs its TypeScript directly on Node >= 24 (type
// stripping); when started by an older Node, re-run under the project's pinned Node from
// node_modules so `./bin/vigil.js` works whatever `node` is first on the PATH.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    console.error(`vigil needs Node.js 24 or newer (this is ${process.version}); run "npm ci" to install the pinned Node.`);
    process.exit(1);
  }
  const result = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  // Type stripping and node:sqlite announce themselves as experimental on every start; that is noise.
  if (warning.name !== 'ExperimentalWarning') console.error(warning);
});
await import('../cli/vigil.ts');
