import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchHandler, Bus, DeliveredMessage, OutgoingMessage, SubscribeOptions, Subscription } from '../ports/bus.ts';
import { delay, runPrefix, waitFor } from './wait-for.ts';

/**
 * Timing knobs for backends that are slower or stricter than the embedded bus. They change how
 * long the suite waits, never which promises it checks: every adapter passes every test.
 */
export interface BusContractOptions {
  /** Ack deadline of the suite's subscriptions (Pub/Sub's minimum is 10 000). Default 1 000. */
  readonly ackDeadlineMs?: number;
  /** How long a test waits for deliveries it expects. Default 10 000. */
  readonly receiveTimeoutMs?: number;
  /** How long a test watches for a redelivery that must not happen. Default ackDeadlineMs + 1 000. */
  readonly quietPeriodMs?: number;
  /** maxDeliveryAttempts of the dead-letter test (Pub/Sub accepts 5..100). Default 5. */
  readonly maxDeliveryAttempts?: number;
  /** Messages in the single large publish. Default 3 000. */
  readonly bulkMessages?: number;
  /** Partitions asked for each topic (Kafka); ignored by buses without partitions. Default 4. */
  readonly partitions?: number;
  /** Per-test timeout. Default derived from the other knobs. */
  readonly testTimeoutMs?: number;
}

interface Knobs {
  readonly ackDeadlineMs: number;
  readonly receiveTimeoutMs: number;
  readonly quietPeriodMs: number;
  readonly maxDeliveryAttempts: number;
  readonly bulkMessages: number;
  readonly partitions: number;
  readonly testTimeoutMs: number;
}

function knobs(options: BusContractOptions): Knobs {
  const ackDeadlineMs = options.ackDeadlineMs ?? 1_000;
  const receiveTimeoutMs = options.receiveTimeoutMs ?? 10_000;
  const quietPeriodMs = options.quietPeriodMs ?? ackDeadlineMs + 1_000;
  const maxDeliveryAttempts = options.maxDeliveryAttempts ?? 5;
  return {
    ackDeadlineMs,
    receiveTimeoutMs,
    quietPeriodMs,
    maxDeliveryAttempts,
    bulkMessages: options.bulkMessages ?? 3_000,
    partitions: options.partitions ?? 4,
    testTimeoutMs: options.testTimeoutMs
      ?? 3 * receiveTimeoutMs + 2 * quietPeriodMs + (maxDeliveryAttempts + 2) * ackDeadlineMs + 10_000,
  };
}

/** A delivery as a test saw it: which subscriber got it and when. */
interface Seen {
  readonly message: DeliveredMessage;
  readonly subscriber: string;
  readonly at: number;
}

/** Messages a handler holds without settling, e.g. to see what closing a subscriber does. */
const HOLD = Symbol('hold');

type Decide = (message: DeliveredMessage) => 'ack' | 'nack' | typeof HOLD;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (data: Uint8Array): string => decoder.decode(data);

/**
 * The bus contract (core/ports/bus.ts), run by every bus adapter's tests.
 *
 * `makeBus` opens a new client of the same backend on each call, as another process would (for
 * the embedded bus: the same file). The suite opens one per test, sometimes two, and closes them.
 * Every test provisions its own uniquely named topics and subscriptions, always with a
 * dead-letter topic as production does (Pub/Sub only counts delivery attempts when one is set).
 */
export function describeBusContract(name: string, makeBus: () => Promise<Bus>, options: BusContractOptions = {}): void {
  const k = knobs(options);
  const prefix = runPrefix('vigil-ct');
  let counter = 0;

  describe(`bus contract: ${name}`, () => {
    let buses: Bus[] = [];
    let subscriptions: Subscription[] = [];
    let bus: Bus;

    beforeEach(async () => {
      bus = await openBus();
    });

    afterEach(async () => {
      for (const s of subscriptions) await s.close();
      for (const b of buses) await b.close();
      subscriptions = [];
      buses = [];
    });

    async function openBus(): Promise<Bus> {
      const opened = await makeBus();
      buses.push(opened);
      return opened;
    }

    interface Topology {
      readonly topic: string;
      readonly deadTopic: string;
      readonly subscriptions: string[];
      readonly deadSubscription: string;
    }

    async function provision(spec: { subscriptions?: number; ackDeadlineMs?: number; maxDeliveryAttempts?: number } = {}): Promise<Topology> {
      const base = `${prefix}-${++counter}`;
      const topic = `${base}-t`;
      const deadTopic = `${base}-dead`;
      const subs = Array.from({ length: spec.subscriptions ?? 1 }, (_, i) => `${base}-s${i}`);
      const deadSubscription = `${base}-dead-s`;
      await bus.provision([
        { topic: deadTopic, partitions: 1, subscriptions: [{ name: deadSubscription, ackDeadlineMs: k.ackDeadlineMs }] },
        {
          topic,
          partitions: k.partitions,
          subscriptions: subs.map((s) => ({
            name: s,
            ackDeadlineMs: spec.ackDeadlineMs ?? k.ackDeadlineMs,
            deadLetterTopic: deadTopic,
            maxDeliveryAttempts: spec.maxDeliveryAttempts ?? 20,
          })),
        },
      ]);
      return { topic, deadTopic, subscriptions: subs, deadSubscription };
    }

    function subscribeOptions(t: Topology, overrides: Partial<SubscribeOptions> = {}): SubscribeOptions {
      return {
        topic: t.topic,
        subscription: t.subscriptions[0]!,
        maxBatchSize: 50,
        maxBatchWaitMs: 20,
        maxInFlight: 200,
        ackDeadlineMs: k.ackDeadlineMs,
        maxDeliveryAttempts: 20,
        deadLetterTopic: t.deadTopic,
        ...overrides,
      };
    }

    /** Subscribes and records every delivery; `decide` settles each message (default ack). */
    async function collect(
      on: Bus,
      subscribe: SubscribeOptions,
      decide: Decide = () => 'ack',
      label = 'subscriber',
      seen: Seen[] = [],
    ): Promise<{ seen: Seen[]; subscription: Subscription }> {
      const handler: BatchHandler = async (batch) => {
        // Recorded synchronously, so the order seen is the order of delivery even when batches overlap.
        const settling = batch.map((message) => {
          seen.push({ message, subscriber: label, at: Date.now() });
          const decision = decide(message);
          return decision === 'ack' ? message.ack() : decision === 'nack' ? message.nack() : undefined;
        });
        await Promise.all(settling);
      };
      const subscription = await on.subscribe(subscribe, handler);
      subscriptions.push(subscription);
      return { seen, subscription };
    }

    function message(n: number, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
      return { data: encoder.encode(`m-${n}`), attributes: { n: String(n) }, ...extra };
    }

    const distinct = (seen: readonly Seen[]): Set<string> => new Set(seen.map((s) => s.message.id));
    const firstDeliveries = (seen: readonly Seen[]): Seen[] => seen.filter((s) => s.message.deliveryAttempt === 1);

    it('provision is idempotent and ping resolves', async () => {
      const t = await provision();
      await bus.provision([{ topic: t.topic, subscriptions: [{ name: t.subscriptions[0]!, ackDeadlineMs: k.ackDeadlineMs }] }]);
      await expect(bus.ping()).resolves.toBeUndefined();
      expect(typeof bus.kind).toBe('string');
    }, k.testTimeoutMs);

    it('publish resolves one unique id per message, in order, and an empty publish resolves []', async () => {
      const t = await provision();
      const ids = await bus.publish(t.topic, [message(0), message(1), message(2)]);
      expect(ids).toHaveLength(3);
      expect(new Set(ids).size).toBe(3);
      for (const id of ids) expect(id).toMatch(/\S/);
      await expect(bus.publish(t.topic, [])).resolves.toEqual([]);

      // Published before anyone subscribed: the subscription existed, so it still gets them.
      const before = Date.now();
      const { seen } = await collect(bus, subscribeOptions(t));
      await waitFor(() => distinct(seen).size === 3, k.receiveTimeoutMs, '3 deliveries');
      for (const s of seen) {
        const n = Number(s.message.attributes.n);
        expect(s.message.id).toBe(ids[n]);
        expect(text(s.message.data)).toBe(`m-${n}`);
        expect(s.message.deliveryAttempt).toBe(1);
        expect(s.message.publishedAt).toBeInstanceOf(Date);
        expect(s.message.publishedAt.getTime()).toBeLessThanOrEqual(Date.now());
        expect(s.message.publishedAt.getTime()).toBeGreaterThan(before - 60_000);
      }
    }, k.testTimeoutMs);

    it('delivers every published message with its bytes, attributes and ordering key intact', async () => {
      const t = await provision();
      const { seen } = await collect(bus, subscribeOptions(t));
      const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
      const sent: OutgoingMessage[] = [
        { data: binary, attributes: { kind: 'binary', 'content-type': 'application/octet-stream' }, orderingKey: 'P1' },
        { data: encoder.encode('no attributes, no key') },
        { data: encoder.encode('unicode ✓ — 体温'), attributes: { note: 'ünïcödé ✓', empty: '' } },
        ...Array.from({ length: 150 }, (_, i) => message(i, { orderingKey: `P${i % 7}` })),
      ];
      const ids = (await Promise.all([bus.publish(t.topic, sent.slice(0, 50)), bus.publish(t.topic, sent.slice(50))])).flat();
      await waitFor(() => distinct(seen).size === sent.length, k.receiveTimeoutMs, `${sent.length} deliveries`);
      const byId = new Map(seen.map((s) => [s.message.id, s.message]));
      ids.forEach((id, i) => {
        const got = byId.get(id);
        const want = sent[i]!;
        expect(got, `message ${i}`).toBeDefined();
        expect(Array.from(got!.data)).toEqual(Array.from(want.data));
        expect({ ...got!.attributes }).toEqual(want.attributes ?? {});
        expect(got!.orderingKey).toBe(want.orderingKey);
      });
    }, k.testTimeoutMs);

    it('an acked message is not delivered again', async () => {
      const t = await provision();
      const { seen } = await collect(bus, subscribeOptions(t));
      await bus.publish(t.topic, Array.from({ length: 20 }, (_, i) => message(i)));
      await waitFor(() => distinct(seen).size === 20, k.receiveTimeoutMs, '20 deliveries');
      await delay(k.quietPeriodMs);
      expect(seen).toHaveLength(20);
    }, k.testTimeoutMs);

    it('a nacked message is redelivered with deliveryAttempt incremented', async () => {
      const t = await provision();
      const { seen } = await collect(bus, subscribeOptions(t), (m) => (m.deliveryAttempt < 3 ? 'nack' : 'ack'));
      const [id] = await bus.publish(t.topic, [message(7)]);
      await waitFor(() => seen.length >= 3, k.receiveTimeoutMs, 'three deliveries');
      await delay(k.quietPeriodMs);
      expect(seen.map((s) => s.message.deliveryAttempt)).toEqual([1, 2, 3]);
      for (const s of seen) {
        expect(s.message.id).toBe(id);
        expect(text(s.message.data)).toBe('m-7');
      }
    }, k.testTimeoutMs);

    it('messages a throwing handler left unsettled are redelivered; the ones it acked are not', async () => {
      const t = await provision();
      const seen: Seen[] = [];
      const subscription = await bus.subscribe(subscribeOptions(t), async (batch) => {
        for (const m of batch) {
          seen.push({ message: m, subscriber: 'thrower', at: Date.now() });
          if (m.attributes.role === 'keep' || m.deliveryAttempt > 1) await m.ack();
        }
        if (batch.some((m) => m.attributes.role === 'drop' && m.deliveryAttempt === 1)) throw new Error('handler failed on purpose');
      });
      subscriptions.push(subscription);
      const roles = ['keep', 'drop', 'keep', 'drop', 'keep', 'drop'];
      await bus.publish(t.topic, roles.map((role, i) => message(i, { attributes: { n: String(i), role } })));
      const redelivered = (): Seen[] => seen.filter((s) => s.message.deliveryAttempt > 1);
      await waitFor(() => redelivered().length >= 3, k.receiveTimeoutMs, 'the three dropped messages again');
      await delay(k.quietPeriodMs);
      expect(new Set(redelivered().map((s) => s.message.attributes.role))).toEqual(new Set(['drop']));
      expect(new Set(redelivered().map((s) => s.message.attributes.n))).toEqual(new Set(['1', '3', '5']));
      expect(seen.filter((s) => s.message.attributes.role === 'keep')).toHaveLength(3);
    }, k.testTimeoutMs);

    it('a message neither acked nor nacked is redelivered after the ack deadline', async () => {
      const t = await provision();
      const { seen } = await collect(bus, subscribeOptions(t), (m) => (m.deliveryAttempt === 1 ? HOLD : 'ack'));
      const [id] = await bus.publish(t.topic, [message(1)]);
      await waitFor(() => seen.length >= 2, k.receiveTimeoutMs + k.ackDeadlineMs, 'the redelivery');
      const [first, second] = seen;
      expect(second!.message.id).toBe(id);
      expect(second!.message.deliveryAttempt).toBe(2);
      // Not a timing benchmark: only that the lease was honoured rather than ignored.
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(k.ackDeadlineMs / 2);
    }, k.testTimeoutMs);

    it('extendAckDeadline keeps a held message from redelivery past several deadlines, without counting an attempt', async () => {
      const t = await provision();
      const held: DeliveredMessage[] = [];
      const { seen } = await collect(bus, subscribeOptions(t), (m) => {
        if (m.deliveryAttempt === 1 && held.length === 0) {
          held.push(m);
          return HOLD;
        }
        return 'ack';
      });
      const [id] = await bus.publish(t.topic, [message(1)]);
      await waitFor(() => held.length === 1, k.receiveTimeoutMs, 'the first delivery');
      // Extended at a third of the deadline, for three deadlines: a store outage longer than one lease.
      const holdUntil = Date.now() + 3 * k.ackDeadlineMs;
      while (Date.now() < holdUntil) {
        await held[0]!.extendAckDeadline();
        await delay(k.ackDeadlineMs / 3);
      }
      const redelivered = seen.filter((s) => s.message.id === id).length - 1;
      expect(redelivered, `redeliveries of the held message while it was extended (${seen.map((s) => s.message.deliveryAttempt).join(',')})`).toBe(0);
      await held[0]!.ack();
      await delay(k.quietPeriodMs);
      expect(seen.filter((s) => s.message.id === id)).toHaveLength(1);
      // A later extension of a settled message is ignored.
      await expect(held[0]!.extendAckDeadline()).resolves.toBeUndefined();
    }, k.testTimeoutMs + 3 * k.ackDeadlineMs);

    it('keeps publish order per ordering key on first delivery', async () => {
      const t = await provision();
      const { seen } = await collect(bus, subscribeOptions(t, { maxBatchSize: 7 }));
      const keys = ['P1', 'P10', 'P2', 'P3', 'P4'];
      const perCall = 40;
      for (let call = 0; call < 5; call++) {
        await bus.publish(t.topic, Array.from({ length: perCall }, (_, i) => {
          const n = call * perCall + i;
          const key = keys[n % keys.length]!;
          return { data: encoder.encode(`${key}:${n}`), attributes: { n: String(n) }, orderingKey: key };
        }));
      }
      await waitFor(() => distinct(seen).size === 200, k.receiveTimeoutMs, '200 deliveries');
      for (const key of keys) {
        const order = firstDeliveries(seen).filter((s) => s.message.orderingKey === key).map((s) => Number(s.message.attributes.n));
        expect(order, `order of ${key}`).toEqual([...order].sort((a, b) => a - b));
        expect(order).toHaveLength(40);
      }
    }, k.testTimeoutMs);

    it('competing subscribers on one subscription share its messages and lose none', async () => {
      const t = await provision();
      const other = await openBus();
      const seen: Seen[] = [];
      const slowAck = async (batch: readonly DeliveredMessage[], label: string): Promise<void> => {
        for (const m of batch) seen.push({ message: m, subscriber: label, at: Date.now() });
        await delay(5);
        for (const m of batch) await m.ack();
      };
      const opts = subscribeOptions(t, { maxBatchSize: 5, maxInFlight: 10 });
      subscriptions.push(await bus.subscribe(opts, (b) => slowAck(b, 'a')));
      subscriptions.push(await other.subscribe(opts, (b) => slowAck(b, 'b')));
      // Publish in waves until both have work: backends differ in how long a new member takes to join.
      const published: string[] = [];
      const deadline = Date.now() + k.receiveTimeoutMs;
      const both = (): boolean => new Set(seen.map((s) => s.subscriber)).size === 2;
      while (!both() && Date.now() < deadline) {
        published.push(...await bus.publish(t.topic, Array.from({ length: 40 }, (_, i) => message(published.length + i, { orderingKey: `P${i}` }))));
        await delay(100);
      }
      expect(both(), 'both subscribers received messages').toBe(true);
      await waitFor(() => published.every((id) => distinct(seen).has(id)), k.receiveTimeoutMs, 'every message');
      expect([...distinct(seen)].sort()).toEqual([...published].sort());
    }, k.testTimeoutMs);

    it('every subscription of a topic receives every message', async () => {
      const t = await provision({ subscriptions: 2 });
      const a = await collect(bus, subscribeOptions(t, { subscription: t.subscriptions[0]! }));
      const b = await collect(bus, subscribeOptions(t, { subscription: t.subscriptions[1]! }));
      const ids = await bus.publish(t.topic, Array.from({ length: 100 }, (_, i) => message(i)));
      await waitFor(() => distinct(a.seen).size === 100 && distinct(b.seen).size === 100, k.receiveTimeoutMs, '100 deliveries on each subscription');
      expect([...distinct(a.seen)].sort()).toEqual([...ids].sort());
      expect([...distinct(b.seen)].sort()).toEqual([...ids].sort());
    }, k.testTimeoutMs);

    it('closing a subscriber hands its unsettled messages to another subscriber', async () => {
      // A deadline far beyond the wait below, so only the close can explain the hand-over.
      const longDeadlineMs = Math.max(60_000, 2 * k.receiveTimeoutMs);
      const t = await provision({ ackDeadlineMs: longDeadlineMs });
      const opts = subscribeOptions(t, { ackDeadlineMs: longDeadlineMs });
      const holder = await collect(bus, opts, () => HOLD, 'holder');
      const ids = await bus.publish(t.topic, Array.from({ length: 5 }, (_, i) => message(i)));
      await waitFor(() => distinct(holder.seen).size === 5, k.receiveTimeoutMs, 'the holder to get all 5');
      const other = await openBus();
      const taker = await collect(other, opts, () => 'ack', 'taker');
      await holder.subscription.close();
      await waitFor(() => distinct(taker.seen).size === 5, k.receiveTimeoutMs, 'the other subscriber to get all 5');
      expect([...distinct(taker.seen)].sort()).toEqual([...ids].sort());
    }, k.testTimeoutMs);

    it('moves a message to the dead-letter topic after maxDeliveryAttempts', async () => {
      const attempts = k.maxDeliveryAttempts;
      const t = await provision({ maxDeliveryAttempts: attempts });
      const main = await collect(bus, subscribeOptions(t, { maxDeliveryAttempts: attempts }), () => 'nack');
      const dead = await collect(bus, subscribeOptions(t, { topic: t.deadTopic, subscription: t.deadSubscription, deadLetterTopic: undefined, maxDeliveryAttempts: undefined }));
      await bus.publish(t.topic, [message(42, { attributes: { n: '42', origin: 'contract' } })]);
      await waitFor(() => dead.seen.length >= 1, k.receiveTimeoutMs + attempts * k.ackDeadlineMs, 'the dead letter');
      const deadLetter = dead.seen[0]!.message;
      expect(text(deadLetter.data)).toBe('m-42');
      expect(deadLetter.attributes).toMatchObject({ n: '42', origin: 'contract' });
      await delay(k.quietPeriodMs);
      expect(Math.max(...main.seen.map((s) => s.message.deliveryAttempt))).toBe(attempts);
      expect(main.seen.length).toBeGreaterThanOrEqual(attempts);
      expect(dead.seen.filter((s) => s.message.deliveryAttempt === 1)).toHaveLength(1);
    }, k.testTimeoutMs);

    it('refuses invalid subscribe options with CONFIG_INVALID naming the option, the same on every bus', async () => {
      const t = await provision();
      const bad: [Partial<SubscribeOptions>, RegExp][] = [
        [{ maxBatchSize: 0 }, /maxBatchSize/],
        [{ maxInFlight: 1.5 }, /maxInFlight/],
        [{ ackDeadlineMs: -1 }, /ackDeadlineMs/],
        [{ maxBatchWaitMs: Number.NaN }, /maxBatchWaitMs/],
        [{ maxDeliveryAttempts: 0 }, /maxDeliveryAttempts/],
        [{ subscription: '' }, /subscription/],
      ];
      for (const [overrides, named] of bad) {
        const refused = bus.subscribe(subscribeOptions(t, overrides), async () => {});
        await expect(refused, JSON.stringify(overrides)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(named) });
      }
    }, k.testTimeoutMs);

    it('never holds more than maxInFlight unsettled messages in a subscriber', async () => {
      const t = await provision();
      const maxInFlight = 8;
      let unsettled = 0;
      let peak = 0;
      const acked = new Set<string>();
      const subscription = await bus.subscribe(subscribeOptions(t, { maxBatchSize: 3, maxInFlight }), async (batch) => {
        unsettled += batch.length;
        peak = Math.max(peak, unsettled);
        // Settle later, outside the handler, so batches overlap as much as the adapter allows.
        for (const m of batch) {
          setTimeout(() => {
            unsettled--;
            acked.add(m.id);
            void m.ack();
          }, Math.random() * 10);
        }
      });
      subscriptions.push(subscription);
      await bus.publish(t.topic, Array.from({ length: 200 }, (_, i) => message(i)));
      await waitFor(() => acked.size === 200, k.receiveTimeoutMs, '200 acks');
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(maxInFlight);
    }, k.testTimeoutMs);

    it('accepts a few thousand messages in one publish and delivers them all', async () => {
      const t = await provision();
      const { seen } = await collect(bus, subscribeOptions(t, { maxBatchSize: 500, maxInFlight: 2_000 }));
      const sent = Array.from({ length: k.bulkMessages }, (_, i) =>
        message(i, { data: encoder.encode(`m-${i}-${'x'.repeat(200)}`), orderingKey: `P${i % 24}` }));
      const ids = await bus.publish(t.topic, sent);
      expect(ids).toHaveLength(k.bulkMessages);
      expect(new Set(ids).size).toBe(k.bulkMessages);
      await waitFor(() => distinct(seen).size === k.bulkMessages, k.receiveTimeoutMs * 3, `${k.bulkMessages} deliveries`);
    }, k.testTimeoutMs);
  });
}

/**
 * Notes every topic and subscription the buses it wraps provision, so a suite against a shared
 * broker or emulator can delete them afterwards.
 */
export function createProvisionLog(): { readonly topics: Set<string>; readonly subscriptions: Set<string>; wrap(bus: Bus): Bus } {
  const topics = new Set<string>();
  const subscriptions = new Set<string>();
  return {
    topics,
    subscriptions,
    wrap: (bus) => ({
      ...bus,
      kind: bus.kind,
      async provision(specs) {
        for (const spec of specs) {
          topics.add(spec.topic);
          for (const sub of spec.subscriptions ?? []) subscriptions.add(sub.name);
        }
        return bus.provision(specs);
      },
    }),
  };
}
