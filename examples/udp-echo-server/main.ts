// UDP server on port 8888: answers every datagram with "OK..." and the data, to its sender
// (seed: pi-network-programming).
import { AF_INET, SOCK_DGRAM, socket } from "xsock/socket";

const PORT = 8888;
const OK = Uint8Array.of(0x4f, 0x4b, 0x2e, 0x2e, 0x2e); // "OK..."

async function main(): Promise<void> {
  const s = socket(AF_INET, SOCK_DGRAM);
  s.bind(["", PORT]);
  trace(`udp echo server waiting on port ${PORT}\n`);
  for (;;) {
    const [data, addr] = await s.recvfrom(1024);
    if (!data.length) continue;
    trace(`Message[${addr[0]}:${addr[1]}] - ${String.fromArrayBuffer(data.slice().buffer).trim()}\n`);
    const reply = new Uint8Array(OK.length + data.length);
    reply.set(OK);
    reply.set(data, OK.length);
    await s.sendto(reply, addr);
  }
}

main().catch((e: Error) => trace(`udp echo server: ${e.message}\n`));
