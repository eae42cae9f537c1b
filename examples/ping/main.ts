// ping: ICMP echo requests on a raw socket, as `ping -c N host` sends them.
import config from "mc/config";
import Timer from "timer";
import { gethostbyname, ping } from "xsock/socket";

async function main(): Promise<void> {
  const host = await gethostbyname(String(config.host));
  trace(`PING ${config.host} (${host}) 56 data bytes\n`);
  let received = 0;
  const count = Number(config.count);
  for (let seq = 1; seq <= count; seq++) {
    try {
      const reply = await ping(host, 1000, seq);
      received++;
      trace(`${reply.bytes} bytes from ${reply.from}: icmp_seq=${seq} ttl=${reply.ttl} time=${reply.time} ms\n`);
    } catch (e) {
      trace(`icmp_seq=${seq}: ${(e as Error).message}\n`);
    }
    if (seq < count) await new Promise<void>((r) => Timer.set(() => r(), 200));
  }
  trace(`${count} packets transmitted, ${received} received\n`);
}

main().catch((e: Error) => trace(`ping: ${e.message}\n`));
