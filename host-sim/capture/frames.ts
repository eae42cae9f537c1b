// Ethernet frames as the board's network interface would carry them: IPv4 or IPv6, with TCP,
// UDP or ICMP, their checksums computed; and the DHCP and DNS messages the simulator plays.
import { isIPv4, isIPv6 } from "node:net";

export const ETHERTYPE = { IPV4: 0x0800, IPV6: 0x86dd } as const;
export const PROTO = { ICMP: 1, TCP: 6, UDP: 17 } as const;
export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** Parsed once each: a run has few addresses, and every frame names two. */
const parsed = new Map<string, Buffer>();
function cached(key: string, parse: () => Buffer): Buffer {
  let bytes = parsed.get(key);
  if (!bytes) {
    if (parsed.size > 1000) parsed.clear();
    parsed.set(key, (bytes = parse()));
  }
  return bytes;
}

export const macBytes = (mac: string) => cached(mac, () => Buffer.from(mac.replaceAll(":", ""), "hex"));

/** An address as Node reports it, as IPv4 when it is IPv4-mapped. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

export const ipBytes = (address: string): Buffer => cached(address, () => parseIp(address));

function parseIp(address: string): Buffer {
  const a = plainAddress(address);
  if (isIPv4(a)) return Buffer.from(a.split(".").map(Number));
  if (!isIPv6(a)) throw new Error(`not an IP address: ${address}`);
  const [head, tail = ""] = a.split("::");
  const groups = (s: string) => (s ? s.split(":") : []);
  let left = groups(head);
  let right = a.includes("::") ? groups(tail) : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4 was handled; others are rare) becomes two groups.
  const v4 = (list: string[]) => list.flatMap((g) => (g.includes(".") ? [Buffer.from(g.split(".").map(Number)).readUInt16BE(0).toString(16), Buffer.from(g.split(".").map(Number)).readUInt16BE(2).toString(16)] : [g]));
  left = v4(left);
  right = v4(right);
  const all = a.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return b;
}

/** The 16-bit one's complement sum (RFC 1071) of bytes `start` to `end`, added to `sum`, unfolded. */
function sum16(b: Uint8Array, start = 0, end = b.length, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return sum;
}

/** The Internet checksum of a sum16. */
function checksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export interface Ends {
  srcMac: string;
  dstMac: string;
  src: string;
  dst: string;
}

/**
 * An Ethernet frame with an IP packet of `protocol`, built in one buffer: `length` bytes of
 * payload that `fill` writes at the offset given, and the transport checksum at `checksumAt`
 * (from the payload's start) over the pseudo-header and the payload.
 */
function frame(ends: Ends, protocol: number, length: number, headerLength: number, fill: (b: Buffer, at: number) => void, checksumAt?: number): Buffer {
  const src = ipBytes(ends.src);
  const dst = ipBytes(ends.dst);
  if (src.length !== dst.length) throw new Error(`an IPv4 and an IPv6 address in one packet: ${ends.src}, ${ends.dst}`);
  const v6 = src.length === 16;
  const at = 14 + (v6 ? 40 : 20);
  // Unzeroed (it is most of the cost at full rate): the headers are zeroed, the payload written whole.
  const b = Buffer.allocUnsafe(at + length);
  b.fill(0, 0, at + headerLength);
  macBytes(ends.dstMac).copy(b, 0);
  macBytes(ends.srcMac).copy(b, 6);
  b.writeUInt16BE(v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IPV4, 12);
  if (v6) {
    b.writeUInt32BE(0x60000000, 14);
    b.writeUInt16BE(length, 18);
    b[20] = protocol;
    b[21] = 64;
    src.copy(b, 22);
    dst.copy(b, 38);
  } else {
    b[14] = 0x45;
    b.writeUInt16BE(20 + length, 16);
    b.writeUInt16BE(0x4000, 20); // don't fragment
    b[22] = 64;
    b[23] = protocol;
    src.copy(b, 26);
    dst.copy(b, 30);
    b.writeUInt16BE(checksum(sum16(b, 14, 34)), 24);
  }
  fill(b, at);
  if (checksumAt !== undefined) {
    // The pseudo-header: both addresses, the protocol and the length.
    const sum = checksum(sum16(b, at, b.length, sum16(src) + sum16(dst) + protocol + length));
    b.writeUInt16BE(protocol === PROTO.UDP && sum === 0 ? 0xffff : sum, at + checksumAt);
  }
  return b;
}

export function tcpFrame(ends: Ends, ports: { src: number; dst: number }, seq: number, ack: number, flags: number, window: number, data: Uint8Array = new Uint8Array(0)): Buffer {
  const fill = (b: Buffer, at: number) => {
    b.writeUInt16BE(ports.src, at);
    b.writeUInt16BE(ports.dst, at + 2);
    b.writeUInt32BE(seq >>> 0, at + 4);
    b.writeUInt32BE(flags & TCP_FLAGS.ACK ? ack >>> 0 : 0, at + 8);
    b[at + 12] = 5 << 4;
    b[at + 13] = flags;
    b.writeUInt16BE(window, at + 14); // lwIP's window (TCP_WND)
    b.set(data, at + 20);
  };
  return frame(ends, PROTO.TCP, 20 + data.length, 20, fill, 16);
}

export function udpFrame(ends: Ends, ports: { src: number; dst: number }, data: Uint8Array): Buffer {
  const fill = (b: Buffer, at: number) => {
    b.writeUInt16BE(ports.src, at);
    b.writeUInt16BE(ports.dst, at + 2);
    b.writeUInt16BE(8 + data.length, at + 4);
    b.set(data, at + 8);
  };
  return frame(ends, PROTO.UDP, 8 + data.length, 8, fill, 6);
}

/** An ICMP message (type, code, checksum and the rest as given); its checksum is computed. */
export function icmpFrame(ends: Ends, message: Uint8Array): Buffer {
  const icmp = Buffer.from(message);
  icmp.writeUInt16BE(0, 2);
  icmp.writeUInt16BE(checksum(sum16(icmp)), 2);
  return frame(ends, PROTO.ICMP, icmp.length, 0, (b, at) => icmp.copy(b, at));
}

/** DHCP's message types (RFC 2132, option 53). */
export const DHCP = { DISCOVER: 1, OFFER: 2, REQUEST: 3, ACK: 5 } as const;

/** A BOOTP/DHCP message (RFC 2131) for the client `mac`. */
export function dhcpMessage(type: number, mac: string, xid: number, lease: { ip: string; server: string; netmask: string; router: string; dns: string[] }): Buffer {
  const fromClient = type === DHCP.DISCOVER || type === DHCP.REQUEST;
  const b = Buffer.alloc(240);
  b[0] = fromClient ? 1 : 2; // BOOTREQUEST or BOOTREPLY
  b[1] = 1; // Ethernet
  b[2] = 6;
  b.writeUInt32BE(xid, 4);
  b.writeUInt16BE(0x8000, 10); // broadcast
  if (!fromClient) ipBytes(lease.ip).copy(b, 16); // yiaddr
  macBytes(mac).copy(b, 28);
  b.writeUInt32BE(0x63825363, 236); // the magic cookie
  const opt = (code: number, value: Buffer) => Buffer.concat([Buffer.of(code, value.length), value]);
  const opts = [opt(53, Buffer.of(type))];
  if (type === DHCP.REQUEST) opts.push(opt(50, ipBytes(lease.ip)), opt(54, ipBytes(lease.server)));
  if (fromClient) opts.push(opt(55, Buffer.of(1, 3, 6)));
  else {
    const seconds = Buffer.alloc(4);
    seconds.writeUInt32BE(7200);
    opts.push(opt(54, ipBytes(lease.server)), opt(51, seconds), opt(1, ipBytes(lease.netmask)), opt(3, ipBytes(lease.router)), opt(6, Buffer.concat(lease.dns.map(ipBytes))));
  }
  return Buffer.concat([b, ...opts, Buffer.of(255)]);
}

function dnsName(name: string): Buffer {
  const labels = name.replace(/\.$/, "").split(".").filter(Boolean);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.of(Buffer.byteLength(l)), Buffer.from(l)])), Buffer.of(0)]);
}

/** A DNS query for `name`'s A record, or its answer (`address`, or none: NXDOMAIN). */
export function dnsMessage(id: number, name: string, answer?: { address?: string }): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(answer ? (answer.address ? 0x8180 : 0x8183) : 0x0100, 2); // a response (RD RA, NXDOMAIN without an address) or a query (RD)
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answer?.address ? 1 : 0, 6);
  const question = Buffer.concat([dnsName(name), Buffer.of(0, 1, 0, 1)]); // type A, class IN
  if (!answer?.address) return Buffer.concat([head, question]);
  const record = Buffer.alloc(12);
  record.writeUInt16BE(0xc00c, 0); // the name, as in the question
  record.writeUInt16BE(1, 2);
  record.writeUInt16BE(1, 4);
  record.writeUInt32BE(60, 6);
  record.writeUInt16BE(4, 10);
  return Buffer.concat([head, question, record, ipBytes(answer.address)]);
}
