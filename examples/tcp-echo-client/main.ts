// Echo client: connects to the host and port in its config and sends the seed's two
// messages, the second one not ASCII (seed: echo-server-ipv6).
import config from "mc/config";
import { AF_UNSPEC, SOCK_STREAM, getaddrinfo, socket } from "xsock/socket";

const messages = ["Hello, world", "汉语/漢語 Hànyǔ"];

async function main(): Promise<void> {
  const [[af, type, proto, , sa]] = await getaddrinfo(String(config.host), Number(config.port), AF_UNSPEC, SOCK_STREAM);
  const s = socket(af, type, proto);
  s.settimeout(5000);
  await s.connect(sa);
  for (const text of messages) {
    await s.sendall(text);
    const reply = await s.recv(1024);
    trace(`Received ${String.fromArrayBuffer(reply.slice().buffer)}\n`);
  }
  s.close();
  trace("echo client: done\n");
}

main().catch((e: Error) => trace(`echo client: ${e.message}\n`));
