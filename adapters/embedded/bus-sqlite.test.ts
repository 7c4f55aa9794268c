import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeBusContract } from '../../core/contracts/bus-contract.ts';
import { waitFor } from '../../core/contracts/wait-for.ts';
import { VigilError } from '../../core/errors.ts';
import type { DeliveredMessage } from '../../core/ports/bus.ts';
import { createSqliteBus } from './bus-sqlite.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Every bus of the contract opens the same file, as separate processes would.
describeBusContract('sqlite', async () => createSqliteBus({ path: path.join(dir, 'contract', 'bus.sqlite') }));

describe('sqlite bus', () => {
  it('rejects publishing to a topic that was never provisioned, and subscribing to a missing subscription', async () => {
    const bus = createSqliteBus({ path: path.join(dir, 'missing.sqlite') });
    try {
      await expect(bus.publish('nope', [{ data: new Uint8Array([1]) }])).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await bus.provision([{ topic: 't' }]);
      await expect(bus.subscribe({ topic: 't', subscription: 'nope', maxBatchSize: 1, maxBatchWaitMs: 0, maxInFlight: 1, ackDeadlineMs: 1000 }, async () => {}))
        .rejects.toBeInstanceOf(VigilError);
    } finally {
      await bus.close();
    }
    await expect(bus.publish('t', [{ data: new Uint8Array([1]) }])).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });

  it('keeps every confirmed message when the publishing process is killed with SIGKILL', async () => {
    const file = path.join(dir, 'kill9', 'bus.sqlite');
    const setup = createSqliteBus({ path: file });
    await setup.provision([{ topic: 'readings', subscriptions: [{ name: 'processor' }] }]);
    await setup.close();

    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'test-support', 'publish-until-killed.ts'), file, 'readings'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const confirmed = new Set<number>();
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('confirmed ')) confirmed.add(Number(line.slice(10)));
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await waitFor(() => confirmed.size >= 2_000, 20_000, 'the child to confirm 2 000 publishes');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const reopened = createSqliteBus({ path: file });
    const delivered = new Set<number>();
    const subscription = await reopened.subscribe(
      { topic: 'readings', subscription: 'processor', maxBatchSize: 500, maxBatchWaitMs: 0, maxInFlight: 5_000, ackDeadlineMs: 30_000 },
      async (batch) => {
        for (const m of batch) delivered.add(Number(m.attributes.n));
        await Promise.all(batch.map((m) => m.ack()));
      },
    );
    try {
      await waitFor(() => [...confirmed].every((n) => delivered.has(n)), 10_000, 'every confirmed message');
    } finally {
      await subscription.close();
      await reopened.close();
    }
    expect([...confirmed].filter((n) => !delivered.has(n))).toEqual([]);
  }, 60_000);

  it('garbage-collects fully acked messages and keeps those a subscription still needs', async () => {
    const file = path.join(dir, 'gc', 'bus.sqlite');
    const bus = createSqliteBus({ path: file });
    await bus.provision([{ topic: 't', subscriptions: [{ name: 'fast' }, { name: 'idle' }] }, { topic: 'lonely' }]);
    await bus.publish('lonely', [{ data: new Uint8Array([9]) }]);
    let acked = 0;
    const sub = await bus.subscribe({ topic: 't', subscription: 'fast', maxBatchSize: 100, maxBatchWaitMs: 0, maxInFlight: 100, ackDeadlineMs: 10_000 },
      async (batch: readonly DeliveredMessage[]) => { await Promise.all(batch.map((m) => m.ack())); acked += batch.length; });
    await bus.publish('t', Array.from({ length: 50 }, (_, i) => ({ data: new Uint8Array([i]) })));
    await waitFor(() => acked === 50, 5_000, '50 acks');
    await sub.close();
    await bus.close();

    // A second look at the file, from outside the bus: "idle" still needs all 50; "lonely" has no subscription.
    const { DatabaseSync } = await import('node:sqlite');
    const countRows = (): number => {
      const db = new DatabaseSync(file);
      try {
        return Number((db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n);
      } finally {
        db.close();
      }
    };
    const again = createSqliteBus({ path: file });
    await waitFor(() => countRows() === 50, 5_000, 'garbage collection of the lonely message');
    let idleAcked = 0;
    const idle = await again.subscribe({ topic: 't', subscription: 'idle', maxBatchSize: 100, maxBatchWaitMs: 0, maxInFlight: 100, ackDeadlineMs: 10_000 },
      async (batch) => { await Promise.all(batch.map((m) => m.ack())); idleAcked += batch.length; });
    await waitFor(() => idleAcked === 50, 5_000, 'the idle subscription to get all 50');
    await waitFor(() => countRows() === 0, 5_000, 'garbage collection of acked messages');
    await idle.close();
    await again.close();
  }, 30_000);

  it('publish, deliver and ack in a tight loop (throughput figure, no assertion on speed)', async () => {
    const bus = createSqliteBus({ path: path.join(dir, 'throughput', 'bus.sqlite') });
    await bus.provision([{ topic: 'readings', subscriptions: [{ name: 'processor' }] }]);
    const total = 200_000;
    const perPublish = 100;
    const payload = new Uint8Array(120).fill(7);
    let acked = 0;
    const sub = await bus.subscribe({ topic: 'readings', subscription: 'processor', maxBatchSize: 500, maxBatchWaitMs: 0, maxInFlight: 10_000, ackDeadlineMs: 30_000 },
      async (batch) => {
        for (const m of batch) void m.ack();
        acked += batch.length;
      });
    const started = performance.now();
    // 50 concurrent publishers of 100 messages each, like many ingest requests at once.
    const publishers = Array.from({ length: 50 }, async (_, w) => {
      for (let i = w * perPublish; i < total; i += 50 * perPublish) {
        await bus.publish('readings', Array.from({ length: perPublish }, (_, j) => ({ data: payload, attributes: { n: String(i + j) }, orderingKey: `P${j % 24}` })));
      }
    });
    await Promise.all(publishers);
    const published = performance.now();
    await waitFor(() => acked >= total, 60_000, 'every message acked');
    const elapsed = (performance.now() - started) / 1000;
    console.log(`sqlite bus: ${total} messages published in ${((published - started) / 1000).toFixed(2)} s; published+delivered+acked in ${elapsed.toFixed(2)} s = ${Math.round(total / elapsed)} msg/s`);
    await sub.close();
    await bus.close();
    expect(acked).toBe(total);
  }, 120_000);
});
