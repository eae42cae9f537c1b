// Echo server on port 50007 (or config.port), on IPv6 and IPv4 at once: every client is served at the same
// time and gets back what it sent (seed: echo-server-ipv6).
import config from "mc/config";
import { AF_INET, AF_INET6, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, getaddrinfo, socket, type Socket, type Address } from "xsock/socket";

const PORT = Number(config.port ?? 50007);

async function echo(conn: Socket, addr: Address): Promise<void> {
  try {
    for (;;) {
      const data = await conn.recv(1024);
      if (!data.length) break;
      trace(`Server heard "${String.fromArrayBuffer(data.slice().buffer)}" from [${addr[0]}]:${addr[1]}\n`);
      await conn.sendall(data);
    }
  } catch (e) {
    trace(`echo: [${addr[0]}]:${addr[1]}: ${(e as Error).message}\n`);
  }
  conn.close();
}

async function serve(family: number): Promise<void> {
  const [[af, type, proto, , sa]] = await getaddrinfo(null, PORT, family, SOCK_STREAM, 0, 1 /* AI_PASSIVE */);
  const s = socket(af, type, proto);
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  s.bind(sa);
  s.listen(5);
  trace(`echo server listening on [${sa[0]}]:${s.getsockname()[1]}\n`);
  for (;;) {
    const [conn, addr] = await s.accept();
    trace(`Connected by [${addr[0]}]:${addr[1]}\n`);
    void echo(conn, addr);
  }
}

// One side can fail alone: Moddable's listener is IPv4 only and takes no address (lwIP's and
// lin's tcp.c), so on a board the IPv6 listener is the IPv4 one and the second gets EADDRINUSE.
const failed = (family: string) => (e: Error) => trace(`echo server (${family}): ${e.message}\n`);
serve(AF_INET6).catch(failed("IPv6"));
serve(AF_INET).catch(failed("IPv4"));
