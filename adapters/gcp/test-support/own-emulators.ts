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
const BIGQUERY = path.join(BIN, 'bigquery-emulator');
const STORAGE = path.join(BIN, 'fake-gcs-server');

/** An emulator of a fault test's own: the shared emulator's binary on its own port, in memory. */
export interface OwnEmulator extends OwnServer {
  /** host:port for PUBSUB_EMULATOR_HOST / BIGTABLE_EMULATOR_HOST; http://host:port for BIGQUERY_ / STORAGE_EMULATOR_HOST. */
  readonly address: string;
}

export function ownEmulatorsAvailable(): boolean {
  return [PUBSUB, BIGTABLE, BIGQUERY, STORAGE].every((binary) => existsSync(binary));
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

/** Cloud Storage (fake-gcs-server, in memory): `vigil provision` creates the landing bucket there. */
export async function startOwnStorage(): Promise<OwnEmulator> {
  const port = await freePort();
  const server = await startOwnServer({
    name: 'own Cloud Storage emulator', command: STORAGE, port, env: GO_ENV,
    args: ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-external-url', `http://127.0.0.1:${port}`, '-backend', 'memory', '-log-level', 'warn'],
  });
  return { ...server, address: `http://127.0.0.1:${port}` };
}

/** In memory; started without STORAGE_EMULATOR_HOST, so it runs no load jobs from a bucket. */
export async function startOwnBigQuery(projectId: string): Promise<OwnEmulator> {
  const [port, grpcPort] = [await freePort(), await freePort()];
  const server = await startOwnServer({
    name: 'own BigQuery emulator', command: BIGQUERY, port, env: GO_ENV,
    args: ['--project', projectId, '--host', '127.0.0.1', '--port', String(port), '--grpc-port', String(grpcPort), '--log-level', 'warn'],
  });
  return { ...server, address: `http://127.0.0.1:${port}` };
}
