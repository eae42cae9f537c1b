// A TCP server (on loopback, or where a board reaches it) that keeps what it hears and its connections, to talk back on.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { BIND_HOST } from "./target.ts";

/** It listens on `host` (BIND_HOST by default). */
export async function tcpPeer(host = BIND_HOST): Promise<{ server: Server; port: number; conns: Socket[]; heard: () => Buffer }> {
  const conns: Socket[] = [];
  const chunks: Buffer[] = [];
  // Unreferenced, as its connections are: a test that fails before it closes the server does
  // not keep mocha from exiting once the run is over.
  const server = createServer((c) => {
    c.unref();
    conns.push(c);
    c.on("data", (d) => chunks.push(d));
    c.on("error", () => {});
  });
  server.unref();
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return { server, port: (server.address() as AddressInfo).port, conns, heard: () => Buffer.concat(chunks) };
}
