// ICMP echo (ping) on a raw socket; ICMPv6 echo on ESP-IDF's esp_ping (xsock/ping-native), as
// Moddable's raw sockets are IPv4 only.
import PingNative from "xsock/ping-native";
import { familyOf } from "./address";
import { socket } from "./bsd-socket";
import { AF_INET, AF_INET6, AF_UNSPEC, IPPROTO_ICMP, SOCK_RAW } from "./constants";
import { SocketError } from "./errors";
import { resolveAny, resolveHost } from "./resolve";

/** The Internet checksum (RFC 1071) of the bytes. */
function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

function echoRequest(id: number, seq: number): Uint8Array {
  const packet = new Uint8Array(64);
  packet.set([8, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff]);
  for (let i = 8; i < packet.length; i++) packet[i] = i;
  const sum = checksum(packet);
  packet[2] = sum >> 8;
  packet[3] = sum & 0xff;
  return packet;
}

export interface EchoReply {
  /** Round trip, in ms. */
  time: number;
  from: string;
  ttl: number;
  /** ICMP bytes (header and data). */
  bytes: number;
}

/** One ICMPv6 echo on esp_ping: the round trip, or ETIMEDOUT. */
function echo6(address: string, timeoutMs: number): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    new PingNative({
      address,
      timeout: timeoutMs,
      onReply: (ms) => (ms === undefined ? reject(new SocketError("ETIMEDOUT", `no echo reply from ${address}`)) : resolve({ time: ms, from: address, ttl: 0, bytes: 0 })),
    });
  });
}

/**
 * Sends one echo request (56 data bytes) to host (a name, an IPv4 or an IPv6 address) and waits
 * up to timeoutMs for its reply. A name takes the DNS's one answer (IPv4's, else IPv6's), or an
 * address of `family` only. Throws TimeoutError (ETIMEDOUT) when none comes, EPERM where raw
 * sockets are not allowed. An IPv6 echo's reply has no ttl and byte count (esp_ping keeps them).
 */
export async function ping(host: string, timeoutMs = 1000, seq = 1, family = AF_UNSPEC): Promise<EchoReply> {
  const address = family === AF_UNSPEC ? await resolveAny(host) : await resolveHost(host, family);
  if (familyOf(address) === AF_INET6) return echo6(address, timeoutMs);
  const s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  // Each request its own identifier: a raw socket hears every echo reply to the host, and two
  // pings at once must not take each other's.
  const id = Math.floor(Math.random() * 0x10000);
  try {
    s.settimeout(timeoutMs);
    const sent = Date.now();
    await s.sendto(echoRequest(id, seq), [address, 0]);
    for (;;) {
      const [packet, [from]] = await s.recvfrom(1500);
      const icmp = packet.subarray((packet[0] & 0x0f) * 4); // after the IPv4 header
      // An echo reply (type 0) to this request; on loopback the request itself comes by too.
      if (icmp[0] !== 0 || ((icmp[4] << 8) | icmp[5]) !== id || ((icmp[6] << 8) | icmp[7]) !== seq) continue;
      return { time: Date.now() - sent, from, ttl: packet[8], bytes: icmp.length };
    }
  } finally {
    s.close();
  }
}
