import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type {
  BatchHandler, Bus, DeliveredMessage, OutgoingMessage, SubscribeOptions, Subscription, TopicSpec,
} from '../../core/ports/bus.ts';
import {
  bitmapOf, chunkRuns, clearBit, decodeChunk, encodeChunk, fullBitmap, hasBit, isEmpty, MAX_CHUNK_MESSAGES, setBits,
  type ChunkEntry,
} from './bus-sqlite-chunk.ts';
import { checkSubscribeOptions } from '../../core/ports/check-subscribe-options.ts';
import { inImmediateTransaction, openSqliteFile } from './open-sqlite-file.ts';

/**
 * The embedded bus: a durable message log in one SQLite file (node:sqlite, WAL mode), shared by
 * every process that opens the same file.
 *
 * Layout: `chunks` is the log of each topic, in runs of consecutive messages (`first_seq`,
 * `count`; see bus-sqlite-chunk.ts). Each subscription keeps a `cursor` (the last seq it took from
 * the log) and `leases` for what it took but has not fully acked: a range of one chunk, a bitmap
 * of the messages still unacked, `visible_at` (when they may be delivered again) and `attempts`.
 * Taking messages writes a lease and moves the cursor in one transaction; acks clear bits (the
 * lease goes when none is left); a nack or a closing subscriber splits the messages off into a
 * lease of their own that becomes visible after the backoff; an expired lease is redelivered
 * whole; a lease that already used `maxDeliveryAttempts` goes to the dead-letter topic instead.
 * Chunks below every subscription's cursor and oldest lease are garbage-collected.
 *
 * Throughput comes from chunks and group commit: publishes, acks and nacks made in the same
 * event-loop turn share one transaction, and subscribers in this process are woken as soon as a
 * publish commits (subscribers in other processes poll).
 */
export interface SqliteBusOptions {
  /** The database file, e.g. `${VIGIL_DATA_DIR}/bus.sqlite`; its folder is created if missing. */
  readonly path: string;
  readonly logger?: Logger;
  /**
   * `full` (default) syncs the log to disk on every publish commit, so an accepted message survives
   * a power cut; `normal` survives a killed process but not a power cut, and is faster.
   */
  readonly durability?: 'full' | 'normal';
  /** How often subscribers look for work other processes published or released. Default 100 ms. */
  readonly pollIntervalMs?: number;
  /** First nack backoff; doubles per attempt up to `nackBackoffMaxMs`. Default 100 ms. */
  readonly nackBackoffMs?: number;
  readonly nackBackoffMaxMs?: number;
  /** Messages written per publish transaction at most (bounds one event-loop stall). Default 20 000. */
  readonly maxMessagesPerCommit?: number;
  /** How long a writer waits for another process's lock before failing retriably. Default 5 000 ms. */
  readonly busyTimeoutMs?: number;
}

const DEFAULTS = Object.freeze({
  durability: 'full' as const,
  pollIntervalMs: 100,
  nackBackoffMs: 100,
  nackBackoffMaxMs: 10_000,
  maxMessagesPerCommit: 20_000,
  busyTimeoutMs: 5_000,
  gcIntervalMs: 1_000,
});

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS topics (
    topic_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    next_seq INTEGER NOT NULL DEFAULT 1
  );
  CREATE TABLE IF NOT EXISTS subscriptions (
    sub_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    topic_id INTEGER NOT NULL REFERENCES topics(topic_id),
    cursor INTEGER NOT NULL,
    ack_deadline_ms INTEGER,
    dead_letter_topic TEXT,
    max_delivery_attempts INTEGER
  );
  CREATE TABLE IF NOT EXISTS chunks (
    chunk_id INTEGER PRIMARY KEY,
    topic_id INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    count INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    body BLOB NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS chunks_by_seq ON chunks (topic_id, first_seq);
  CREATE TABLE IF NOT EXISTS leases (
    lease_id INTEGER PRIMARY KEY,
    sub_id INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    count INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    pending BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS leases_due ON leases (sub_id, visible_at);
`;

interface SubscriptionRow {
  subId: number;
  topicId: number;
  deadLetterTopic: string | null;
  maxDeliveryAttempts: number | null;
}

interface PendingPublish {
  readonly topicId: number;
  readonly messages: readonly OutgoingMessage[];
  readonly resolve: (ids: string[]) => void;
  readonly reject: (error: unknown) => void;
}

interface ChunkRow {
  first_seq: number;
  count: number;
  published_at: number;
  body: Uint8Array;
}

interface LeaseRow {
  lease_id: number;
  first_seq: number;
  count: number;
  attempts: number;
  pending: Uint8Array;
}

/** Messages of one lease handed to a subscriber. */
interface Claim {
  readonly leaseId: number;
  readonly firstSeq: number;
  readonly attempts: number;
  readonly publishedAt: number;
  /** Indexes within the lease (bit numbers) and their entries. */
  readonly indexes: readonly number[];
  readonly entries: readonly ChunkEntry[];
}

/** Acks and nacks of one lease, gathered for one commit. */
interface LeaseSettlement {
  readonly acked: number[];
  readonly nacked: { index: number; attempts: number }[];
  /**
   * The nacks are a closing subscriber handing back what it still held: no delivery failed, so
   * the redelivery carries the same attempt number (a crash, by contrast, lets the lease expire,
   * which counts: a message that kills its processor must still reach the dead letters).
   */
  readonly uncounted?: boolean;
}

/** Settlements waiting for the next group commit, shared by every ack/nack of one turn. */
interface SettleBatch {
  readonly byLease: Map<number, LeaseSettlement>;
  readonly done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

export function createSqliteBus(options: SqliteBusOptions): Bus {
  if (!options || typeof options.path !== 'string' || options.path === '') {
    throw new VigilError('CONFIG_INVALID', 'createSqliteBus needs a database file path');
  }
  return new SqliteBus(options);
}

class SqliteBus implements Bus {
  readonly kind = 'sqlite';
  readonly settings: Required<Omit<SqliteBusOptions, 'logger'>>;
  readonly logger: Logger | undefined;
  readonly db: DatabaseSync;
  private readonly sql: ReturnType<typeof prepareStatements>;
  private readonly topicIds = new Map<string, number>();
  private readonly subscribers = new Set<SqliteSubscriber>();
  private pending: PendingPublish[] = [];
  private pendingCount = 0;
  private publishScheduled = false;
  private settle: SettleBatch | undefined;
  private extensions: { leases: Map<number, number>; done: Promise<void> } | undefined;
  private readonly gcTimer: NodeJS.Timeout;
  private closed = false;
  /** Set by a publish that hit a full disk, so the state change is logged once, not per publish. */
  private diskFull = false;

  constructor(options: SqliteBusOptions) {
    this.settings = {
      path: options.path,
      durability: options.durability ?? DEFAULTS.durability,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      nackBackoffMs: options.nackBackoffMs ?? DEFAULTS.nackBackoffMs,
      nackBackoffMaxMs: options.nackBackoffMaxMs ?? DEFAULTS.nackBackoffMaxMs,
      maxMessagesPerCommit: options.maxMessagesPerCommit ?? DEFAULTS.maxMessagesPerCommit,
      busyTimeoutMs: options.busyTimeoutMs ?? DEFAULTS.busyTimeoutMs,
    };
    this.logger = options.logger;
    this.db = openSqliteFile({
      path: options.path,
      what: `bus database ${options.path}`,
      schema: SCHEMA,
      synchronous: this.settings.durability,
      busyTimeoutMs: this.settings.busyTimeoutMs,
      cacheKiB: 32_000,
    });
    this.sql = prepareStatements(this.db);
    this.gcTimer = setInterval(() => this.collectGarbage(), DEFAULTS.gcIntervalMs);
    this.gcTimer.unref();
  }

  async provision(topics: readonly TopicSpec[]): Promise<void> {
    this.assertOpen();
    this.transaction(() => {
      for (const spec of topics) {
        const topicId = this.ensureTopic(spec.topic);
        for (const sub of spec.subscriptions ?? []) {
          if (sub.deadLetterTopic) this.ensureTopic(sub.deadLetterTopic);
          const existing = this.sql.subscriptionByName.get(sub.name) as { topic_id: number } | undefined;
          if (existing && existing.topic_id !== topicId) {
            throw new VigilError('CONFIG_INVALID', `subscription ${sub.name} already belongs to another topic`);
          }
          const next = this.sql.topicNextSeq.get(topicId) as { next_seq: number };
          this.sql.upsertSubscription.run(sub.name, topicId, next.next_seq - 1, sub.ackDeadlineMs ?? null, sub.deadLetterTopic ?? null, sub.maxDeliveryAttempts ?? null);
        }
      }
    });
  }

  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<string[]> {
    if (this.closed) return Promise.reject(new VigilError('SHUTTING_DOWN', 'the bus is closed'));
    if (messages.length === 0) return Promise.resolve([]);
    let topicId: number;
    try {
      topicId = this.topicId(topic);
      for (const m of messages) {
        if (!(m.data instanceof Uint8Array)) throw new VigilError('VALIDATION_FAILED', 'message data must be a Uint8Array');
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ topicId, messages, resolve, reject });
      this.pendingCount += messages.length;
      // Bounded group: a full group commits now rather than growing until the next turn.
      if (this.pendingCount >= this.settings.maxMessagesPerCommit) this.flushPublishes();
      else if (!this.publishScheduled) {
        this.publishScheduled = true;
        setImmediate(() => this.flushPublishes());
      }
    });
  }

  async subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    this.assertOpen();
    checkSubscribeOptions(options);
    const row = this.sql.subscriptionByName.get(options.subscription) as
      { sub_id: number; topic_id: number; dead_letter_topic: string | null; max_delivery_attempts: number | null } | undefined;
    if (!row) throw new VigilError('NOT_FOUND', `subscription ${options.subscription} does not exist; run vigil provision`);
    if (row.topic_id !== this.topicId(options.topic)) {
      throw new VigilError('CONFIG_INVALID', `subscription ${options.subscription} is not on topic ${options.topic}`);
    }
    const deadLetterTopic = options.deadLetterTopic ?? row.dead_letter_topic;
    const subscription: SubscriptionRow = {
      subId: row.sub_id,
      topicId: row.topic_id,
      deadLetterTopic,
      maxDeliveryAttempts: deadLetterTopic ? options.maxDeliveryAttempts ?? row.max_delivery_attempts : null,
    };
    if (deadLetterTopic) this.topicId(deadLetterTopic);
    const subscriber = new SqliteSubscriber(this, subscription, options, handler);
    this.subscribers.add(subscriber);
    subscriber.start();
    return subscriber;
  }

  async ping(): Promise<void> {
    this.assertOpen();
    this.sql.ping.get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.subscribers].map((s) => s.close()));
    this.closed = true;
    this.flushPublishes();
    await this.settle?.done.catch(() => undefined);
    clearInterval(this.gcTimer);
    this.db.close();
  }

  // ---- internals used by SqliteSubscriber ----

  forget(subscriber: SqliteSubscriber): void {
    this.subscribers.delete(subscriber);
  }

  /**
   * Takes up to `room` messages for a subscription in one transaction: leases due for redelivery
   * first (when `scanLeases`), then new messages from the log.
   */
  claim(sub: SubscriptionRow, room: number, leaseMs: number, scanLeases: boolean): Claim[] {
    // Most wake-ups find nothing new: check with a plain read before taking the write lock.
    if (!scanLeases && !(this.sql.hasFresh.get(sub.subId) as { fresh: number }).fresh) return [];
    const now = Date.now();
    const claims: Claim[] = [];
    let taken = 0;
    this.transaction(() => {
      if (scanLeases) {
        for (const lease of this.sql.dueLeases.all(sub.subId, now, room) as unknown as LeaseRow[]) {
          if (taken >= room) break;
          const chunk = this.sql.chunkAt.get(sub.topicId, lease.first_seq) as ChunkRow | undefined;
          let indexes = setBits(lease.pending);
          if (!chunk || indexes.length === 0) {
            this.sql.deleteLease.run(lease.lease_id);
            continue;
          }
          if (sub.deadLetterTopic && sub.maxDeliveryAttempts && lease.attempts >= sub.maxDeliveryAttempts) {
            this.deadLetter(sub, chunk, lease, indexes, now);
            continue;
          }
          let leaseId = lease.lease_id;
          if (indexes.length > room - taken) {
            // Take what fits; the rest stays due under the old lease.
            indexes = indexes.slice(0, room - taken);
            const rest = new Uint8Array(lease.pending);
            for (const i of indexes) clearBit(rest, i);
            this.sql.setPending.run(rest, lease.lease_id);
            leaseId = Number(this.sql.insertLease.run(sub.subId, lease.first_seq, lease.count, now + leaseMs, lease.attempts + 1, bitmapOf(lease.count, indexes)).lastInsertRowid);
          } else {
            this.sql.renewLease.run(now + leaseMs, lease.attempts + 1, lease.lease_id);
          }
          claims.push(claimOf(chunk, lease.first_seq, leaseId, lease.attempts + 1, indexes));
          taken += indexes.length;
        }
      }
      if (taken >= room) return;
      let { cursor } = this.sql.subscriptionCursor.get(sub.subId) as { cursor: number };
      const start = cursor;
      for (const chunk of this.sql.chunksAfter.all(sub.topicId, cursor + 1 - MAX_CHUNK_MESSAGES, cursor + 1) as unknown as ChunkRow[]) {
        if (taken >= room) break;
        const from = Math.max(chunk.first_seq, cursor + 1);
        const count = Math.min(chunk.first_seq + chunk.count - from, room - taken);
        const leaseId = Number(this.sql.insertLease.run(sub.subId, from, count, now + leaseMs, 1, fullBitmap(count)).lastInsertRowid);
        claims.push(claimOf(chunk, from, leaseId, 1, Array.from({ length: count }, (_, i) => i)));
        cursor = from + count - 1;
        taken += count;
      }
      if (cursor !== start) this.sql.moveCursor.run(cursor, sub.subId);
    });
    return claims;
  }

  /** Queues an ack or nack for the next group commit; resolves once it is written. */
  settleLater(kind: 'ack' | 'nack', leaseId: number, index: number, attempts: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.settle) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
      this.settle = { byLease: new Map(), done, resolve, reject };
      setImmediate(() => this.flushSettlements());
    }
    let s = this.settle.byLease.get(leaseId);
    if (!s) this.settle.byLease.set(leaseId, (s = { acked: [], nacked: [] }));
    if (kind === 'ack') s.acked.push(index);
    else s.nacked.push({ index, attempts });
    return this.settle.done;
  }

  /**
   * Pushes leases' visibility to `visibleAt` (never earlier than it was), gathered per event-loop
   * turn into one transaction. The attempt count is untouched: holding is not a redelivery.
   */
  extendLease(leaseId: number, visibleAt: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.extensions) {
      const extensions = { leases: new Map<number, number>(), done: undefined as unknown as Promise<void> };
      extensions.done = new Promise((resolve) => setImmediate(() => {
        this.extensions = undefined;
        try {
          if (!this.closed) this.transaction(() => { for (const [id, at] of extensions.leases) this.sql.extendLease.run(at, id); });
        } catch (error) {
          // Best effort, as the port says: the lease then runs out and the messages are redelivered.
          this.logger?.warn({ err: error, leases: extensions.leases.size }, 'could not extend bus leases; they may be redelivered');
        }
        resolve();
      }));
      this.extensions = extensions;
    }
    this.extensions.leases.set(leaseId, Math.max(visibleAt, this.extensions.leases.get(leaseId) ?? 0));
    return this.extensions.done;
  }

  /** Makes messages a closing subscriber still holds visible at once, for other subscribers. */
  release(subId: number, held: ReadonlyMap<number, LeaseSettlement>): void {
    if (held.size === 0) return;
    const now = Date.now();
    this.transaction(() => {
      for (const [leaseId, s] of held) this.applySettlement(leaseId, s, () => now);
    });
    for (const s of this.subscribers) if (s.row.subId === subId) s.wake(true);
  }

  idOf(topicId: number, seq: number): string {
    return `${topicId}-${seq}`;
  }

  // ---- private ----

  private flushPublishes(): void {
    this.publishScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.pendingCount = 0;
    const now = Date.now();
    const results: string[][] = [];
    try {
      this.transaction(() => {
        // Every publish of the turn to one topic goes into the same chunks.
        const byTopic = new Map<number, PendingPublish[]>();
        for (const p of batch) {
          const list = byTopic.get(p.topicId);
          if (list) list.push(p);
          else byTopic.set(p.topicId, [p]);
        }
        const ids = new Map<PendingPublish, string[]>();
        for (const [topicId, publishes] of byTopic) {
          let seq = this.appendToLog(topicId, publishes.flatMap((p) => p.messages), now);
          for (const p of publishes) {
            const out: string[] = new Array(p.messages.length);
            for (let i = 0; i < out.length; i++) out[i] = this.idOf(topicId, seq++);
            ids.set(p, out);
          }
        }
        for (const p of batch) results.push(ids.get(p)!);
      });
    } catch (error) {
      const failure = asBackendError(error, 'publish');
      if (isDiskFull(error) && !this.diskFull) {
        this.diskFull = true;
        this.logger?.error({ path: this.settings.path, code: 'SQLITE_FULL' }, 'bus database: disk full; publishes are refused (503/AR) until space is freed');
      }
      for (const p of batch) p.reject(failure);
      return;
    }
    if (this.diskFull) {
      this.diskFull = false;
      this.logger?.info({ path: this.settings.path }, 'bus database: space available again; publishes accepted');
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
    this.wakeTopics(new Set(batch.map((p) => p.topicId)));
  }

  /** Appends messages to a topic's log inside the caller's transaction; returns the first seq. */
  private appendToLog(topicId: number, messages: readonly OutgoingMessage[], now: number): number {
    const first = (this.sql.topicNextSeq.get(topicId) as { next_seq: number }).next_seq;
    let seq = first;
    for (const run of chunkRuns(messages)) {
      this.sql.insertChunk.run(topicId, seq, run.length, now, encodeChunk(run));
      seq += run.length;
    }
    this.sql.setNextSeq.run(seq, topicId);
    return first;
  }

  private wakeTopics(topicIds: ReadonlySet<number>): void {
    for (const s of this.subscribers) if (topicIds.has(s.row.topicId)) s.wake(false);
  }

  private flushSettlements(): void {
    const batch = this.settle;
    if (!batch) return;
    this.settle = undefined;
    const nackedSubs = new Map<number, number>();
    try {
      this.transaction(() => {
        for (const [leaseId, s] of batch.byLease) {
          this.applySettlement(leaseId, s, (attempts, subId) => {
            const visibleAt = Date.now() + Math.min(this.settings.nackBackoffMaxMs, this.settings.nackBackoffMs * 2 ** Math.max(0, attempts - 1));
            nackedSubs.set(subId, Math.min(nackedSubs.get(subId) ?? Infinity, visibleAt));
            return visibleAt;
          });
        }
      });
    } catch (error) {
      batch.reject(asBackendError(error, 'ack/nack'));
      return;
    }
    batch.resolve();
    for (const s of this.subscribers) {
      const visibleAt = nackedSubs.get(s.row.subId);
      if (visibleAt !== undefined) s.rescanAt(visibleAt);
    }
  }

  /**
   * Acks clear their bits whatever the lease's attempt (a late ack still saves a redelivery);
   * nacks count only for the delivery the lease is on now, and split off into their own lease.
   */
  private applySettlement(leaseId: number, s: LeaseSettlement, visibleAt: (attempts: number, subId: number) => number): void {
    const lease = this.sql.leaseById.get(leaseId) as (LeaseRow & { sub_id: number }) | undefined;
    if (!lease) return;
    const pending = new Uint8Array(lease.pending);
    for (const i of s.acked) clearBit(pending, i);
    const nacked = s.nacked.filter((n) => n.attempts === lease.attempts && hasBit(pending, n.index)).map((n) => n.index);
    for (const i of nacked) clearBit(pending, i);
    if (nacked.length > 0) {
      const nackedBits = bitmapOf(lease.count, nacked);
      const at = visibleAt(lease.attempts, lease.sub_id);
      // A claim adds one to a due lease's attempts; an uncounted hand-back takes that one off first.
      const attempts = s.uncounted ? lease.attempts - 1 : lease.attempts;
      if (isEmpty(pending)) {
        this.sql.nackWholeLease.run(at, nackedBits, attempts, leaseId);
        return;
      }
      this.sql.insertLease.run(lease.sub_id, lease.first_seq, lease.count, at, attempts, nackedBits);
    }
    if (isEmpty(pending)) this.sql.deleteLease.run(leaseId);
    else this.sql.setPending.run(pending, leaseId);
  }

  private deadLetter(sub: SubscriptionRow, chunk: ChunkRow, lease: LeaseRow, indexes: readonly number[], now: number): void {
    const deadTopicId = this.topicId(sub.deadLetterTopic!);
    const entries = decodeChunk(chunk.body, chunk.count);
    const offset = lease.first_seq - chunk.first_seq;
    const messages: OutgoingMessage[] = indexes.map((i) => {
      const e = entries[offset + i]!;
      const attributes = { ...e.attributes(), 'vigil-delivery-attempts': String(lease.attempts) };
      const orderingKey = e.orderingKey();
      return { data: e.data, attributes, ...(orderingKey === undefined ? {} : { orderingKey }) };
    });
    this.appendToLog(deadTopicId, messages, now);
    this.sql.deleteLease.run(lease.lease_id);
    this.logger?.warn({ subscription: sub.subId, attempts: lease.attempts, messages: messages.length }, 'bus messages moved to the dead-letter topic');
    queueMicrotask(() => this.wakeTopics(new Set([deadTopicId])));
  }

  /** Drops chunks every subscription of their topic is done with. */
  private collectGarbage(): void {
    if (this.closed) return;
    try {
      this.transaction(() => {
        for (const t of this.sql.gcBounds.all() as { topic_id: number; low: number }[]) {
          this.sql.deleteChunksBelow.run(t.topic_id, t.low, t.low);
        }
      });
    } catch (error) {
      this.logger?.warn({ err: error }, 'bus garbage collection failed; will retry');
    }
  }

  private ensureTopic(name: string): number {
    this.sql.insertTopic.run(name);
    const row = this.sql.topicByName.get(name) as { topic_id: number };
    this.topicIds.set(name, row.topic_id);
    return row.topic_id;
  }

  private topicId(name: string): number {
    const cached = this.topicIds.get(name);
    if (cached !== undefined) return cached;
    // Another process may have provisioned it since we looked.
    const row = this.sql.topicByName.get(name) as { topic_id: number } | undefined;
    if (!row) throw new VigilError('NOT_FOUND', `topic ${name} does not exist; run vigil provision`);
    this.topicIds.set(name, row.topic_id);
    return row.topic_id;
  }

  private transaction(work: () => void): void {
    inImmediateTransaction(this.db, work);
  }

  private assertOpen(): void {
    if (this.closed) throw new VigilError('SHUTTING_DOWN', 'the bus is closed');
  }
}

function claimOf(chunk: ChunkRow, firstSeq: number, leaseId: number, attempts: number, indexes: readonly number[]): Claim {
  const all = decodeChunk(chunk.body, chunk.count);
  const offset = firstSeq - chunk.first_seq;
  return { leaseId, firstSeq, attempts, publishedAt: chunk.published_at, indexes, entries: indexes.map((i) => all[offset + i]!) };
}

/**
 * One `subscribe` call: pulls leases for its subscription and feeds the handler, within
 * maxInFlight. Batches go out as soon as messages are there (never waiting `maxBatchWaitMs`): group
 * commit already makes them as big as the publishers' turn was, and waiting would only add latency.
 * Several batches may be in the handler at once, up to maxInFlight messages.
 */
class SqliteSubscriber implements Subscription {
  readonly row: SubscriptionRow;
  private readonly bus: SqliteBus;
  private readonly options: SubscribeOptions;
  private readonly handler: BatchHandler;
  /** Delivered, not yet acked, nacked or expired. */
  readonly held = new Set<SqliteDelivery>();
  private readonly running = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private pollTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private nextLeaseScanAt = 0;
  private closing: Promise<void> | undefined;

  constructor(bus: SqliteBus, row: SubscriptionRow, options: SubscribeOptions, handler: BatchHandler) {
    this.bus = bus;
    this.row = row;
    this.options = options;
    this.handler = handler;
  }

  start(): void {
    this.pollTimer = setInterval(() => this.wake(false), this.bus.settings.pollIntervalMs);
    this.wake(true);
  }

  wake(rescan: boolean): void {
    if (rescan) this.nextLeaseScanAt = 0;
    if (this.pumpScheduled || this.closing) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  /** Look for due leases at `at` (a nack's backoff end) rather than waiting for the next scan. */
  rescanAt(at: number): void {
    if (this.closing) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.wake(true);
    }, Math.max(0, at - Date.now()));
    this.timers.add(timer);
  }

  settled(delivery: SqliteDelivery): void {
    if (this.held.delete(delivery)) this.wake(false);
  }

  private pump(): void {
    this.pumpScheduled = false;
    if (this.closing) return;
    const room = this.options.maxInFlight - this.held.size;
    if (room <= 0) return;
    const now = Date.now();
    const scan = now >= this.nextLeaseScanAt;
    if (scan) this.nextLeaseScanAt = now + this.bus.settings.pollIntervalMs;
    let claims: Claim[];
    try {
      claims = this.bus.claim(this.row, room, this.options.ackDeadlineMs, scan);
    } catch (error) {
      this.bus.logger?.warn({ err: error, subscription: this.options.subscription }, 'bus receive failed; will retry on the next poll');
      return;
    }
    if (claims.length === 0) return;
    const deliveries: SqliteDelivery[] = [];
    for (const c of claims) c.indexes.forEach((index, k) => deliveries.push(new SqliteDelivery(this, c, index, c.entries[k]!)));
    for (let i = 0; i < deliveries.length; i += this.options.maxBatchSize) {
      this.dispatch(deliveries.slice(i, i + this.options.maxBatchSize));
    }
    // More may be waiting than this pull took; look again once this turn is over.
    if (deliveries.length >= room) return;
    this.wake(false);
  }

  private dispatch(batch: SqliteDelivery[]): void {
    let expiry: NodeJS.Timeout | undefined;
    const arm = (): void => {
      if (expiry) {
        clearTimeout(expiry);
        this.timers.delete(expiry);
      }
      if (this.closing) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        // The lease ran out: the bus may redeliver these elsewhere, so they stop counting here.
        for (const d of batch) if (d.expire()) this.held.delete(d);
        this.wake(false);
      }, this.options.ackDeadlineMs);
      expiry = timer;
      this.timers.add(timer);
    };
    for (const d of batch) {
      d.rearmExpiry = arm;
      this.held.add(d);
    }
    arm();
    const run = (async () => {
      try {
        await this.handler(batch);
      } catch (error) {
        this.bus.logger?.warn({ err: error, subscription: this.options.subscription, messages: batch.length }, 'bus handler failed; unsettled messages nacked');
        await Promise.all(batch.map((d) => d.nack()));
      }
    })();
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      if (this.pollTimer) clearInterval(this.pollTimer);
      await Promise.allSettled([...this.running]);
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      const unsettled = [...this.held].filter((d) => d.expire());
      this.held.clear();
      try {
        const byLease = new Map<number, LeaseSettlement>();
        for (const d of unsettled) {
          let s = byLease.get(d.leaseId);
          if (!s) byLease.set(d.leaseId, (s = { acked: [], nacked: [], uncounted: true }));
          s.nacked.push({ index: d.index, attempts: d.deliveryAttempt });
        }
        this.bus.release(this.row.subId, byLease);
      } catch (error) {
        this.bus.logger?.warn({ err: error, messages: unsettled.length }, 'could not release leases on close; they expire at their deadline');
      }
      this.bus.forget(this);
    })());
  }

  settleLater(kind: 'ack' | 'nack', delivery: SqliteDelivery): Promise<void> {
    return this.bus.settleLater(kind, delivery.leaseId, delivery.index, delivery.deliveryAttempt);
  }

  extend(delivery: SqliteDelivery): Promise<void> {
    if (this.closing) return Promise.resolve();
    delivery.rearmExpiry();
    return this.bus.extendLease(delivery.leaseId, Date.now() + this.options.ackDeadlineMs);
  }

  idOf(seq: number): string {
    return this.bus.idOf(this.row.topicId, seq);
  }
}

class SqliteDelivery implements DeliveredMessage {
  readonly id: string;
  readonly data: Uint8Array;
  readonly deliveryAttempt: number;
  readonly leaseId: number;
  /** Bit of this message in its lease. */
  readonly index: number;
  private readonly subscriber: SqliteSubscriber;
  private readonly entry: ChunkEntry;
  private readonly publishedAtMs: number;
  private parsedAttributes: Readonly<Record<string, string>> | undefined;
  private state: 'open' | 'acked' | 'nacked' | 'expired' = 'open';
  /** Restarts the local deadline of this delivery's batch (set by the subscriber at dispatch). */
  rearmExpiry: () => void = () => undefined;

  constructor(subscriber: SqliteSubscriber, claim: Claim, index: number, entry: ChunkEntry) {
    this.subscriber = subscriber;
    this.id = subscriber.idOf(claim.firstSeq + index);
    this.data = entry.data;
    this.entry = entry;
    this.deliveryAttempt = claim.attempts;
    this.publishedAtMs = claim.publishedAt;
    this.leaseId = claim.leaseId;
    this.index = index;
  }

  // Decoded on first use: a consumer that never reads them never pays for them.
  get attributes(): Readonly<Record<string, string>> {
    return (this.parsedAttributes ??= this.entry.attributes());
  }

  get orderingKey(): string | undefined {
    return this.entry.orderingKey();
  }

  get publishedAt(): Date {
    return new Date(this.publishedAtMs);
  }

  ack(): Promise<void> {
    // A late ack (after the lease expired) still counts: it saves a pointless redelivery.
    if (this.state === 'acked' || this.state === 'nacked') return Promise.resolve();
    this.state = 'acked';
    this.subscriber.settled(this);
    return this.subscriber.settleLater('ack', this);
  }

  nack(): Promise<void> {
    if (this.state !== 'open') return Promise.resolve();
    this.state = 'nacked';
    this.subscriber.settled(this);
    return this.subscriber.settleLater('nack', this);
  }

  /** Moves the lease's visibility one ack deadline on; the attempt count stays. */
  extendAckDeadline(): Promise<void> {
    if (this.state !== 'open') return Promise.resolve();
    return this.subscriber.extend(this);
  }

  /** Marks an open delivery expired; true when it was open. */
  expire(): boolean {
    if (this.state !== 'open') return false;
    this.state = 'expired';
    return true;
  }
}

function prepareStatements(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    ping: p('SELECT 1'),
    insertTopic: p('INSERT OR IGNORE INTO topics (name) VALUES (?)'),
    topicByName: p('SELECT topic_id FROM topics WHERE name = ?'),
    topicNextSeq: p('SELECT next_seq FROM topics WHERE topic_id = ?'),
    setNextSeq: p('UPDATE topics SET next_seq = ? WHERE topic_id = ?'),
    subscriptionByName: p('SELECT sub_id, topic_id, dead_letter_topic, max_delivery_attempts FROM subscriptions WHERE name = ?'),
    // A new subscription starts at the end of the log; re-provisioning updates settings only.
    upsertSubscription: p(`INSERT INTO subscriptions (name, topic_id, cursor, ack_deadline_ms, dead_letter_topic, max_delivery_attempts)
      VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET ack_deadline_ms = excluded.ack_deadline_ms,
        dead_letter_topic = excluded.dead_letter_topic, max_delivery_attempts = excluded.max_delivery_attempts`),
    subscriptionCursor: p('SELECT cursor FROM subscriptions WHERE sub_id = ?'),
    moveCursor: p('UPDATE subscriptions SET cursor = ? WHERE sub_id = ?'),
    hasFresh: p(`SELECT EXISTS (SELECT 1 FROM subscriptions s JOIN topics t ON t.topic_id = s.topic_id
      WHERE s.sub_id = ? AND t.next_seq > s.cursor + 1) AS fresh`),
    insertChunk: p('INSERT INTO chunks (topic_id, first_seq, count, published_at, body) VALUES (?, ?, ?, ?, ?)'),
    // Chunks holding any seq from the second parameter on (a chunk never holds more than MAX_CHUNK_MESSAGES).
    chunksAfter: p(`SELECT first_seq, count, published_at, body FROM chunks
      WHERE topic_id = ? AND first_seq > ? AND first_seq + count > ? ORDER BY first_seq LIMIT 64`),
    chunkAt: p(`SELECT first_seq, count, published_at, body FROM chunks
      WHERE topic_id = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1`),
    dueLeases: p(`SELECT lease_id, first_seq, count, attempts, pending FROM leases
      WHERE sub_id = ? AND visible_at <= ? ORDER BY first_seq LIMIT ?`),
    leaseById: p('SELECT lease_id, sub_id, first_seq, count, attempts, pending FROM leases WHERE lease_id = ?'),
    insertLease: p('INSERT INTO leases (sub_id, first_seq, count, visible_at, attempts, pending) VALUES (?, ?, ?, ?, ?, ?)'),
    renewLease: p('UPDATE leases SET visible_at = ?, attempts = ? WHERE lease_id = ?'),
    extendLease: p('UPDATE leases SET visible_at = max(visible_at, ?) WHERE lease_id = ?'),
    nackWholeLease: p('UPDATE leases SET visible_at = ?, pending = ?, attempts = ? WHERE lease_id = ?'),
    setPending: p('UPDATE leases SET pending = ? WHERE lease_id = ?'),
    deleteLease: p('DELETE FROM leases WHERE lease_id = ?'),
    // Per topic, the lowest seq still needed: the oldest lease or the first entry past a cursor.
    gcBounds: p(`SELECT t.topic_id AS topic_id, coalesce(min(coalesce(
        (SELECT min(l.first_seq) FROM leases l WHERE l.sub_id = s.sub_id), s.cursor + 1)), t.next_seq) AS low
      FROM topics t LEFT JOIN subscriptions s ON s.topic_id = t.topic_id GROUP BY t.topic_id`),
    deleteChunksBelow: p('DELETE FROM chunks WHERE topic_id = ? AND first_seq < ? AND first_seq + count <= ?'),
  };
}

/**
 * A full disk: SQLite turns a write's ENOSPC into SQLITE_FULL (errcode 13) and rolls the
 * transaction back, so the file stays whole and the same write succeeds once space is freed.
 */
export function isDiskFull(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { errcode?: unknown; code?: unknown };
  return e.errcode === 13 || e.code === 'ENOSPC' || e.code === 'SQLITE_FULL';
}

function asBackendError(error: unknown, what: string): VigilError {
  if (error instanceof VigilError) return error;
  if (isDiskFull(error)) {
    return new VigilError('BACKEND_UNAVAILABLE', `bus ${what} failed: the disk holding the bus database is full; free space under VIGIL_DATA_DIR`, { cause: error });
  }
  // SQLITE_BUSY after the busy timeout: another process holds the lock; worth retrying.
  const busy = typeof error === 'object' && error !== null && /SQLITE_BUSY|database is locked/i.test(String((error as Error).message));
  return new VigilError(busy ? 'BACKEND_UNAVAILABLE' : 'BACKEND_REJECTED', `bus ${what} failed`, { cause: error });
}
