import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { budget, delay } from '../../../core/contracts/wait-for.ts';

/**
 * A backend server of a fault test's own (a Kafka broker, a Pub/Sub or Bigtable emulator): the same
 * binary as the shared emulator, on its own port, so the test can pause it (SIGSTOP), resume it, or
 * kill it (SIGKILL) and start it again without disturbing other suites.
 */
export interface OwnServer {
  readonly port: number;
  pause(): void;
  resume(): void;
  /** SIGKILL: no shutdown, no flush beyond what the server already wrote. */
  kill(): Promise<void>;
  /** Starts it again with the same arguments; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Stops it (SIGKILL) for good. */
  close(): Promise<void>;
  /** Its output so far (for a failing test's message). */
  log(): string;
}

export interface OwnServerSpec {
  /** Names it in errors ("own Kafka broker"). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The port it listens on (chosen by the caller, who also wrote it into `args` or config). */
  readonly port: number;
  readonly env?: NodeJS.ProcessEnv;
  /** How long a start may take before it counts as failed (scaled by the slow-machine setting). */
  readonly startTimeoutMs?: number;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; fails with `what()` in the message after the budget. */
export async function accepting(port: number, timeoutMs: number, what: () => string, name = 'server'): Promise<void> {
  const deadline = Date.now() + budget(timeoutMs);
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${name} did not listen on ${port} within ${budget(timeoutMs)} ms:\n${what().slice(-3_000)}`);
    await delay(200);
  }
}

export async function startOwnServer(spec: OwnServerSpec): Promise<OwnServer> {
  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function launch(): Promise<void> {
    const started = spawn(spec.command, [...spec.args], { env: spec.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    started.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    child = started;
    await accepting(spec.port, spec.startTimeoutMs ?? 60_000, () => output, spec.name);
  }

  async function stop(): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    running.kill('SIGCONT'); // a paused process must run to die promptly
    running.kill('SIGKILL');
    await exited;
  }

  await launch();
  return {
    port: spec.port,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    kill: stop,
    restart: async () => {
      await stop();
      await launch();
    },
    close: stop,
    log: () => output,
  };
}
