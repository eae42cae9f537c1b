// MQTT 3.1.1 control packets (OASIS mqtt-v3.1.1-os, section 3): what a client sends, and a
// reader that cuts the broker's byte stream into packets. Pure logic, no I/O.
import { utf8 } from "xsock/framing";

export const PacketType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
} as const;

export type QoS = 0 | 1 | 2;

/** The largest Remaining Length the protocol can say (four bytes of it). */
export const MAX_REMAINING = 268435455;

export interface Will {
  topic: string;
  message: Uint8Array;
  qos: QoS;
  retain: boolean;
}

export interface ConnectOptions {
  clientId: string;
  username?: string;
  password?: string;
  /** Seconds; 0 turns the keep-alive off. */
  keepalive: number;
  clean: boolean;
  will?: Will;
}

/** A packet from the broker: its type, the header's flags, and what follows the fixed header. */
export interface Packet {
  type: number;
  flags: number;
  body: Uint8Array;
}

export interface Publish {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** The packet identifier (QoS 1 and 2). */
  id: number;
}

/** Builds a packet from its parts, with the fixed header and Remaining Length in front. */
function packet(first: number, parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  if (length > MAX_REMAINING) throw new RangeError("an MQTT packet holds at most 268,435,455 bytes");
  const header = [first];
  let left = length;
  do {
    let digit = left % 128;
    left = Math.floor(left / 128);
    if (left > 0) digit |= 0x80;
    header.push(digit);
  } while (left > 0);
  const out = new Uint8Array(header.length + length);
  out.set(header);
  let at = header.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);

/** A UTF-8 string or binary field, with its two-byte length. */
function field(value: string | Uint8Array): Uint8Array {
  const bytes = typeof value === "string" ? utf8(value) : value;
  if (bytes.length > 0xffff) throw new RangeError("an MQTT string holds at most 65,535 bytes");
  const out = new Uint8Array(2 + bytes.length);
  out.set(u16(bytes.length));
  out.set(bytes, 2);
  return out;
}

export function connect(o: ConnectOptions): Uint8Array {
  let flags = o.clean ? 0x02 : 0;
  const payload = [field(o.clientId)];
  if (o.will) {
    flags |= 0x04 | (o.will.qos << 3) | (o.will.retain ? 0x20 : 0);
    payload.push(field(o.will.topic), field(o.will.message));
  }
  if (o.username !== undefined) {
    flags |= 0x80;
    payload.push(field(o.username));
  }
  if (o.password !== undefined) {
    flags |= 0x40;
    payload.push(field(o.password));
  }
  // Protocol name "MQTT", level 4 (3.1.1), the connect flags, the keep-alive.
  return packet(PacketType.CONNECT << 4, [field("MQTT"), Uint8Array.of(4, flags), u16(o.keepalive), ...payload]);
}

export function publish(p: Publish): Uint8Array {
  const first = (PacketType.PUBLISH << 4) | (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
  return packet(first, p.qos ? [field(p.topic), u16(p.id), p.payload] : [field(p.topic), p.payload]);
}

/** PUBACK, PUBREC, PUBREL (whose header flags are 0b0010) or PUBCOMP. */
export function ack(type: number, id: number): Uint8Array {
  return packet((type << 4) | (type === PacketType.PUBREL ? 2 : 0), [u16(id)]);
}

export function subscribe(id: number, topic: string, qos: QoS): Uint8Array {
  return packet((PacketType.SUBSCRIBE << 4) | 2, [u16(id), field(topic), Uint8Array.of(qos)]);
}

export function unsubscribe(id: number, topic: string): Uint8Array {
  return packet((PacketType.UNSUBSCRIBE << 4) | 2, [u16(id), field(topic)]);
}

export const pingreq = (): Uint8Array => Uint8Array.of(PacketType.PINGREQ << 4, 0);
export const disconnect = (): Uint8Array => Uint8Array.of(PacketType.DISCONNECT << 4, 0);

/** A packet's two-byte identifier (PUBACK and the others, SUBACK, UNSUBACK). */
export function packetId(body: Uint8Array): number {
  if (body.length < 2) throw new Error("malformed packet: no packet identifier");
  return (body[0] << 8) | body[1];
}

/** Reads a PUBLISH the broker sent. */
export function readPublish(p: Packet): Publish {
  const bits = (p.flags >> 1) & 3;
  if (bits === 3) throw new Error("malformed PUBLISH: QoS 3");
  const qos = bits as QoS;
  const b = p.body;
  if (b.length < 2) throw new Error("malformed PUBLISH: no topic");
  const topicLength = (b[0] << 8) | b[1];
  let at = 2 + topicLength;
  if (at + (qos ? 2 : 0) > b.length) throw new Error("malformed PUBLISH: topic past the end");
  const topic = String.fromArrayBuffer((b.buffer as ArrayBuffer).slice(b.byteOffset + 2, b.byteOffset + at));
  let id = 0;
  if (qos) {
    id = (b[at] << 8) | b[at + 1];
    at += 2;
  }
  return { topic, payload: b.subarray(at), qos, retain: (p.flags & 1) === 1, dup: (p.flags & 8) === 8, id };
}

/** Cuts a byte stream into packets, however the stream splits them. */
export class PacketReader {
  #buffered = new Uint8Array(0);

  /** Takes bytes; returns the packets they complete. Throws on a Remaining Length over four bytes. */
  push(bytes: Uint8Array): Packet[] {
    let buf = bytes;
    if (this.#buffered.length) {
      buf = new Uint8Array(this.#buffered.length + bytes.length);
      buf.set(this.#buffered);
      buf.set(bytes, this.#buffered.length);
    }
    const packets: Packet[] = [];
    let at = 0;
    for (;;) {
      if (buf.length - at < 2) break;
      let length = 0;
      let multiplier = 1;
      let i = at + 1;
      let complete = false;
      for (; i < buf.length && i < at + 5; i++) {
        length += (buf[i] & 0x7f) * multiplier;
        multiplier *= 128;
        if (!(buf[i] & 0x80)) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (i >= at + 5) throw new Error("malformed packet: Remaining Length over four bytes");
        break;
      }
      const start = i + 1;
      if (buf.length - start < length) break;
      packets.push({ type: buf[at] >> 4, flags: buf[at] & 0x0f, body: buf.slice(start, start + length) });
      at = start + length;
    }
    this.#buffered = buf.slice(at);
    return packets;
  }
}
