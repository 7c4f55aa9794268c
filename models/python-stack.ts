import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The Python training stack, for tests that compare against it: makes sure models/.venv exists
 * (setup-python.sh is idempotent) and runs a script of models/ with JSON on stdin.
 */

const run = promisify(execFile);
export const MODELS_DIR = import.meta.dirname;
export const VENV_PYTHON = path.join(MODELS_DIR, '.venv', 'bin', 'python');

/** True when the venv is ready; false (with the reason) when it cannot be made here. */
export async function ensurePythonStack(): Promise<{ ready: true } | { ready: false; reason: string }> {
  try {
    await run('bash', [path.join(MODELS_DIR, 'setup-python.sh')], { timeout: 900_000 });
  } catch (error) {
    return { ready: false, reason: `models/setup-python.sh failed: ${(error as Error).message}` };
  }
  return existsSync(VENV_PYTHON) ? { ready: true } : { ready: false, reason: 'models/.venv has no python' };
}

export async function runPython(script: string, stdin: string, args: readonly string[] = []): Promise<string> {
  const child = execFile(VENV_PYTHON, [path.join(MODELS_DIR, script), ...args], { cwd: MODELS_DIR, maxBuffer: 256 * 1024 * 1024 });
  const output = new Promise<string>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${script} exited ${code}: ${stderr.slice(-2000)}`))));
  });
  child.stdin!.end(stdin);
  return output;
}
