import { describe, expect, it, vi } from 'vitest';
import type { RawReading } from '../core/domain/reading.ts';
import type { Logger } from '../core/observability/logger.ts';
import { createMetrics } from '../core/observability/metrics.ts';
import { decodeReading, encodeReading } from '../core/wire/reading-codec.ts';
import { recordingBus } from '../dashboard-api/test-fixtures.ts';
import type { ReadingPublisherOptions } from './reading-publisher.ts';
import { createReadingPublisher } from './reading-publisher.ts';
import { budget, waitFor } from '../core/contracts/wait-for.ts';

function raw(i: number, patientId = `P${i % 3}`, source = 'json'): RawReading {
  return {
    readingId: `r${i}`, deviceId: 'bed-1', patientId, observedAt: 1_800_000_000_000 + i, receivedAt: 1_800_000_000_000 + i,
    source, heartRate: 70 + (i % 30), bloodPressure: '120/80', temperature: 37, temperatureUnit: 'C',
    spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
  };
}
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => raw(from + i));

function setup(options: Partial<ReadingPublisherOptions> = {}) {
  const recording = recordingBus();
  const metrics = createMetrics({ defaultMetrics: false });
  const publisher = createReadingPublisher({ bus: recording.bus, topic: 't', metrics, ...options });
  return { recording, metrics, publisher };
}

describe('createReadingPublisher', () => {
  it('coalesces concurrent calls into one bus publish, in call order', async () => {
    const { recording, publisher } = setup({ maxBatchDelayMs: 20 });
    await Promise.all([publisher.publish(range(2, 0)), publisher.publish(range(3, 2)), publisher.publish(range(1, 5))]);
    expect(recording.calls).toHaveLength(1);
    expect(recording.calls[0]!.map((m) => decodeReading(m.data).readingId)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    expect(recording.calls[0]!.map((m) => m.orderingKey)).toEqual(['P0', 'P1', 'P2', 'P0', 'P1', 'P2']);
  });

  it('bounds batches by count', async () => {
    const { recording, publisher } = setup({ maxBatchMessages: 4, maxBatchDelayMs: 1000 });
    const started = Date.now();
    await publisher.publish(range(10));
    expect(recording.calls.map((c) => c.length)).toEqual([4, 4, 2]);
    // The last, partial batch waits for its age bound, not for more readings.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('bounds batches by bytes', async () => {
    const size = encodeReading(raw(0)).byteLength;
    const { recording, publisher } = setup({ maxBatchBytes: size * 3 + 1, maxBatchDelayMs: 0 });
    await publisher.publish(range(7));
    expect(recording.calls.map((c) => c.length)).toEqual([3, 3, 1]);
    for (const call of recording.calls) expect(call.reduce((n, m) => n + m.data.byteLength, 0)).toBeLessThanOrEqual(size * 3 + 1);
  });

  it('bounds batches by age', async () => {
    const { recording, publisher } = setup({ maxBatchDelayMs: 30 });
    const started = Date.now();
    await publisher.publish(range(1));
    const waited = Date.now() - started;
    expect(recording.calls).toHaveLength(1);
    expect(waited).toBeGreaterThanOrEqual(25);
    expect(waited, 'the age bound, not an unbounded wait').toBeLessThan(budget(1000));
  });

  it('counts ingested readings per source once the bus accepted them', async () => {
    const { publisher, metrics } = setup({ maxBatchDelayMs: 0 });
    await publisher.publish([raw(1, 'P1', 'json'), raw(2, 'P1', 'fhir'), raw(3, 'P1', 'json')]);
    const values = (await metrics.readingsIngested.get()).values;
    expect(Object.fromEntries(values.map((v) => [v.labels.source, v.value]))).toEqual({ json: 2, fhir: 1 });
  });

  it('refuses a call that would exceed maxPending, and accepts again once the bus caught up', async () => {
    const { recording, publisher } = setup({ maxPending: 5, maxBatchDelayMs: 0 });
    recording.hold();
    const first = publisher.publish(range(4));
    expect(publisher.pending).toBe(4);
    await expect(publisher.publish(range(2, 4))).rejects.toMatchObject({ code: 'BACKPRESSURE', retriable: true, status: 503 });
    recording.release();
    await first;
    expect(publisher.pending).toBe(0);
    await expect(publisher.publish(range(5, 10))).resolves.toBeUndefined();
  });

  it('rejects exactly the calls whose batch failed, and frees their pending slots', async () => {
    const { recording, publisher } = setup({ maxBatchMessages: 2, maxBatchDelayMs: 0 });
    recording.failNext(Object.assign(new Error('broker down'), { code: 'ECONNREFUSED' }));
    const failing = publisher.publish(range(2));
    await expect(failing).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', retriable: true });
    recording.failNext(undefined);
    await expect(publisher.publish(range(2))).resolves.toBeUndefined();
    expect(publisher.pending).toBe(0);
  });

  it('a call spanning batches fails if any of its batches fails', async () => {
    const { recording, publisher } = setup({ maxBatchMessages: 2, maxBatchDelayMs: 0 });
    let calls = 0;
    const publish = recording.bus.publish.bind(recording.bus);
    recording.bus.publish = async (topic, messages) => {
      if (++calls === 2) throw new Error('second batch refused');
      return publish(topic, messages);
    };
    await expect(publisher.publish(range(5))).rejects.toMatchObject({ code: 'BACKEND_REJECTED' });
    // The call is refused as soon as one batch fails; the others still settle and free their slots.
    await waitFor(() => publisher.pending === 0, 1_000, 'the other batches to settle and free their slots', () => `${publisher.pending} still pending`);
  });

  it('close() flushes what waits, settles in-flight publishes and refuses new calls', async () => {
    const { recording, publisher } = setup({ maxBatchDelayMs: 60_000 });
    const waiting = publisher.publish(range(3));
    await publisher.close();
    await expect(waiting).resolves.toBeUndefined();
    expect(recording.calls.flat()).toHaveLength(3);
    await expect(publisher.publish(range(1))).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });

  // recordingBus().hold() is a Bus whose publish does not settle until released: it stands for a
  // bus client that hangs (Pub/Sub unreachable), so this exercises the publisher's own bound.
  it('rejects retriably once the bus has not confirmed within publishTimeoutMs, and logs the state change once', async () => {
    const logger = { warn: vi.fn(), info: vi.fn() } as unknown as Logger;
    const { recording, publisher } = setup({ publishTimeoutMs: 200, maxBatchDelayMs: 0, logger });
    recording.hold();
    const started = Date.now();
    const calls = [publisher.publish(range(2)), publisher.publish(range(2, 2)), publisher.publish(range(2, 4))];
    for (const call of calls) await expect(call).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', retriable: true, status: 503 });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited, 'the bound plus generous scheduling margin').toBeLessThan(budget(2_000));
    expect(logger.warn).toHaveBeenCalledTimes(1);
    // Still held by the bus client: counted until the bus settles them.
    expect(publisher.pending).toBe(6);
    recording.release();
    await expect(publisher.publish(range(1, 10))).resolves.toBeUndefined();
    expect(publisher.pending).toBe(0);
    expect(logger.info).toHaveBeenCalledTimes(1);
  });

  it('a hung bus fills maxPending and later calls are refused at once, not queued', async () => {
    // The bound scales with the machine like the margin below, so "at once" stays shorter than it.
    const { recording, publisher } = setup({ publishTimeoutMs: budget(1_000), maxPending: 4, maxBatchDelayMs: 0 });
    recording.hold();
    await expect(publisher.publish(range(4))).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    const started = Date.now();
    await expect(publisher.publish(range(1, 4))).rejects.toMatchObject({ code: 'BACKPRESSURE', retriable: true });
    expect(Date.now() - started, 'refused without waiting for the bound').toBeLessThan(budget(800));
    recording.release();
    await waitFor(() => publisher.pending === 0, 5_000, 'the released bus to settle every pending reading', () => `${publisher.pending} still pending`);
    await expect(publisher.publish(range(4, 4))).resolves.toBeUndefined();
  });

  it('close() does not wait on a hung bus past the publish bound', async () => {
    const { recording, publisher } = setup({ publishTimeoutMs: 200, maxBatchDelayMs: 0 });
    recording.hold();
    // The rejection is awaited only after close(), so it is observed from the start.
    const call = expect(publisher.publish(range(1))).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    const started = Date.now();
    await publisher.close();
    expect(Date.now() - started, 'the bound plus a generous margin').toBeLessThan(budget(2_000));
    await call;
    recording.release();
  });

  it('fails fast on bad options', () => {
    expect(() => setup({ publishTimeoutMs: 0 })).toThrow(/publishTimeoutMs/);
    expect(() => setup({ maxBatchMessages: 0 })).toThrow(/maxBatchMessages/);
    expect(() => setup({ maxPending: 1.5 })).toThrow(/maxPending/);
    expect(() => setup({ maxBatchDelayMs: -1 })).toThrow(/maxBatchDelayMs/);
  });
});
