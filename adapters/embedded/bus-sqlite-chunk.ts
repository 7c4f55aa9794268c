import type { OutgoingMessage } from '../../core/ports/bus.ts';

/**
 * The embedded bus stores messages in chunks: one SQLite row holds up to `MAX_CHUNK_MESSAGES`
 * consecutive messages of a topic, so publishing, claiming and garbage-collecting cost one row
 * per chunk rather than one per message.
 *
 * Each message in a chunk body is: u32 data length, data, u16 ordering-key length (0xffff when
 * absent), key UTF-8, u32 attributes length (0 when none), attributes as JSON UTF-8.
 */
export const MAX_CHUNK_MESSAGES = 1_000;
export const MAX_CHUNK_BYTES = 256 * 1024;
const NO_KEY = 0xffff;

export interface ChunkEntry {
  readonly data: Uint8Array;
  readonly orderingKey: string | undefined;
  /** JSON text of the attributes, or undefined when there are none; parsed only when asked for. */
  readonly attributesJson: string | undefined;
}

/** Splits messages into runs that each fit one chunk, by count and bytes. */
export function chunkRuns(messages: readonly OutgoingMessage[]): OutgoingMessage[][] {
  const runs: OutgoingMessage[][] = [];
  let run: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.data.byteLength + 64;
    if (run.length > 0 && (run.length >= MAX_CHUNK_MESSAGES || bytes + size > MAX_CHUNK_BYTES)) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(m);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

export function encodeChunk(messages: readonly OutgoingMessage[]): Uint8Array {
  const keys: (Buffer | undefined)[] = [];
  const attributes: (Buffer | undefined)[] = [];
  let size = 0;
  for (const m of messages) {
    const key = m.orderingKey === undefined ? undefined : Buffer.from(m.orderingKey, 'utf8');
    if (key && key.length >= NO_KEY) throw new RangeError('ordering key too long');
    const attrs = m.attributes && Object.keys(m.attributes).length > 0 ? Buffer.from(JSON.stringify(m.attributes), 'utf8') : undefined;
    keys.push(key);
    attributes.push(attrs);
    size += 10 + m.data.byteLength + (key?.length ?? 0) + (attrs?.length ?? 0);
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  messages.forEach((m, i) => {
    at = out.writeUInt32LE(m.data.byteLength, at);
    out.set(m.data, at);
    at += m.data.byteLength;
    const key = keys[i];
    at = out.writeUInt16LE(key ? key.length : NO_KEY, at);
    if (key) at += key.copy(out, at);
    const attrs = attributes[i];
    at = out.writeUInt32LE(attrs?.length ?? 0, at);
    if (attrs) at += attrs.copy(out, at);
  });
  return out;
}

export function decodeChunk(body: Uint8Array, count: number): ChunkEntry[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const entries: ChunkEntry[] = new Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const dataLength = buf.readUInt32LE(at);
    at += 4;
    const data = body.subarray(at, at + dataLength);
    at += dataLength;
    const keyLength = buf.readUInt16LE(at);
    at += 2;
    let orderingKey: string | undefined;
    if (keyLength !== NO_KEY) {
      orderingKey = buf.toString('utf8', at, at + keyLength);
      at += keyLength;
    }
    const attrsLength = buf.readUInt32LE(at);
    at += 4;
    const attributesJson = attrsLength === 0 ? undefined : buf.toString('utf8', at, at + attrsLength);
    at += attrsLength;
    entries[i] = { data, orderingKey, attributesJson };
  }
  return entries;
}

/** Bitmaps of a lease's messages still waiting for an ack (bit i = message first_seq + i). */
export function fullBitmap(count: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(count / 8)).fill(0xff);
  if (count % 8 !== 0) bits[bits.length - 1] = (1 << (count % 8)) - 1;
  return bits;
}

export function bitmapOf(count: number, indexes: Iterable<number>): Uint8Array {
  const bits = new Uint8Array(Math.ceil(count / 8));
  for (const i of indexes) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

export function setBits(bits: Uint8Array): number[] {
  const out: number[] = [];
  for (let byte = 0; byte < bits.length; byte++) {
    const v = bits[byte]!;
    if (v === 0) continue;
    for (let b = 0; b < 8; b++) if (v & (1 << b)) out.push(byte * 8 + b);
  }
  return out;
}

export function hasBit(bits: Uint8Array, i: number): boolean {
  return ((bits[i >> 3] ?? 0) & (1 << (i & 7))) !== 0;
}

export function clearBit(bits: Uint8Array, i: number): void {
  bits[i >> 3]! &= ~(1 << (i & 7));
}

export function isEmpty(bits: Uint8Array): boolean {
  return bits.every((v) => v === 0);
}
