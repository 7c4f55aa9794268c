import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const VIGIL_BIN = fileURLToPath(new URL('../../../bin/vigil.js', import.meta.url));

/** Runs a short-lived `vigil <args>` (provision, simulate) to completion; rejects with its output on a non-zero exit. */
export function runVigil(args: readonly string[], env: Readonly<Record<string, string>>, timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VIGIL_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`vigil ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}
