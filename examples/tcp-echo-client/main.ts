// Echo client: connects to the host and port in its config and sends the seed's two
// messages, the second one not ASCII (seed: echo-server-ipv6).
import config from "mc/config";
import { AF_UNSPEC, SOCK_STREAM, getaddrinfo, socket, type Socket } from "xsock/socket";

const messages = ["Hello, world", "汉语/漢語 Hànyǔ"];

/** Tries each address the name has, in order, as Python's socket.create_connection does: a
 * platform without IPv6 (Moddable's lin) still reaches `localhost` over IPv4. */
async function connect(host: string, port: number): Promise<Socket> {
  let failure: unknown;
  for (const [af, type, proto, , sa] of await getaddrinfo(host, port, AF_UNSPEC, SOCK_STREAM)) {
    const s = socket(af, type, proto);
    s.settimeout(5000);
    try {
      await s.connect(sa);
      return s;
    } catch (e) {
      failure = e;
      s.close();
    }
  }
  throw failure;
}

async function main(): Promise<void> {
  const s = await connect(String(config.host), Number(config.port));
  for (const text of messages) {
    await s.sendall(text);
    const reply = await s.recv(1024);
    trace(`Received ${String.fromArrayBuffer(reply.slice().buffer)}\n`);
  }
  s.close();
  trace("echo client: done\n");
}

main().catch((e: Error) => trace(`echo client: ${e.message}\n`));
