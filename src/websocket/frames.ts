// RFC 6455's framing (section 5), a client's side: frames out masked, frames in unmasked, and a
// reader that cuts the server's byte stream into frames. Pure logic, no I/O.

export const Opcode = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** What the reader gives: a data frame's payload piece by piece as it arrives, a control frame whole. */
export interface Piece {
  opcode: number;
  payload: Uint8Array;
  /** The frame's FIN bit: its message ends with this frame. */
  fin: boolean;
  /** The last piece of its frame. */
  end: boolean;
}

/** The server broke the protocol: the client fails the connection (RFC 6455, 7.1.7). */
export class ProtocolError extends Error {}

/** A client frame's head: FIN, the opcode, the mask bit, the length in its shortest form, the masking key. */
export function frameHead(opcode: number, length: number, mask: Uint8Array): Uint8Array {
  const size = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = new Uint8Array(2 + size + 4);
  head[0] = 0x80 | opcode;
  if (size === 0) head[1] = 0x80 | length;
  else if (size === 2) {
    head[1] = 0x80 | 126;
    head[2] = length >> 8;
    head[3] = length & 0xff;
  } else {
    head[1] = 0x80 | 127;
    const high = Math.floor(length / 0x100000000);
    for (let i = 0; i < 4; i++) {
      head[2 + i] = (high >>> (24 - 8 * i)) & 0xff;
      head[6 + i] = (length >>> (24 - 8 * i)) & 0xff;
    }
  }
  head.set(mask, 2 + size);
  return head;
}

/** XORs `bytes` with the masking key into `into`; `offset` is where `bytes` starts in the payload. */
export function maskInto(into: Uint8Array, at: number, bytes: Uint8Array, mask: Uint8Array, offset: number): void {
  for (let i = 0; i < bytes.length; i++) into[at + i] = bytes[i] ^ mask[(offset + i) & 3];
}

/** A whole client frame, FIN set, its payload masked. */
export function encodeFrame(opcode: number, payload: Uint8Array, mask: Uint8Array): Uint8Array {
  const head = frameHead(opcode, payload.length, mask);
  const frame = new Uint8Array(head.length + payload.length);
  frame.set(head);
  maskInto(frame, head.length, payload, mask, 0);
  return frame;
}

/** The server's frames, from its byte stream in whatever pieces it comes. */
export class FrameReader {
  #head = new Uint8Array(10);
  #headLength = 0;
  #frame?: { opcode: number; fin: boolean; remaining: number; control?: Uint8Array; filled: number };
  /** A fragmented message has begun and not ended: only continuation frames may come. */
  #inMessage = false;

  /** Takes bytes; returns the pieces they complete. Throws ProtocolError on a frame a server must not send. */
  push(bytes: Uint8Array): Piece[] {
    const pieces: Piece[] = [];
    let i = 0;
    while (i < bytes.length || this.#frame?.remaining === 0) {
      const f = this.#frame;
      if (!f) {
        this.#head[this.#headLength++] = bytes[i++];
        if (this.#headLength === 2) this.#check();
        if (this.#headLength >= 2 && this.#headLength === this.#headSize()) this.#begin();
        continue;
      }
      const n = Math.min(f.remaining, bytes.length - i);
      const piece = bytes.subarray(i, i + n);
      i += n;
      f.remaining -= n;
      if (f.control) {
        f.control.set(piece, f.filled);
        f.filled += n;
        if (!f.remaining) pieces.push({ opcode: f.opcode, payload: f.control, fin: true, end: true });
      } else pieces.push({ opcode: f.opcode, payload: piece, fin: f.fin, end: !f.remaining });
      if (!f.remaining) this.#frame = undefined;
    }
    return pieces;
  }

  #headSize(): number {
    const length = this.#head[1] & 0x7f;
    return length === 126 ? 4 : length === 127 ? 10 : 2;
  }

  /** The first two bytes: what a server may send (5.1, 5.2, 5.4, 5.5). */
  #check(): void {
    const [first, second] = this.#head;
    const opcode = first & 0x0f;
    const fin = (first & 0x80) !== 0;
    if (first & 0x70) throw new ProtocolError("a reserved bit set, with no extension agreed");
    if (second & 0x80) throw new ProtocolError("a masked frame from the server");
    if (opcode >= Opcode.close) {
      if (opcode > Opcode.pong) throw new ProtocolError(`opcode ${opcode}`);
      if (!fin || (second & 0x7f) > 125) throw new ProtocolError("a fragmented or long control frame");
      return;
    }
    if (opcode > Opcode.binary) throw new ProtocolError(`opcode ${opcode}`);
    if ((opcode === Opcode.continuation) !== this.#inMessage) throw new ProtocolError(this.#inMessage ? "a new message inside a fragmented one" : "a continuation frame with no message begun");
    this.#inMessage = !fin;
  }

  #begin(): void {
    const h = this.#head;
    let length = h[1] & 0x7f;
    if (length === 126) length = (h[2] << 8) | h[3];
    else if (length === 127) {
      // Lengths past 2^32 - 1 are refused, as ESP-IDF's transport refuses them.
      if (h[2] | h[3] | h[4] | h[5]) throw new ProtocolError("a frame longer than 4 GiB");
      length = ((h[6] << 24) | (h[7] << 16) | (h[8] << 8) | h[9]) >>> 0;
    }
    const opcode = h[0] & 0x0f;
    this.#frame = { opcode, fin: (h[0] & 0x80) !== 0, remaining: length, filled: 0, control: opcode >= Opcode.close ? new Uint8Array(length) : undefined };
    this.#headLength = 0;
  }
}
