// The length-prefixed message protocol `<N>_<payload>`: N counts every byte of the frame,
// its own digits and the underscore included. Pure logic.
import { SocketError } from "./errors";

/** Frames of up to 9,999,999 bytes: a header with more digits is refused. */
export const MAX_DIGITS = 7;

/** UTF-8 bytes of a string (lone surrogates become U+FFFD, as TextEncoder does). */
export function utf8(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    let c = ch.codePointAt(0)!;
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

export function toBytes(data: string | ArrayBufferLike | ArrayBufferView): Uint8Array {
  if (typeof data === "string") return utf8(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** The frame for a payload, with the smallest N that counts itself. */
export function encodeFrame(payload: string | ArrayBufferLike | ArrayBufferView): Uint8Array {
  const body = toBytes(payload);
  let digits = 1;
  while (String(body.length + 1 + digits).length !== digits) digits++;
  const header = utf8(`${body.length + 1 + digits}_`);
  if (header.length - 1 > MAX_DIGITS) throw new SocketError("EINVAL", "message too long to frame");
  const frame = new Uint8Array(header.length + body.length);
  frame.set(header);
  frame.set(body, header.length);
  return frame;
}

/** Splits a byte stream into frame payloads; a bad header throws, and the stream is then unusable. */
export class FrameDecoder {
  private buffer = new Uint8Array(0);
  private broken?: SocketError;

  /** Takes bytes; returns the payloads they complete. */
  push(bytes: Uint8Array): Uint8Array[] {
    if (this.broken) throw this.broken;
    const joined = new Uint8Array(this.buffer.length + bytes.length);
    joined.set(this.buffer);
    joined.set(bytes, this.buffer.length);
    this.buffer = joined;
    const frames: Uint8Array[] = [];
    for (;;) {
      const size = this.header();
      if (size === undefined || this.buffer.length < size.total) break;
      frames.push(this.buffer.slice(size.headerLength, size.total));
      this.buffer = this.buffer.subarray(size.total);
    }
    return frames;
  }

  /** Bytes held toward the next frame. */
  get pending(): number {
    return this.buffer.length;
  }

  private fail(why: string): never {
    this.broken = new SocketError("EINVAL", `bad frame header: ${why}`);
    throw this.broken;
  }

  private header(): { total: number; headerLength: number } | undefined {
    let n = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c === 0x5f /* _ */) {
        if (i === 0) this.fail("no length");
        if (n < i + 1) this.fail(`length ${n} is shorter than its own header`);
        return { total: n, headerLength: i + 1 };
      }
      if (c < 0x30 || c > 0x39) this.fail(`0x${c.toString(16).padStart(2, "0")} where a digit belongs`);
      if (i === 0 && c === 0x30) this.fail("a leading zero");
      if (i >= MAX_DIGITS) this.fail(`more than ${MAX_DIGITS} digits`);
      n = n * 10 + (c - 0x30);
    }
    return undefined;
  }
}
