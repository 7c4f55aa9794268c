import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../../cli/test-support/vigil-process.ts';
import { startOwnServer } from '../../shared/test-support/own-server.ts';
import type { OwnServer } from '../../shared/test-support/own-server.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
/** The emulator binaries `npm run emulators:up` built (infra/emulators-up.sh). */
const BIN = path.join(ROOT, '.emulators', 'bin');
const PUBSUB = path.join(BIN, 'pubsub-emulator');
const BIGTABLE = path.join(BIN, 'cbtemulator');

/** An emulator of a fault test's own: the shared emulator's binary on its own port, in memory. */
export interface OwnEmulator extends OwnServer {
  /** host:port for PUBSUB_EMULATOR_HOST / BIGTABLE_EMULATOR_HOST. */
  readonly address: string;
}

export function ownEmulatorsAvailable(): boolean {
  return existsSync(PUBSUB) && existsSync(BIGTABLE);
}

/** Go's emulators get the same memory limit as the shared ones, so a paused-then-flooded one is not killed. */
const GO_ENV = { ...process.env, GOMEMLIMIT: process.env.VIGIL_EMULATORS_GOMEMLIMIT ?? '512MiB' };

export async function startOwnPubSub(): Promise<OwnEmulator> {
  const port = await freePort();
  const server = await startOwnServer({ name: 'own Pub/Sub emulator', command: PUBSUB, args: ['-addr', `127.0.0.1:${port}`], port, env: GO_ENV });
  return { ...server, address: `127.0.0.1:${port}` };
}

export async function startOwnBigtable(): Promise<OwnEmulator> {
  const port = await freePort();
  const server = await startOwnServer({ name: 'own Bigtable emulator', command: BIGTABLE, args: ['-host', '127.0.0.1', '-port', String(port)], port, env: GO_ENV });
  return { ...server, address: `127.0.0.1:${port}` };
}
