// Ports and addresses of this run's own, so that two test runs on one machine never meet (two
// checkouts' `npm test` at once): ports the OS picks (port 0), and, for the examples whose ports
// are fixed in their code (chat-server's 5000, framed-server's 8000, ...), a loopback /24 that
// this process holds for as long as it runs.
import { createSocket } from "node:dgram";
import { createServer, type Server } from "node:net";

type Kind = "tcp" | "udp";

function bindTcp(port: number, host: string, ipv6Only = false): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port, host, ipv6Only, exclusive: true }, () => resolve(server));
  });
}

async function bindUdp(port: number, host: string): Promise<{ port: number; close(): Promise<void> }> {
  const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => resolve());
  });
  return { port: socket.address().port, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

async function bind(kind: Kind, port: number, host: string): Promise<{ port: number; close(): Promise<void> }> {
  if (kind === "udp") return bindUdp(port, host);
  const server = await bindTcp(port, host, host === "::");
  return { port: (server.address() as { port: number }).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * A port that is free now on each of `hosts` for each of `kinds`: the OS picks it for the first
 * (port 0), and it is bound on the rest too before all are let go. For a board or a peer that
 * needs a port number before it binds (AT+CIPSERVER=1,PORT, a scenario file).
 * A host this machine lacks (a real board's address) is checked on every address (0.0.0.0).
 */
export async function freePort(hosts: string[] = ["127.0.0.1"], kinds: Kind[] = ["tcp"]): Promise<number> {
  const local = await Promise.all(
    hosts.map(async (host) => {
      try {
        await (await bind("udp", 0, host)).close();
        return host;
      } catch {
        return "0.0.0.0";
      }
    }),
  );
  for (let tries = 0; tries < 50; tries++) {
    const held: { close(): Promise<void> }[] = [];
    try {
      let port = 0;
      for (const host of local)
        for (const kind of kinds) {
          const bound = await bind(kind, port, host);
          held.push(bound);
          port = bound.port;
        }
      return port;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    } finally {
      await Promise.all(held.map((h) => h.close()));
    }
  }
  throw new Error(`no port free on ${hosts.join(", ")} for ${kinds.join(" and ")} in 50 tries`);
}

/**
 * This run's loopback /24, 127.X.Y.0 with X from 100 to 199 and Y any: Linux answers on all of
 * 127/8, and the simulator binds a board's sockets to its --ip. The run holds it with a listener
 * on 127.X.Y.254 at CLAIM_PORT, which another run's claim of the same block finds in use.
 */
const CLAIM_PORT = 27999;

async function claimNet(): Promise<string> {
  for (let tries = 0; tries < 100; tries++) {
    const net = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}`;
    try {
      const claim = await bindTcp(CLAIM_PORT, `${net}.254`);
      claim.unref();
      return net;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    }
  }
  throw new Error(`no loopback /24 free for this run: 127.X.Y.254:${CLAIM_PORT} was in use 100 times`);
}

/** This run's own loopback /24, as `127.X.Y`. */
export const RUN_NET = await claimNet();

/** An address of this run's own: `${RUN_NET}.${host}` (1 to 253). */
export const runAddress = (host = 1): string => `${RUN_NET}.${host}`;
