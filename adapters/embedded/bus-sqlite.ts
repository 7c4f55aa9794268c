import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type {
  BatchHandler, Bus, DeliveredMessage, OutgoingMessage, SubscribeOptions, Subscription, TopicSpec,
} from '../../core/ports/bus.ts';

/**
 * The embedded bus: a durable message log in one SQLite file (node:sqlite, WAL mode), shared by
 * every process that opens the same file.
 *
 * Layout: `messages` is one log per topic (`topic_id`, `seq`); each subscription keeps a `cursor`
 * (the last seq it took from the log) and a `leases` row per message taken but not yet acked, with
 * `visible_at` (when it may be delivered again) and `attempts`. Taking messages inserts leases and
 * moves the cursor in one transaction; ack deletes the lease; nack and lease expiry make it visible
 * again; a lease that already used `maxDeliveryAttempts` is moved to the dead-letter topic instead.
 * Log entries below every subscription's cursor and oldest lease are garbage-collected.
 *
 * Throughput comes from group commit: publishes, acks and nacks made in the same event-loop turn
 * share one transaction, and subscribers in this process are woken as soon as a publish commits
 * (others, in other processes, poll).
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
  /** Rows garbage-collected per topic per pass, so one pass never stalls the loop for long. */
  gcRowsPerPass: 50_000,
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
  CREATE TABLE IF NOT EXISTS messages (
    topic_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    ordering_key TEXT,
    attributes TEXT,
    data BLOB NOT NULL,
    PRIMARY KEY (topic_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS leases (
    sub_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    PRIMARY KEY (sub_id, seq)
  ) WITHOUT ROWID;
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

interface LogRow {
  seq: number;
  published_at: number;
  ordering_key: string | null;
  attributes: string | null;
  data: Uint8Array;
}

interface Claim {
  readonly row: LogRow;
  readonly attempts: number;
}

/** A settlement waiting for the next group commit, shared by every ack/nack of one turn. */
interface SettleBatch {
  readonly acks: { subId: number; seq: number }[];
  readonly nacks: { subId: number; seq: number; attempts: number; visibleAt: number }[];
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
  private readonly gcTimer: NodeJS.Timeout;
  private closed = false;

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
    try {
      mkdirSync(path.dirname(options.path), { recursive: true });
      this.db = new DatabaseSync(options.path, { timeout: this.settings.busyTimeoutMs });
      this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${this.settings.durability.toUpperCase()}; PRAGMA cache_size = -32000;`);
      this.db.exec(SCHEMA);
    } catch (cause) {
      throw new VigilError('BACKEND_UNAVAILABLE', `cannot open the bus database ${options.path}`, { cause });
    }
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
    validateSubscribeOptions(options);
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

  /** Wakes this process's subscribers of a subscription, e.g. after leases were released. */
  wakeSubscription(subId: number, rescan: boolean): void {
    for (const s of this.subscribers) if (s.row.subId === subId) s.wake(rescan);
  }

  /**
   * Takes up to `room` messages for a subscription in one transaction: leases due for redelivery
   * first (when `scanLeases`), then new messages from the log.
   */
  claim(sub: SubscriptionRow, room: number, leaseMs: number, scanLeases: boolean): Claim[] {
    const now = Date.now();
    const claims: Claim[] = [];
    this.transaction(() => {
      if (scanLeases) {
        const due = this.sql.dueLeases.all(sub.subId, now, room) as { seq: number; attempts: number }[];
        for (const lease of due) {
          const row = this.sql.logEntry.get(sub.topicId, lease.seq) as LogRow | undefined;
          if (!row) {
            this.sql.deleteLease.run(sub.subId, lease.seq);
          } else if (sub.deadLetterTopic && sub.maxDeliveryAttempts && lease.attempts >= sub.maxDeliveryAttempts) {
            this.deadLetter(sub, row, lease.attempts, now);
          } else {
            this.sql.renewLease.run(now + leaseMs, lease.attempts + 1, sub.subId, lease.seq);
            claims.push({ row, attempts: lease.attempts + 1 });
          }
        }
      }
      if (claims.length < room) {
        const { cursor } = this.sql.subscriptionCursor.get(sub.subId) as { cursor: number };
        const fresh = this.sql.logAfter.all(sub.topicId, cursor, room - claims.length) as unknown as LogRow[];
        for (const row of fresh) {
          this.sql.insertLease.run(sub.subId, row.seq, now + leaseMs);
          claims.push({ row, attempts: 1 });
        }
        if (fresh.length > 0) this.sql.moveCursor.run(fresh[fresh.length - 1]!.seq, sub.subId);
      }
    });
    return claims;
  }

  /** Queues an ack or nack for the next group commit; resolves once it is written. */
  settleLater(kind: 'ack' | 'nack', subId: number, seq: number, attempts: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.settle) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
      this.settle = { acks: [], nacks: [], done, resolve, reject };
      setImmediate(() => this.flushSettlements());
    }
    if (kind === 'ack') this.settle.acks.push({ subId, seq });
    else {
      const backoff = Math.min(this.settings.nackBackoffMaxMs, this.settings.nackBackoffMs * 2 ** Math.max(0, attempts - 1));
      this.settle.nacks.push({ subId, seq, attempts, visibleAt: Date.now() + backoff });
    }
    return this.settle.done;
  }

  /** Makes leases this subscriber still holds visible at once (closing hands them to others). */
  release(subId: number, leases: readonly { seq: number; attempts: number }[]): void {
    if (leases.length === 0) return;
    const now = Date.now();
    this.transaction(() => {
      for (const l of leases) this.sql.nackLease.run(now, subId, l.seq, l.attempts);
    });
    this.wakeSubscription(subId, true);
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
        const nextSeq = new Map<number, number>();
        for (const p of batch) {
          let seq = nextSeq.get(p.topicId) ?? (this.sql.topicNextSeq.get(p.topicId) as { next_seq: number }).next_seq;
          const ids: string[] = [];
          for (const m of p.messages) {
            const attributes = m.attributes && Object.keys(m.attributes).length > 0 ? JSON.stringify(m.attributes) : null;
            this.sql.insertMessage.run(p.topicId, seq, now, m.orderingKey ?? null, attributes, m.data);
            ids.push(this.idOf(p.topicId, seq));
            seq++;
          }
          nextSeq.set(p.topicId, seq);
          results.push(ids);
        }
        for (const [topicId, seq] of nextSeq) this.sql.setNextSeq.run(seq, topicId);
      });
    } catch (error) {
      const failure = asBackendError(error, 'publish');
      for (const p of batch) p.reject(failure);
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
    const topics = new Set(batch.map((p) => p.topicId));
    for (const s of this.subscribers) if (topics.has(s.row.topicId)) s.wake(false);
  }

  private flushSettlements(): void {
    const batch = this.settle;
    if (!batch) return;
    this.settle = undefined;
    try {
      this.transaction(() => {
        for (const a of batch.acks) this.sql.deleteLease.run(a.subId, a.seq);
        for (const n of batch.nacks) this.sql.nackLease.run(n.visibleAt, n.subId, n.seq, n.attempts);
      });
    } catch (error) {
      batch.reject(asBackendError(error, 'ack/nack'));
      return;
    }
    batch.resolve();
    const nacked = new Map<number, number>();
    for (const n of batch.nacks) nacked.set(n.subId, Math.min(nacked.get(n.subId) ?? Infinity, n.visibleAt));
    for (const s of this.subscribers) {
      const visibleAt = nacked.get(s.row.subId);
      if (visibleAt !== undefined) s.rescanAt(visibleAt);
    }
  }

  private deadLetter(sub: SubscriptionRow, row: LogRow, attempts: number, now: number): void {
    const deadTopicId = this.topicId(sub.deadLetterTopic!);
    const { next_seq: seq } = this.sql.topicNextSeq.get(deadTopicId) as { next_seq: number };
    const attributes = { ...(row.attributes ? JSON.parse(row.attributes) as Record<string, string> : {}), 'vigil-delivery-attempts': String(attempts) };
    this.sql.insertMessage.run(deadTopicId, seq, now, row.ordering_key, JSON.stringify(attributes), row.data);
    this.sql.setNextSeq.run(seq + 1, deadTopicId);
    this.sql.deleteLease.run(sub.subId, row.seq);
    this.logger?.warn({ subscription: sub.subId, attempts }, 'bus message moved to the dead-letter topic');
    queueMicrotask(() => {
      for (const s of this.subscribers) if (s.row.topicId === deadTopicId) s.wake(false);
    });
  }

  /** Drops log entries every subscription of their topic is done with. */
  private collectGarbage(): void {
    if (this.closed) return;
    try {
      this.transaction(() => {
        for (const t of this.sql.gcBounds.all() as { topic_id: number; low: number }[]) {
          this.sql.deleteLogBelow.run(t.topic_id, t.low, t.topic_id, DEFAULTS.gcRowsPerPass);
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
    this.db.exec('BEGIN IMMEDIATE');
    try {
      work();
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new VigilError('SHUTTING_DOWN', 'the bus is closed');
  }
}

/** One `subscribe` call: pulls leases for its subscription and feeds the handler, within maxInFlight. */
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
    const deliveries = claims.map((c) => new SqliteDelivery(this, c));
    for (let i = 0; i < deliveries.length; i += this.options.maxBatchSize) {
      this.dispatch(deliveries.slice(i, i + this.options.maxBatchSize));
    }
    // More may be waiting than this pull took; look again once this turn is over.
    if (claims.length === room) return;
    this.wake(false);
  }

  private dispatch(batch: SqliteDelivery[]): void {
    for (const d of batch) this.held.add(d);
    const expiry = setTimeout(() => {
      this.timers.delete(expiry);
      // The lease ran out: the bus may redeliver these elsewhere, so they stop counting here.
      for (const d of batch) if (d.expire()) this.held.delete(d);
      this.wake(false);
    }, this.options.ackDeadlineMs);
    this.timers.add(expiry);
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
        this.bus.release(this.row.subId, unsettled.map((d) => d.lease));
      } catch (error) {
        this.bus.logger?.warn({ err: error, messages: unsettled.length }, 'could not release leases on close; they expire at their deadline');
      }
      this.bus.forget(this);
    })());
  }

  settleLater(kind: 'ack' | 'nack', lease: { seq: number; attempts: number }): Promise<void> {
    return this.bus.settleLater(kind, this.row.subId, lease.seq, lease.attempts);
  }

  idOf(seq: number): string {
    return this.bus.idOf(this.row.topicId, seq);
  }
}

const EMPTY_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

class SqliteDelivery implements DeliveredMessage {
  readonly id: string;
  readonly data: Uint8Array;
  readonly attributes: Readonly<Record<string, string>>;
  readonly orderingKey?: string;
  readonly deliveryAttempt: number;
  readonly publishedAt: Date;
  readonly lease: { seq: number; attempts: number };
  private readonly subscriber: SqliteSubscriber;
  private state: 'open' | 'acked' | 'nacked' | 'expired' = 'open';

  constructor(subscriber: SqliteSubscriber, claim: Claim) {
    this.subscriber = subscriber;
    this.id = subscriber.idOf(claim.row.seq);
    this.data = claim.row.data;
    this.attributes = claim.row.attributes ? Object.freeze(JSON.parse(claim.row.attributes) as Record<string, string>) : EMPTY_ATTRIBUTES;
    if (claim.row.ordering_key !== null) this.orderingKey = claim.row.ordering_key;
    this.deliveryAttempt = claim.attempts;
    this.publishedAt = new Date(claim.row.published_at);
    this.lease = { seq: claim.row.seq, attempts: claim.attempts };
  }

  ack(): Promise<void> {
    // A late ack (after the lease expired) still counts: it saves a pointless redelivery.
    if (this.state === 'acked' || this.state === 'nacked') return Promise.resolve();
    this.state = 'acked';
    this.subscriber.settled(this);
    return this.subscriber.settleLater('ack', this.lease);
  }

  nack(): Promise<void> {
    if (this.state !== 'open') return Promise.resolve();
    this.state = 'nacked';
    this.subscriber.settled(this);
    return this.subscriber.settleLater('nack', this.lease);
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
    insertMessage: p('INSERT INTO messages (topic_id, seq, published_at, ordering_key, attributes, data) VALUES (?, ?, ?, ?, ?, ?)'),
    logAfter: p('SELECT seq, published_at, ordering_key, attributes, data FROM messages WHERE topic_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    logEntry: p('SELECT seq, published_at, ordering_key, attributes, data FROM messages WHERE topic_id = ? AND seq = ?'),
    dueLeases: p('SELECT seq, attempts FROM leases WHERE sub_id = ? AND visible_at <= ? ORDER BY seq LIMIT ?'),
    insertLease: p('INSERT INTO leases (sub_id, seq, visible_at, attempts) VALUES (?, ?, ?, 1)'),
    renewLease: p('UPDATE leases SET visible_at = ?, attempts = ? WHERE sub_id = ? AND seq = ?'),
    // Guarded by attempts so a stale nack cannot cut short a newer delivery's lease.
    nackLease: p('UPDATE leases SET visible_at = ? WHERE sub_id = ? AND seq = ? AND attempts = ?'),
    deleteLease: p('DELETE FROM leases WHERE sub_id = ? AND seq = ?'),
    // Per topic, the lowest seq still needed: the oldest lease or the first entry past a cursor.
    gcBounds: p(`SELECT t.topic_id AS topic_id, coalesce(min(coalesce(
        (SELECT min(l.seq) FROM leases l WHERE l.sub_id = s.sub_id), s.cursor + 1)), t.next_seq) AS low
      FROM topics t LEFT JOIN subscriptions s ON s.topic_id = t.topic_id GROUP BY t.topic_id`),
    deleteLogBelow: p(`DELETE FROM messages WHERE topic_id = ? AND seq < min(?,
      coalesce((SELECT min(seq) FROM messages WHERE topic_id = ?), 0) + ?)`),
  };
}

function validateSubscribeOptions(o: SubscribeOptions): void {
  const positive = ['maxBatchSize', 'maxInFlight', 'ackDeadlineMs'] as const;
  for (const key of positive) {
    if (!Number.isInteger(o[key]) || o[key] <= 0) throw new VigilError('CONFIG_INVALID', `subscribe: ${key} must be a positive integer`);
  }
  if (o.maxDeliveryAttempts !== undefined && (!Number.isInteger(o.maxDeliveryAttempts) || o.maxDeliveryAttempts < 1)) {
    throw new VigilError('CONFIG_INVALID', 'subscribe: maxDeliveryAttempts must be a positive integer');
  }
}

function asBackendError(error: unknown, what: string): VigilError {
  if (error instanceof VigilError) return error;
  // SQLITE_BUSY after the busy timeout: another process holds the lock; worth retrying.
  const busy = typeof error === 'object' && error !== null && /SQLITE_BUSY|database is locked/i.test(String((error as Error).message));
  return new VigilError(busy ? 'BACKEND_UNAVAILABLE' : 'BACKEND_REJECTED', `bus ${what} failed`, { cause: error });
}
