// The WebSocket client's framing (src/websocket/frames.ts, RFC 6455 section 5) and its
// handshake key (src/websocket/accept.ts, section 4), against RFC 6455's own examples, Node's
// crypto, and frames cut at every point.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { importFirmware } from "../helpers/firmware-module.ts";
import { runs } from "../helpers/fuzz.ts";

interface Piece {
  opcode: number;
  payload: Uint8Array;
  fin: boolean;
  end: boolean;
}
interface Frames {
  Opcode: Record<"continuation" | "text" | "binary" | "close" | "ping" | "pong", number>;
  encodeFrame(opcode: number, payload: Uint8Array, mask: Uint8Array): Uint8Array;
  frameHead(opcode: number, length: number, mask: Uint8Array): Uint8Array;
  FrameReader: new () => { push(bytes: Uint8Array): Piece[] };
  ProtocolError: new (message: string) => Error;
  sha1(bytes: Uint8Array): Uint8Array;
  base64(bytes: Uint8Array): string;
  acceptKey(key: string): string;
}
let W: Frames;

/** A server's frame: unmasked, with the given FIN bit and length form. */
function serverFrame(opcode: number, payload: Uint8Array, fin = true, form: "short" | "16" | "64" = payload.length < 126 ? "short" : payload.length < 65536 ? "16" : "64"): Buffer {
  const head = [(fin ? 0x80 : 0) | opcode];
  if (form === "short") head.push(payload.length);
  else if (form === "16") head.push(126, payload.length >> 8, payload.length & 255);
  else head.push(127, 0, 0, 0, 0, (payload.length >>> 24) & 255, (payload.length >> 16) & 255, (payload.length >> 8) & 255, payload.length & 255);
  return Buffer.concat([Buffer.from(head), payload]);
}

/** The reader's pieces, fed the stream cut at the given points. */
function read(stream: Buffer, cuts: number[]): Piece[] {
  const reader = new W.FrameReader();
  const points = [...new Set([0, ...cuts.map((c) => c % (stream.length + 1)), stream.length])].sort((a, b) => a - b);
  const pieces: Piece[] = [];
  for (let i = 1; i < points.length; i++) pieces.push(...reader.push(stream.subarray(points[i - 1], points[i])));
  return pieces;
}

describe("WebSocket framing (RFC 6455)", () => {
  before(async () => {
    W = await importFirmware<Frames>(`export * from "xsock/websocket-frames"; export * from "xsock/websocket-accept";`);
  });

  it("4.2.2: the Sec-WebSocket-Accept of the RFC's example key", () => {
    assert.equal(W.acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("SHA-1 and base64 agree with Node's for any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        assert.equal(Buffer.from(W.sha1(bytes)).toString("hex"), createHash("sha1").update(bytes).digest("hex"));
        assert.equal(W.base64(bytes), Buffer.from(bytes).toString("base64"));
      }),
      { numRuns: runs(300) },
    );
  });

  it("5.7: the RFC's masked \"Hello\" frame, byte for byte", () => {
    const frame = W.encodeFrame(W.Opcode.text, Buffer.from("Hello"), Uint8Array.of(0x37, 0xfa, 0x21, 0x3d));
    assert.deepEqual([...frame], [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  });

  it("5.2: a client frame's length in its shortest form (7 bits to 125, 16 bits to 65535, then 64), masked, unmasking to the payload", () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 125, 126, 127, 65535, 65536, 70000), fc.uint8Array({ minLength: 4, maxLength: 4 }), (length, mask) => {
        const payload = Buffer.alloc(length, 0xa5);
        const frame = Buffer.from(W.encodeFrame(W.Opcode.binary, payload, mask));
        assert.equal(frame[0], 0x82, "FIN and binary");
        assert.equal(frame[1] & 0x80, 0x80, "masked");
        const size = length < 126 ? 0 : length < 65536 ? 2 : 8;
        assert.equal(frame[1] & 0x7f, size === 0 ? length : size === 2 ? 126 : 127);
        const said = size === 0 ? length : size === 2 ? frame.readUInt16BE(2) : Number(frame.readBigUInt64BE(2));
        assert.equal(said, length);
        assert.deepEqual([...frame.subarray(2 + size, 6 + size)], [...mask]);
        const body = frame.subarray(6 + size);
        assert.equal(body.length, length);
        assert.ok(body.every((b, i) => (b ^ mask[i & 3]) === 0xa5), "the payload, masked");
      }),
      { numRuns: runs(50) },
    );
  });

  it("5.4, 5.5: messages fragmented into frames of every length form, with control frames between, cut anywhere, read back whole and in order", () => {
    const frame = fc.record({ payload: fc.uint8Array({ maxLength: 300 }), form: fc.constantFrom("short", "16", "64") as fc.Arbitrary<"short" | "16" | "64"> });
    const message = fc.record({ fragments: fc.array(frame, { minLength: 1, maxLength: 4 }), ping: fc.option(fc.uint8Array({ maxLength: 125 })) });
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 8 }), (messages, cuts) => {
        const parts: Buffer[] = [];
        const expected: string[] = [];
        for (const m of messages) {
          m.fragments.forEach((f, i) => {
            const form = f.form === "short" && f.payload.length > 125 ? "16" : f.form;
            parts.push(serverFrame(i ? W.Opcode.continuation : W.Opcode.binary, f.payload, i === m.fragments.length - 1, form));
            // A control frame may come between a message's fragments (5.4).
            if (i === 0 && m.ping) parts.push(serverFrame(W.Opcode.ping, m.ping));
          });
          const ping = m.ping ? [`ping:${Buffer.from(m.ping).toString("hex")}`] : [];
          const data = `data:${Buffer.concat(m.fragments.map((f) => f.payload)).toString("hex")}`;
          // A ping after a message's first frame comes before its end, unless that frame was its last.
          expected.push(...(m.fragments.length > 1 ? [...ping, data] : [data, ...ping]));
        }
        const got: string[] = [];
        let data: Buffer[] = [];
        for (const p of read(Buffer.concat(parts), cuts)) {
          if (p.opcode === W.Opcode.ping) got.push(`ping:${Buffer.from(p.payload).toString("hex")}`);
          else data.push(Buffer.from(p.payload));
          if (p.opcode !== W.Opcode.ping && p.fin && p.end) {
            got.push(`data:${Buffer.concat(data).toString("hex")}`);
            data = [];
          }
        }
        // The ping is read as soon as it is whole, before the message it interrupts ends.
        assert.deepEqual(got, expected);
      }),
      { numRuns: runs(300) },
    );
  });

  it("5.5.1: a close frame comes whole, its status code first", () => {
    const pieces = read(serverFrame(W.Opcode.close, Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65])), [1, 3]);
    assert.deepEqual(pieces.map((p) => [p.opcode, Buffer.from(p.payload).toString("hex"), p.fin, p.end]), [[8, "03e8627965", true, true]]);
  });

  it("fails the connection on what a server must not send: a mask, reserved bits, an unknown opcode, a long or fragmented control frame, a stray continuation, a message inside another", () => {
    const bad = [
      Buffer.from([0x82, 0x81, 1, 2, 3, 4, 0]), // masked
      Buffer.from([0xc2, 0x00]), // RSV1
      Buffer.from([0x83, 0x00]), // opcode 3
      Buffer.from([0x8b, 0x00]), // opcode 11
      serverFrame(W.Opcode.ping, Buffer.alloc(126), true, "16"),
      serverFrame(W.Opcode.ping, Buffer.alloc(1), false),
      serverFrame(W.Opcode.continuation, Buffer.alloc(1)),
      Buffer.concat([serverFrame(W.Opcode.binary, Buffer.alloc(1), false), serverFrame(W.Opcode.binary, Buffer.alloc(1))]),
      Buffer.from([0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0]), // 2^32 bytes
    ];
    for (const stream of bad) assert.throws(() => new W.FrameReader().push(stream), W.ProtocolError, stream.toString("hex"));
  });
});
