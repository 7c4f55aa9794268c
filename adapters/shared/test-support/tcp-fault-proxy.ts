import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of a backend (an emulator, a broker) that a fault test can break and mend
 * while the backend keeps its data. Clients are pointed at `address`; the proxy forwards to
 * `target` until told otherwise:
 * - `refuse()`: every open connection is cut and the port stops listening, so new connections get
 *   ECONNREFUSED (the backend's host is up, its service is not);
 * - `blackhole()`: connections are accepted and open ones kept, but no byte is forwarded either way
 *   (a hung backend or a dropped route: clients see timeouts, not errors);
 * - `restore()`: forwarding again, on the same port.
 */
export interface TcpFaultProxy {
  /** host:port clients connect to. */
  readonly address: string;
  readonly port: number;
  readonly mode: 'forward' | 'refuse' | 'blackhole';
  refuse(): Promise<void>;
  blackhole(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpFaultProxy(target: { host: string; port: number }, options: { port?: number } = {}): Promise<TcpFaultProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let mode: TcpFaultProxy['mode'] = 'forward';
  let server: Server | undefined;
  let port = options.port ?? 0;

  function onConnection(client: Socket): void {
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    // Forwarding checks the mode per chunk, so a blackhole also silences connections already open.
    client.on('data', (chunk: Buffer) => { if (mode === 'forward') upstream.write(chunk); });
    upstream.on('data', (chunk: Buffer) => { if (mode === 'forward') client.write(chunk); });
  }

  async function listen(): Promise<void> {
    const s = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    const address = s.address();
    if (typeof address === 'object' && address) port = address.port;
    server = s;
  }

  async function stopListening(): Promise<void> {
    const s = server;
    server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  function cutAll(): void {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  }

  await listen();
  return {
    get address() { return `127.0.0.1:${port}`; },
    get port() { return port; },
    get mode() { return mode; },
    async refuse() {
      mode = 'refuse';
      const closing = stopListening();
      cutAll();
      await closing;
    },
    async blackhole() {
      mode = 'blackhole';
      if (!server) await listen();
    },
    async restore() {
      mode = 'forward';
      if (!server) await listen();
    },
    async close() {
      mode = 'refuse';
      const closing = stopListening();
      cutAll();
      await closing;
    },
  };
}
