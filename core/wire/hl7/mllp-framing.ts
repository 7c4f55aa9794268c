/**
 * MLLP (Minimal Lower Layer Protocol, HL7 v2 over TCP): each message is framed as
 * `<VT=0x0B> message <FS=0x1C><CR=0x0D>`.
 *
 * The deframer is a byte-stream state machine that never holds more than `maxFrameBytes` of one
 * frame. Bytes outside a frame (line noise, a port scanner, a half-sent frame after a reconnect)
 * are skipped and counted. A frame that grows past the limit is reported once as oversize and then
 * skipped up to its end marker, so the connection can carry on with the next frame.
 */
export const START_BLOCK = 0x0b;
export const END_BLOCK = 0x1c;
export const CARRIAGE_RETURN = 0x0d;

export type FrameProblem =
  /** Past `maxFrameBytes`; `head` holds the first bytes so the ACK can still echo MSH-10. */
  | { kind: 'oversize'; head: Buffer }
  /** A start block inside a frame, or FS not followed by CR: the frame so far is unusable. */
  | { kind: 'broken'; head: Buffer };

export interface DeframerEvents {
  frame(payload: Buffer): void;
  problem(problem: FrameProblem): void;
  /** Bytes skipped outside any frame. */
  garbage(bytes: number): void;
}

/** Bytes of an unusable frame kept for the dead letters and the ACK (enough for any MSH). */
const HEAD_BYTES = 4096;

export class MllpDeframer {
  readonly #maxFrameBytes: number;
  readonly #events: DeframerEvents;
  #state: 'outside' | 'inside' | 'afterFs' | 'skipping' | 'skippingAfterFs' = 'outside';
  #parts: Buffer[] = [];
  #length = 0;

  constructor(maxFrameBytes: number, events: DeframerEvents) {
    this.#maxFrameBytes = maxFrameBytes;
    this.#events = events;
  }

  /** True while part of a frame has been received and its end has not. */
  get midFrame(): boolean {
    return this.#state !== 'outside';
  }

  push(chunk: Buffer): void {
    let i = 0;
    let garbage = 0;
    while (i < chunk.length) {
      switch (this.#state) {
        case 'outside': {
          const start = chunk.indexOf(START_BLOCK, i);
          if (start === -1) {
            garbage += chunk.length - i;
            i = chunk.length;
          } else {
            garbage += start - i;
            i = start + 1;
            this.#state = 'inside';
          }
          break;
        }
        case 'inside': {
          const end = nextMarker(chunk, i);
          const stop = end === -1 ? chunk.length : end;
          if (!this.#append(chunk.subarray(i, stop))) break;
          i = stop;
          if (end !== -1) {
            i++;
            if (chunk[end] === START_BLOCK) this.#broken(); // a new frame starts before this one ended
            else this.#state = 'afterFs';
          }
          break;
        }
        case 'afterFs': {
          if (chunk[i] === CARRIAGE_RETURN) {
            i++;
            const payload = this.#take();
            this.#state = 'outside';
            this.#events.frame(payload);
          } else {
            this.#broken();
            this.#state = 'outside';
          }
          break;
        }
        case 'skipping': {
          const end = chunk.indexOf(END_BLOCK, i);
          if (end === -1) i = chunk.length;
          else {
            i = end + 1;
            this.#state = 'skippingAfterFs';
          }
          break;
        }
        case 'skippingAfterFs': {
          if (chunk[i] === CARRIAGE_RETURN) {
            i++;
            this.#state = 'outside';
          } else {
            this.#state = 'skipping';
          }
          break;
        }
      }
    }
    if (garbage > 0) this.#events.garbage(garbage);
  }

  /** Appends to the current frame; false (and skip mode) once the frame is over the limit. */
  #append(part: Buffer): boolean {
    if (this.#length + part.length > this.#maxFrameBytes) {
      if (this.#length < HEAD_BYTES) this.#parts.push(part.subarray(0, HEAD_BYTES - this.#length));
      const head = this.#take();
      this.#state = 'skipping';
      this.#events.problem({ kind: 'oversize', head });
      return false;
    }
    if (part.length > 0) {
      this.#parts.push(Buffer.from(part)); // copy: the socket may reuse its chunk
      this.#length += part.length;
    }
    return true;
  }

  #broken(): void {
    const whole = this.#take();
    this.#events.problem({ kind: 'broken', head: whole.subarray(0, HEAD_BYTES) });
    this.#state = 'inside';
  }

  #take(): Buffer {
    const whole = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
    this.#parts = [];
    this.#length = 0;
    return whole;
  }
}

function nextMarker(chunk: Buffer, from: number): number {
  const end = chunk.indexOf(END_BLOCK, from);
  const start = chunk.indexOf(START_BLOCK, from);
  if (start === -1) return end;
  if (end === -1) return start;
  return Math.min(start, end);
}

/** Wraps an HL7 message in an MLLP frame. */
export function frameMllp(message: string | Buffer): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  return Buffer.concat([Buffer.of(START_BLOCK), body, Buffer.of(END_BLOCK, CARRIAGE_RETURN)]);
}
