// A WebSocket server in front of Mosquitto's TCP listener (Debian's mosquitto 2.0.11 has no
// websockets listener): npm's `ws` on a port of the OS's, over http or https, that takes the
// upgrade at one path with the `mqtt` subprotocol and bridges each WebSocket to its own TCP
// connection to the broker, one MQTT packet per binary message, as a broker's websockets
// listener sends them.
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type AddressInfo, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { BIND_HOST } from "./target.ts";

export interface BridgeOptions {
  /** The path the upgrade is taken at; any other gets 404 Not Found. */
  path: string;
  /** https with this certificate and key; with `ca`, the client's certificate is asked for and checked against it. */
  tls?: { cert: string; key: string; ca?: string };
  /** Chooses the `mqtt` subprotocol when the client asks for it (the default); false: answers 101 choosing none. */
  subprotocol?: boolean;
  /** Sends each MQTT packet as this many frames (a fragmented message); 1 by default. */
  fragments?: number;
}

export interface Bridge {
  port: number;
  /** Each upgrade request: its path and headers. */
  readonly requests: { url: string; headers: IncomingMessage["headers"] }[];
  /** The client certificates' subject CNs, one per TLS connection that showed one. */
  readonly clientNames: string[];
  /** Pings every open WebSocket with this payload; resolves with the payloads of the pongs that answer. */
  ping(payload: Buffer): Promise<Buffer[]>;
  /** Drops every connection at once: no close frame, the TCP connections reset. */
  drop(): void;
  /** Closes every WebSocket with a close frame of this status code; resolves with the codes the client's close frames answer (1006: none came). */
  closeAll(code: number): Promise<number[]>;
  close(): Promise<void>;
}

/** The length of the first whole MQTT packet in bytes (fixed header and Remaining Length), or 0 while it is not all there. */
function packetLength(bytes: Buffer): number {
  let length = 0;
  for (let i = 1, shift = 0; i < 5 && i < bytes.length; i++, shift += 7) {
    length += (bytes[i] & 0x7f) << shift;
    if (!(bytes[i] & 0x80)) return bytes.length >= i + 1 + length ? i + 1 + length : 0;
  }
  return 0;
}

export async function wsBridge(brokerPort: number, options: BridgeOptions): Promise<Bridge> {
  const requests: Bridge["requests"] = [];
  const clientNames: string[] = [];
  const open = new Set<{ ws: WebSocket; tcp: Socket }>();
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key, ...(options.tls.ca && { ca: options.tls.ca, requestCert: true, rejectUnauthorized: true }) })
    : createHttpServer();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (options.subprotocol !== false && protocols.has("mqtt") ? "mqtt" : false),
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    requests.push({ url: req.url ?? "", headers: req.headers });
    socket.on("error", () => {});
    if (req.url !== options.path) {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    const cn = (socket as unknown as { getPeerCertificate?(): { subject?: { CN?: string } } }).getPeerCertificate?.()?.subject?.CN;
    if (cn) clientNames.push(cn);
    wss.handleUpgrade(req, socket, head, (ws) => bridge(ws));
  });
  server.on("tlsClientError", () => {});

  function bridge(ws: WebSocket): void {
    const tcp = connect(brokerPort, "127.0.0.1");
    const pair = { ws, tcp };
    open.add(pair);
    let pending = Buffer.alloc(0);
    tcp.on("data", (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      for (let n = packetLength(pending); n; n = packetLength(pending)) {
        const packet = pending.subarray(0, n);
        pending = pending.subarray(n);
        const count = Math.max(1, Math.min(options.fragments ?? 1, packet.length));
        const size = Math.ceil(packet.length / count);
        for (let at = 0; at < packet.length; at += size) ws.send(packet.subarray(at, at + size), { binary: true, fin: at + size >= packet.length });
      }
    });
    ws.on("message", (data: Buffer) => tcp.write(data));
    const end = () => {
      open.delete(pair);
      tcp.destroy();
      if (ws.readyState === ws.OPEN) ws.close();
    };
    tcp.on("close", end);
    tcp.on("error", end);
    ws.on("close", end);
    ws.on("error", end);
  }

  const drop = () => {
    for (const { ws, tcp } of open) {
      ws.terminate();
      tcp.destroy();
    }
    open.clear();
  };
  /** Does `act` to every open WebSocket; resolves with the first argument of each one's `event` in answer. */
  const eachAnswer = <T>(event: "pong" | "close", act: (ws: WebSocket) => void): Promise<T[]> =>
    Promise.all(
      [...open].map(({ ws }) => new Promise<T>((resolve) => {
        ws.once(event, (answer: T) => resolve(answer));
        act(ws);
      })),
    );
  await new Promise<void>((resolve) => server.listen(0, BIND_HOST, () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    clientNames,
    ping: (payload) => eachAnswer<Buffer>("pong", (ws) => ws.ping(payload)),
    drop,
    closeAll: (code) => eachAnswer<number>("close", (ws) => ws.close(code)),
    async close() {
      drop();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
