import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeBusContract } from '../../core/contracts/bus-contract.ts';
import { budget, waitFor } from '../../core/contracts/wait-for.ts';
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
  }, budget(60_000));

  it('hands a large released lease to a subscriber with little room, a few at a time, losing none', async () => {
    const bus = createSqliteBus({ path: path.join(dir, 'split', 'bus.sqlite') });
    await bus.provision([{ topic: 't', subscriptions: [{ name: 's' }] }]);
    const base = { topic: 't', subscription: 's', maxBatchSize: 500, maxBatchWaitMs: 0, ackDeadlineMs: 60_000 };
    let held = 0;
    const holder = await bus.subscribe({ ...base, maxInFlight: 500 }, async (batch) => { held += batch.length; });
    const ids = await bus.publish('t', Array.from({ length: 200 }, (_, i) => ({ data: new Uint8Array([i]) })));
    await waitFor(() => held === 200, 5_000, 'the holder to take all 200');
    await holder.close();
    const got = new Set<string>();
    let unsettled = 0;
    let peak = 0;
    const taker = await bus.subscribe({ ...base, maxInFlight: 7 }, async (batch) => {
      unsettled += batch.length;
      peak = Math.max(peak, unsettled);
      for (const m of batch) {
        expect(m.deliveryAttempt, 'a hand-back on close is not a failed delivery').toBe(1);
        got.add(m.id);
        unsettled--;
        await m.ack();
      }
    });
    await waitFor(() => got.size === 200, 10_000, 'all 200 through the small subscriber');
    expect([...got].sort()).toEqual([...ids].sort());
    expect(peak).toBeLessThanOrEqual(7);
    await taker.close();
    await bus.close();
  });

  it('a message a closing subscriber hands back keeps its attempt number, so a close never pushes it into the dead letters', async () => {
    const bus = createSqliteBus({ path: path.join(dir, 'close-attempts', 'bus.sqlite') });
    await bus.provision([
      { topic: 't', subscriptions: [{ name: 's', deadLetterTopic: 'dead', maxDeliveryAttempts: 2 }] },
      { topic: 'dead', subscriptions: [{ name: 'dead-s' }] },
    ]);
    const base = { topic: 't', subscription: 's', maxBatchSize: 10, maxBatchWaitMs: 0, maxInFlight: 10, ackDeadlineMs: 60_000 };
    const firstAttempts: number[] = [];
    // Fails the first delivery (a real failed attempt), then holds the second until it closes.
    const holder = await bus.subscribe(base, async (batch) => {
      for (const m of batch) {
        firstAttempts.push(m.deliveryAttempt);
        if (m.deliveryAttempt === 1) await m.nack();
      }
    });
    const dead: DeliveredMessage[] = [];
    const deadSub = await bus.subscribe({ ...base, topic: 'dead', subscription: 'dead-s' }, async (batch) => {
      dead.push(...batch);
      await Promise.all(batch.map((m) => m.ack()));
    });
    await bus.publish('t', [{ data: new Uint8Array([7]) }]);
    await waitFor(() => firstAttempts.length === 2, 10_000, 'the nacked delivery and the held one', () => `attempts seen: ${firstAttempts.join(',')}`);
    await holder.close();
    const later: number[] = [];
    const taker = await bus.subscribe(base, async (batch) => {
      for (const m of batch) {
        later.push(m.deliveryAttempt);
        await m.ack();
      }
    });
    await waitFor(() => later.length > 0 || dead.length > 0, 10_000, 'the message at the next subscriber (or in the dead letters)');
    expect(firstAttempts).toEqual([1, 2]);
    expect(dead, 'dead letters after a close').toEqual([]);
    expect(later).toEqual([2]);
    await Promise.all([taker.close(), deadSub.close()]);
    await bus.close();
  });

  it('dead-letters every message of a batch that keeps failing, each once', async () => {
    const bus = createSqliteBus({ path: path.join(dir, 'dead-batch', 'bus.sqlite') });
    await bus.provision([
      { topic: 't', subscriptions: [{ name: 's', deadLetterTopic: 'dead', maxDeliveryAttempts: 2 }] },
      { topic: 'dead', subscriptions: [{ name: 'dead-s' }] },
    ]);
    const base = { maxBatchSize: 100, maxBatchWaitMs: 0, maxInFlight: 100, ackDeadlineMs: 10_000 };
    const failing = await bus.subscribe({ ...base, topic: 't', subscription: 's' }, async () => { throw new Error('store down'); });
    const dead: DeliveredMessage[] = [];
    const deadSub = await bus.subscribe({ ...base, topic: 'dead', subscription: 'dead-s' }, async (batch) => {
      dead.push(...batch);
      await Promise.all(batch.map((m) => m.ack()));
    });
    await bus.publish('t', Array.from({ length: 10 }, (_, i) => ({ data: new Uint8Array([i]), attributes: { n: String(i) }, orderingKey: 'P1' })));
    await waitFor(() => dead.length >= 10, 10_000, '10 dead letters');
    expect(dead.map((m) => m.data[0]).sort((a, b) => a! - b!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(dead.every((m) => m.attributes['vigil-delivery-attempts'] === '2' && m.orderingKey === 'P1')).toBe(true);
    await failing.close();
    await deadSub.close();
    await bus.close();
  });

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
    const storedMessages = (): number => {
      const db = new DatabaseSync(file);
      try {
        return Number((db.prepare('SELECT coalesce(sum(count), 0) AS n FROM chunks').get() as { n: number }).n);
      } finally {
        db.close();
      }
    };
    const again = createSqliteBus({ path: file });
    await waitFor(() => storedMessages() === 50, 5_000, 'garbage collection of the lonely message');
    let idleAcked = 0;
    const idle = await again.subscribe({ topic: 't', subscription: 'idle', maxBatchSize: 100, maxBatchWaitMs: 0, maxInFlight: 100, ackDeadlineMs: 10_000 },
      async (batch) => { await Promise.all(batch.map((m) => m.ack())); idleAcked += batch.length; });
    await waitFor(() => idleAcked === 50, 5_000, 'the idle subscription to get all 50');
    await waitFor(() => storedMessages() === 0, 5_000, 'garbage collection of acked messages');
    await idle.close();
    await again.close();
  }, budget(30_000));

  it('publish, deliver and ack in a tight loop (throughput figure, no assertion on speed)', async () => {
    const bus = createSqliteBus({ path: path.join(dir, 'throughput', 'bus.sqlite') });
    await bus.provision([{ topic: 'readings', subscriptions: [{ name: 'processor' }] }]);
    const total = 200_000;
    const perPublish = 100;
    // Shaped like readings: ~120-byte Avro payloads, one shared attributes object, patient ordering keys.
    const payload = new Uint8Array(120).fill(7);
    const READING_ATTRIBUTES = { 'content-type': 'application/avro' };
    let acked = 0;
    const sub = await bus.subscribe({ topic: 'readings', subscription: 'processor', maxBatchSize: 500, maxBatchWaitMs: 0, maxInFlight: 10_000, ackDeadlineMs: 30_000 },
      async (batch) => {
        // Read what a processor reads, so lazily decoded fields are paid for.
        for (const m of batch) {
          if (m.data.length === 0 || m.attributes['content-type'] === undefined || m.orderingKey === undefined) throw new Error('bad delivery');
          void m.ack();
        }
        acked += batch.length;
      });
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    // 50 concurrent publishers of 100 messages each, like many ingest requests at once.
    const publishers = Array.from({ length: 50 }, async (_, w) => {
      for (let i = w * perPublish; i < total; i += 50 * perPublish) {
        await bus.publish('readings', Array.from({ length: perPublish }, (_, j) => ({ data: payload, attributes: READING_ATTRIBUTES, orderingKey: `P${(i + j) % 24}` })));
      }
    });
    await Promise.all(publishers);
    const published = performance.now();
    await waitFor(() => acked >= total, 60_000, 'every message acked');
    const elapsed = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    // CPU seconds too: on a shared machine the wall clock mostly measures the neighbours.
    console.log(`sqlite bus: ${total} messages published in ${((published - started) / 1000).toFixed(2)} s; published+delivered+acked in ${elapsed.toFixed(2)} s = ${Math.round(total / elapsed)} msg/s wall, ${Math.round(total / cpuSeconds)} msg per CPU-second`);
    await sub.close();
    await bus.close();
    expect(acked).toBe(total);
  }, budget(120_000));
});
