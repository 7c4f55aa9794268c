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
const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

/** One message of a decoded chunk; its key and attributes are turned into strings only when read. */
export class ChunkEntry {
  readonly data: Uint8Array;
  private readonly buf: Buffer;
  private readonly keyAt: number;
  private readonly keyLength: number;
  private readonly attrsAt: number;
  private readonly attrsLength: number;

  private readonly parsed: Map<string, Readonly<Record<string, string>>>;

  constructor(data: Uint8Array, buf: Buffer, keyAt: number, keyLength: number, attrsAt: number, attrsLength: number,
    parsed: Map<string, Readonly<Record<string, string>>>) {
    this.data = data;
    this.parsed = parsed;
    this.buf = buf;
    this.keyAt = keyAt;
    this.keyLength = keyLength;
    this.attrsAt = attrsAt;
    this.attrsLength = attrsLength;
  }

  orderingKey(): string | undefined {
    return this.keyLength === NO_KEY ? undefined : this.buf.toString('utf8', this.keyAt, this.keyAt + this.keyLength);
  }

  /**
   * The attributes, frozen. Messages of a chunk usually carry the same ones (readings all do), so
   * each distinct JSON text is parsed once per chunk and the object shared.
   */
  attributes(): Readonly<Record<string, string>> {
    if (this.attrsLength === 0) return NO_ATTRIBUTES;
    const json = this.buf.toString('utf8', this.attrsAt, this.attrsAt + this.attrsLength);
    let attributes = this.parsed.get(json);
    if (!attributes) {
      attributes = Object.freeze(JSON.parse(json) as Record<string, string>);
      this.parsed.set(json, attributes);
    }
    return attributes;
  }
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
  const attributes: (string | undefined)[] = new Array(messages.length);
  let size = 0;
  // Publishers tend to pass one shared attributes object for every message: stringify it once.
  let lastObject: Readonly<Record<string, string>> | undefined;
  let lastJson: string | undefined;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    let attrs: string | undefined;
    if (m.attributes && m.attributes === lastObject) attrs = lastJson;
    else if (m.attributes) {
      for (const _ in m.attributes) { attrs = JSON.stringify(m.attributes); break; }
      lastObject = m.attributes;
      lastJson = attrs;
    }
    attributes[i] = attrs;
    size += 10 + m.data.byteLength + (m.orderingKey === undefined ? 0 : Buffer.byteLength(m.orderingKey)) + (attrs === undefined ? 0 : Buffer.byteLength(attrs));
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    at = out.writeUInt32LE(m.data.byteLength, at);
    out.set(m.data, at);
    at += m.data.byteLength;
    if (m.orderingKey === undefined) at = out.writeUInt16LE(NO_KEY, at);
    else {
      const keyLength = out.write(m.orderingKey, at + 2, 'utf8');
      if (keyLength >= NO_KEY) throw new RangeError('ordering key too long');
      out.writeUInt16LE(keyLength, at);
      at += 2 + keyLength;
    }
    const attrs = attributes[i];
    if (attrs === undefined) at = out.writeUInt32LE(0, at);
    else {
      const attrsLength = out.write(attrs, at + 4, 'utf8');
      out.writeUInt32LE(attrsLength, at);
      at += 4 + attrsLength;
    }
  }
  return out;
}

export function decodeChunk(body: Uint8Array, count: number): ChunkEntry[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const entries: ChunkEntry[] = new Array(count);
  const parsed = new Map<string, Readonly<Record<string, string>>>();
  let at = 0;
  for (let i = 0; i < count; i++) {
    const dataLength = buf.readUInt32LE(at);
    const data = body.subarray(at + 4, at + 4 + dataLength);
    at += 4 + dataLength;
    const keyLength = buf.readUInt16LE(at);
    const keyAt = at + 2;
    at = keyAt + (keyLength === NO_KEY ? 0 : keyLength);
    const attrsLength = buf.readUInt32LE(at);
    entries[i] = new ChunkEntry(data, buf, keyAt, keyLength, at + 4, attrsLength, parsed);
    at += 4 + attrsLength;
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
