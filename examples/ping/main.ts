// ping: ICMP echo requests on a raw socket, as `ping -c N host` sends them.
import config from "mc/config";
import Timer from "timer";
import { AF_INET, IPPROTO_ICMP, SOCK_RAW, gethostbyname, socket } from "xsock/socket";

const ID = 0x7853; // "xS"

/** The Internet checksum (RFC 1071) of the bytes. */
function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

function echoRequest(seq: number): Uint8Array {
  const packet = new Uint8Array(64);
  packet.set([8, 0, 0, 0, ID >> 8, ID & 0xff, seq >> 8, seq & 0xff]);
  for (let i = 8; i < packet.length; i++) packet[i] = i;
  const sum = checksum(packet);
  packet[2] = sum >> 8;
  packet[3] = sum & 0xff;
  return packet;
}

async function main(): Promise<void> {
  const host = await gethostbyname(String(config.host));
  const s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  s.settimeout(1000);
  trace(`PING ${config.host} (${host}) 56 data bytes\n`);
  let received = 0;
  const count = Number(config.count);
  for (let seq = 1; seq <= count; seq++) {
    const sent = Date.now();
    await s.sendto(echoRequest(seq), [host, 0]);
    try {
      for (;;) {
        const [packet, [from]] = await s.recvfrom(1500);
        const icmp = packet.subarray((packet[0] & 0x0f) * 4); // after the IPv4 header
        // An echo reply (type 0) to this request; on loopback the request itself comes by too.
        if (icmp[0] !== 0 || ((icmp[4] << 8) | icmp[5]) !== ID || ((icmp[6] << 8) | icmp[7]) !== seq) continue;
        received++;
        trace(`${icmp.length} bytes from ${from}: icmp_seq=${seq} ttl=${packet[8]} time=${Date.now() - sent} ms\n`);
        break;
      }
    } catch (e) {
      trace(`icmp_seq=${seq}: ${(e as Error).message}\n`);
    }
    if (seq < count) await new Promise<void>((r) => Timer.set(() => r(), 200));
  }
  s.close();
  trace(`${count} packets transmitted, ${received} received\n`);
}

main().catch((e: Error) => trace(`ping: ${e.message}\n`));
