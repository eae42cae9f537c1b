// A TLS echo server (on loopback, or where a board reaches it) with the test certificate (test/fixtures/tls, self-signed,
// for localhost and 127.0.0.1).
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type TLSSocket } from "node:tls";
import { BIND_HOST } from "./target.ts";

const dir = new URL("../fixtures/tls/", import.meta.url);
export const TEST_CERT = readFileSync(new URL("cert.pem", dir), "utf8");
const TEST_KEY = readFileSync(new URL("key.pem", dir), "utf8");

/** Echoes what each client sends; `onConnection` sees each connection too. It listens on `host` (BIND_HOST by default). */
export async function tlsEchoServer(onConnection?: (c: TLSSocket) => void, host = BIND_HOST): Promise<{ server: Server; port: number }> {
  // Unreferenced, as its connections are: a test that fails before it closes the server does
  // not keep mocha from exiting once the run is over.
  const server = createServer({ cert: TEST_CERT, key: TEST_KEY }, (c) => {
    c.unref();
    c.on("error", () => {});
    if (onConnection) onConnection(c);
    else c.pipe(c);
  });
  server.on("tlsClientError", () => {});
  server.unref();
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return { server, port: (server.address() as AddressInfo).port };
}
