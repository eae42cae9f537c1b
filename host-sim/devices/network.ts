// TCP, UDP and listener sockets, and DNS, on the host's own sockets. The board's socket
// limit (lwIP's) holds here too: one socket more gets EMFILE.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createRequire } from "node:module";
import { lookup, Resolver } from "node:dns/promises";
import { createPrivateKey, randomInt, X509Certificate } from "node:crypto";
import { connect, createServer, isIP, type Server, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { connect as tlsConnect, type PeerCertificate } from "node:tls";
import { constants } from "node:os";
import type { Host } from "../host.ts";
import { PlatformError } from "../host.ts";
import { ByteQueue } from "../byte-queue.ts";
import { DHCP_DNS } from "./ipconfig.ts";
import type { TcpFlow } from "../capture/capture.ts";

/**
 * lwIP's TCP send buffer and window (CONFIG_LWIP_TCP_SND_BUF_DEFAULT, CONFIG_LWIP_TCP_WND_DEFAULT)
 * as Moddable builds them: 8,192 bytes on the classic ESP32 (xsProj-esp32's sdkconfig.defaults),
 * ESP-IDF's 5,744 on the others.
 */
export const tcpSendBuffer = (chip: string): number => (chip === "ESP32" ? 8192 : 5744);
export const tcpWindow = tcpSendBuffer;
/**
 * A readable event brings up to this many bytes along, so a short message, or the two 8 KiB
 * receives of passthrough that fill the unpaced UART's 16 KiB, need no read call.
 */
const PUSH_LIMIT = 16384;
/**
 * Past this much unread, the host socket stops reading until the firmware has taken half, as
 * lwIP's receive window stops the peer (by far more than lwIP's 5,744 bytes, so that short
 * exchanges see no difference): a peer sending megabytes to a slower board no longer piles
 * them up in the simulator.
 */
const RX_PAUSE = 64 * 1024;

/** What TLSSocket's proxy asks for (host-sim/xs/tcp.ts): DER certificates and key. */
interface TlsRequest {
  servername: string;
  verify: boolean;
  ca?: Uint8Array;
  alpn?: (string | Uint8Array)[];
  cert?: Uint8Array;
  key?: Uint8Array;
}

/** A PKCS#8 DER key as PEM, the one key form Moddable's SSLSession reads (PKCS8.parse). */
function pkcs8Pem(der: Uint8Array): string {
  return createPrivateKey({ key: Buffer.from(der), format: "der", type: "pkcs8" }).export({ format: "pem", type: "pkcs8" }) as string;
}

/**
 * Moddable's name check (modules/crypt/ssl/ssl_cert.js): the name matches a dNSName of the
 * subjectAltName (a leading `*.` stands for one label) or an IPv4 iPAddress; the subject's CN
 * is not looked at.
 */
export function sanMatches(name: string, cert: PeerCertificate): boolean {
  const wanted = name.toLowerCase();
  for (const entry of (cert.subjectaltname ?? "").split(", ")) {
    const [tag, value = ""] = [entry.slice(0, entry.indexOf(":")), entry.slice(entry.indexOf(":") + 1).toLowerCase()];
    if (tag === "DNS") {
      if (value.startsWith("*")) {
        const dot = wanted.indexOf(".");
        if (value.indexOf("*", 1) < 0 && dot >= 0 && value.slice(1) === wanted.slice(dot)) return true;
      } else if (value === wanted) return true;
    } else if (tag === "IP Address" && isIP(value) === 4 && value === wanted) return true;
  }
  return false;
}

/** A Node error as the firmware sees it: message, Linux errno and its name. */
export function platformError(e: NodeJS.ErrnoException): PlatformError {
  const code = e.code ?? "EIO";
  const errno = (constants.errno as Record<string, number>)[code];
  return new PlatformError(e.message, errno, code);
}

interface Connection {
  /** The firmware's id, once it has the socket. */
  id?: number;
  socket: Socket;
  rx: ByteQueue;
  /** A readable event is on its way in; its count is taken when it is delivered. */
  readablePending: boolean;
  writablePending: boolean;
  /** Send space the firmware was last told of, less what it has written since. */
  believed: number;
  /** Bytes a readable event brought to the firmware that it has not read yet. */
  pushed: number;
  connected: boolean;
  /** Callbacks are attached (false for an accepted socket not yet adopted). */
  watched: boolean;
  /** The peer has sent its FIN: nothing more comes in, but the board may still send. */
  peerClosed?: boolean;
  /** Why the connection can carry nothing more, once it cannot. */
  ended?: string;
  /** onError has been delivered. */
  reported?: boolean;
  /** Its packets in the capture, once it is open. */
  flow?: TcpFlow;
  /** A TLS link's TCP socket under the TLS socket, when captured: the capture sees its bytes. */
  wire?: Socket;
}

/** The Internet checksum (RFC 1071). */
function icmpChecksum(bytes: Buffer): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/** The npm raw-socket package: a raw IP socket on the host (it needs root, or CAP_NET_RAW). */
interface RawSocket {
  on(event: "message", listener: (data: Buffer, address: string) => void): void;
  on(event: "error", listener: (e: NodeJS.ErrnoException) => void): void;
  send(data: Buffer, offset: number, length: number, address: string, done: (e?: Error) => void): void;
  close(): void;
}

type RawSocketModule = { createSocket(options: { protocol: number; addressFamily?: number }): RawSocket };

function rawSocketModule(): RawSocketModule {
  try {
    return createRequire(import.meta.url)("raw-socket") as RawSocketModule;
  } catch {
    throw new PlatformError("raw sockets in the simulator need the raw-socket package built (npm install, with make and a C++ compiler)", constants.errno.EPROTONOSUPPORT, "EPROTONOSUPPORT");
  }
}

/**
 * A TCP socket as a stream for TLS to run over, with taps on the bytes each way (the records
 * on the wire). Node's TLS takes any duplex stream as its socket.
 */
function tappedWire(wire: Socket, sent: (bytes: Buffer) => void, received: (bytes: Buffer) => void, ended: () => void): Duplex {
  const stream = new Duplex({
    allowHalfOpen: true,
    write(chunk: Buffer, _encoding, done) {
      // Captured once it has gone: what TLS writes before the connection is up waits for it.
      wire.write(chunk, (e) => {
        if (!e) sent(chunk);
        done(e ?? undefined);
      });
    },
    final(done) {
      ended(); // after TLS's close_notify
      wire.end();
      done();
    },
    read() {
      wire.resume();
    },
    destroy(e, done) {
      wire.destroy(e ?? undefined);
      done(e);
    },
  });
  wire.on("data", (chunk: Buffer) => {
    received(chunk);
    if (!stream.push(chunk)) wire.pause();
  });
  wire.on("end", () => stream.push(null));
  wire.on("error", (e) => stream.destroy(e));
  wire.on("close", () => stream.destroy());
  return stream;
}

interface Packet {
  data: Buffer;
  address: string;
  port: number;
}

export interface NetworkDevice {
  /** Sockets open now, of every kind. */
  readonly open: number;
  /** The link is gone: every TCP connection is aborted, as lwIP aborts the PCBs on an address it lost. */
  linkDown(): void;
  close(): void;
}

/** How long the board's resolver waits for a DNS server set by hand, and how often it asks. */
const DNS_TIMEOUT_MS = 1000;
const DNS_TRIES = 2;

/**
 * `ip` is the board's address while it has one; `bindTo`, the host address every socket binds
 * to (--ip), so that boards on 127.0.0.1 and 127.0.0.2 can use the same ports. `dnsServers` are
 * the servers set by hand (AT+CIPDNS); without them names go to the host's resolver.
 */
export function network(host: Host, ip: () => string | undefined, bindTo?: string, dnsServers: () => string[] | undefined = () => undefined): NetworkDevice {
  const TCP_SEND_BUFFER = tcpSendBuffer(host.board.chip);
  /** Where IPv4 multicast goes in the simulator (mDNS on 224.0.0.251, ...). */
  const LOOPBACK = "127.0.0.1";
  /** The board's "any address" is its own: with --ip, the host's address it was given. */
  const own = (address?: string | null) => (!address || address === "0.0.0.0" ? (bindTo ?? address ?? undefined) : address);
  const conns = new Map<number, Connection>();
  const listeners = new Map<number, { server: Server; pending: Connection[] }>();
  /** A board's UDP socket: `grouped` once it takes multicast. */
  type UdpState = { socket: UdpSocket; packets: Packet[]; readablePending: boolean; ttl?: number; grouped: boolean };
  const udps = new Map<number, UdpState>();
  const raws = new Map<number, RawSocket>();
  const rawProtocols = new Map<number, number>();
  const count = () => conns.size + listeners.size + udps.size + raws.size + [...listeners.values()].reduce((n, l) => n + l.pending.length, 0);
  const reserve = () => {
    if (count() >= host.board.limits.sockets)
      throw new PlatformError(`no free socket: ${host.board.id} has ${host.board.limits.sockets}`, constants.errno.EMFILE, "EMFILE");
  };

  function track(socket: Socket, connected: boolean, wire?: Socket): Connection {
    const conn: Connection = { socket, rx: new ByteQueue(), readablePending: false, writablePending: false, believed: TCP_SEND_BUFFER, pushed: 0, connected, watched: false, wire };
    const capture = host.capture;
    if (capture) {
      // The capture sees the bytes on the wire: a TLS link's records, not its plaintext.
      const tcp = wire ?? socket;
      const flow = () =>
        (conn.flow ??= capture.tcp({ address: tcp.localAddress ?? "", port: tcp.localPort ?? 0 }, { address: tcp.remoteAddress ?? "", port: tcp.remotePort ?? 0 }));
      if (connected) flow().open(false);
      // First of the connect listeners: before the writes that waited for the connection go.
      else tcp.prependOnceListener("connect", () => flow().open(true));
      if (!wire) socket.on("data", (chunk: Buffer) => conn.flow?.data(false, chunk));
      tcp.on("end", () => conn.flow?.fin(false));
      tcp.on("error", (e: NodeJS.ErrnoException) => {
        if (conn.flow) {
          if (e.code === "ECONNRESET") conn.flow.reset(false);
        } else if (e.code === "ECONNREFUSED") {
          const to = e as NodeJS.ErrnoException & { address?: string; port?: number };
          capture.tcp({ address: "", port: capture.ephemeralPort() }, { address: to.address ?? "", port: to.port ?? 0 }).refused();
        }
      });
    }
    socket.on("data", (chunk) => {
      conn.rx.push(chunk);
      if (conn.rx.length >= RX_PAUSE) socket.pause();
      notifyReadable(conn);
    });
    socket.on("end", () => {
      conn.peerClosed = true;
      report(conn, "closed");
    });
    socket.on("error", (e: NodeJS.ErrnoException) => finish(conn, e.code ?? "EIO"));
    socket.on("close", () => finish(conn, "closed"));
    return conn;
  }

  function notifyReadable(conn: Connection): void {
    if (conn.id === undefined || !conn.watched || conn.readablePending || !conn.rx.length) return;
    conn.readablePending = true;
    host.post("tcp", conn.id, "readable", () => {
      conn.readablePending = false;
      const bytes = taken(conn, PUSH_LIMIT - conn.pushed);
      conn.pushed += bytes?.length ?? 0;
      if (bytes) host.trace?.socketBytes(conn.id!, false, bytes.length);
      return { bytes, more: conn.rx.length };
    });
  }

  /** Takes from what came in; the socket reads again once half of RX_PAUSE is free. */
  function taken(conn: Connection, max: number): Buffer | null {
    const bytes = conn.rx.take(max);
    if (conn.socket.isPaused() && conn.rx.length < RX_PAUSE / 2) conn.socket.resume();
    return bytes;
  }

  const sendSpace = (conn: Connection) => TCP_SEND_BUFFER - conn.socket.writableLength;

  /** Tells the firmware its send space, once the space it knows of runs low and more is free. */
  function notifyWritable(conn: Connection, always = false): void {
    if (conn.id === undefined || !conn.watched || !conn.connected || conn.ended || conn.writablePending) return;
    if (!always && (conn.believed >= TCP_SEND_BUFFER / 2 || sendSpace(conn) <= conn.believed)) return;
    conn.writablePending = true;
    host.post("tcp", conn.id, "writable", () => {
      conn.writablePending = false;
      return (conn.believed = sendSpace(conn));
    });
  }

  /** Tells the firmware once that the connection is over (onError), with why. */
  function report(conn: Connection, why: string): void {
    if (conn.reported || conn.id === undefined || !conn.watched) return;
    conn.reported = true;
    host.post("tcp", conn.id, "error", why);
  }

  function finish(conn: Connection, why: string): void {
    if (conn.ended) return;
    conn.ended = why;
    report(conn, why);
  }

  function notifyPackets(id: number, state: { packets: Packet[]; readablePending: boolean }): void {
    if (state.readablePending || !state.packets.length) return;
    state.readablePending = true;
    host.post("udp", id, "readable", () => {
      state.readablePending = false;
      return state.packets.length;
    });
  }

  const connOf = (id: number) => {
    const conn = conns.get(id);
    if (!conn) throw new PlatformError("socket is closed", constants.errno.EBADF, "EBADF");
    return conn;
  };

  host.handle("tcp.connect", (id: number, to: { host: string; port: number; nodelay: boolean; tls?: TlsRequest }) => {
    reserve();
    // A peer's FIN half-closes, as in lwIP: the board may still send.
    const local = bindTo && !to.host.includes(":") ? { localAddress: bindTo } : {};
    const options = { host: to.host, port: to.port, noDelay: to.nodelay, allowHalfOpen: true, ...local };
    const tls = to.tls;
    // A captured TLS link runs over a TCP socket of its own, whose bytes the capture sees.
    const wire = tls && host.capture ? connect(options) : undefined;
    const tracked: { conn?: Connection } = {};
    const flow = () => tracked.conn?.flow;
    const tapped = wire && tappedWire(wire, (bytes) => flow()?.data(true, bytes), (bytes) => flow()?.data(false, bytes), () => flow()?.fin(true));
    const socket = tls
      ? tlsConnect({
          ...options,
          ...(tapped && { socket: tapped }),
          servername: isIP(tls.servername) ? undefined : tls.servername,
          rejectUnauthorized: tls.verify,
          ca: tls.ca && new X509Certificate(tls.ca).toString(),
          // Moddable's TLSSocket speaks TLS 1.2 only (protocolVersion 0x303), and checks the
          // name in the certificate's subjectAltName alone.
          minVersion: "TLSv1.2",
          maxVersion: "TLSv1.2",
          checkServerIdentity: (_name, cert) => (sanMatches(tls.servername, cert) ? undefined : new Error(`${tls.servername} is not in the certificate's subjectAltName`)),
          ...(tls.alpn && { ALPNProtocols: tls.alpn.map((p) => (typeof p === "string" ? p : Buffer.from(p).toString())) }),
          ...(tls.cert && tls.key && { cert: new X509Certificate(tls.cert).toString(), key: pkcs8Pem(tls.key) }),
        })
      : connect(options);
    const conn = (tracked.conn = track(socket, false, wire));
    conn.watched = true;
    conn.id = id;
    conns.set(id, conn);
    host.trace?.socketOpened(id, `${tls ? "tls" : "tcp"} to ${to.host}:${to.port}`);
    // The firmware learns only that the link failed (ERROR, CLOSED): -v says why.
    socket.once("error", (e) => host.debug(`sim: tcp ${id} to ${to.host}:${to.port}${bindTo ? ` from ${bindTo}` : ""}: ${e.message}`));
    socket.once(tls ? "secureConnect" : "connect", () => {
      conn.connected = true;
      notifyWritable(conn, true);
    });
  });

  host.handle("tcp.adopt", (id: number, options: { nodelay: boolean }) => {
    const conn = connOf(id);
    conn.watched = true;
    conn.socket.setNoDelay(options.nodelay);
    notifyWritable(conn, true);
    notifyReadable(conn);
    if (conn.ended || conn.peerClosed) report(conn, conn.ended ?? "closed");
  });

  host.handle("tcp.consumed", (id: number, n: number) => {
    const conn = conns.get(id);
    if (!conn) return;
    conn.pushed -= n;
    notifyReadable(conn);
  });

  host.handle("tcp.read", (id: number, max: number) => {
    const conn = connOf(id);
    const got = taken(conn, max);
    notifyReadable(conn);
    return got;
  });

  // Writes come without a round trip (the firmware checks the space it was told of). One that
  // crosses the connection's end is dropped: the firmware hears of the end through onError.
  host.handle("tcp.write", (id: number, bytes: Uint8Array) => {
    const conn = conns.get(id);
    if (!conn || conn.ended || !conn.connected) return;
    if (conn.socket.writableLength + bytes.length > TCP_SEND_BUFFER)
      throw new PlatformError("write overflows the send buffer", constants.errno.EAGAIN, "EAGAIN");
    conn.believed -= bytes.length;
    if (!conn.wire) conn.flow?.data(true, bytes);
    host.trace?.socketBytes(id, true, bytes.length);
    conn.socket.write(bytes, () => notifyWritable(conn));
  });

  host.handle("tcp.info", (id: number) => {
    // A captured TLS link's addresses are its TCP socket's.
    const conn = connOf(id);
    const socket = conn.wire ?? conn.socket;
    return { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, localAddress: socket.localAddress, localPort: socket.localPort };
  });

  host.handle("tcp.close", (id: number) => {
    const conn = conns.get(id);
    if (!conn) return;
    conns.delete(id);
    host.trace?.socketClosed(id, conn.ended);
    if (!conn.ended && !conn.wire) conn.flow?.fin(true);
    conn.ended ??= "closed";
    conn.socket.end();
    conn.socket.destroySoon();
  });

  host.handle("listener.open", async (id: number, options: { port: number; address?: string }) => {
    reserve();
    const pending: Connection[] = [];
    const server = createServer({ noDelay: true, allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e) => reject(platformError(e)));
      // An IPv6 listener hears IPv6 only, as an lwIP PCB bound to an IPv6 address does.
      const host = own(options.address) ?? ip() ?? "127.0.0.1";
      server.listen({ port: options.port, host, ipv6Only: host.includes(":") }, () => resolve());
    });
    server.on("connection", (socket) => {
      if (count() >= host.board.limits.sockets) {
        host.debug(`listener ${id}: no free socket, connection refused`);
        socket.destroy();
        return;
      }
      pending.push(track(socket, true));
      // The count is taken at delivery: by then the firmware may have accepted some already.
      host.post("listener", id, () => pending.length);
    });
    listeners.set(id, { server, pending });
    const address = server.address();
    return typeof address === "object" && address ? address.port : options.port;
  });

  host.handle("listener.read", (id: number, newId: number) => {
    const conn = listeners.get(id)?.pending.shift();
    if (!conn) return false;
    conn.id = newId;
    conns.set(newId, conn);
    host.trace?.socketOpened(newId, `tcp from ${conn.socket.remoteAddress}:${conn.socket.remotePort}`);
    return true;
  });

  host.handle("listener.close", (id: number) => {
    const listener = listeners.get(id);
    if (!listener) return;
    listeners.delete(id);
    for (const conn of listener.pending) conn.socket.destroy();
    listener.server.close();
  });

  /**
   * A host datagram socket for one of the board's. One that takes multicast (`group`) is bound to
   * the any-address with SO_REUSEADDR, as it shares its port (mDNS's 5353) with the host's own
   * responders; the simulated network is the host's loopback, so IPv4 groups are joined, and
   * sent to, there.
   */
  async function openUdp(id: number, state: UdpState, port: number, address: string | undefined, v6: boolean): Promise<void> {
    const socket = createSocket({ type: v6 ? "udp6" : "udp4", ipv6Only: v6, reuseAddr: state.grouped });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", (e) => reject(platformError(e)));
      socket.bind(port, state.grouped ? undefined : address, () => resolve());
    });
    if (state.grouped && !v6) socket.setMulticastInterface(LOOPBACK);
    if (state.ttl != null) {
      socket.setTTL(state.ttl);
      if (state.grouped) socket.setMulticastTTL(state.ttl);
    }
    socket.on("message", (data, rinfo) => {
      host.capture?.udp(false, socket.address(), rinfo, data);
      state.packets.push({ data, address: rinfo.address, port: rinfo.port });
      notifyPackets(id, state);
    });
    socket.on("error", () => host.post("udp", id, "error"));
    state.socket = socket;
  }

  // Fields the firmware left out arrive as null (JSON has no undefined).
  host.handle("udp.open", async (id: number, options: { port: number; address?: string | null; multicast?: string | null; timeToLive?: number | null }) => {
    reserve();
    const v6 = (options.address ?? options.multicast ?? "").includes(":");
    const state = { packets: [] as Packet[], readablePending: false, ttl: options.timeToLive ?? undefined, grouped: Boolean(options.multicast) } as UdpState;
    await openUdp(id, state, options.port, v6 ? (options.address ?? undefined) : own(options.address), v6);
    if (options.multicast) state.socket.addMembership(options.multicast, v6 ? undefined : LOOPBACK);
    udps.set(id, state);
    host.trace?.socketOpened(id, `udp on ${state.socket.address().port}`);
  });

  const udpOf = (id: number) => {
    const state = udps.get(id);
    if (!state) throw new PlatformError("socket is closed", constants.errno.EBADF, "EBADF");
    return state;
  };

  host.handle("udp.read", (id: number) => {
    const state = udpOf(id);
    const packet = state.packets.shift();
    if (packet) host.trace?.socketBytes(id, false, packet.data.length);
    notifyPackets(id, state);
    return packet ?? null;
  });

  host.handle("udp.write", (id: number, bytes: Uint8Array, address: string, port: number) => {
    const { socket } = udpOf(id);
    host.capture?.udp(true, socket.address(), { address, port }, bytes);
    host.trace?.socketBytes(id, true, bytes.length);
    socket.send(bytes, port, address);
  });

  // lwIP binds every UDP socket to the any-address; the simulator binds the board's to its own,
  // so a socket that joins a group first moves to the any-address, on the same port.
  host.handle("udp.add", async (id: number, address: string) => {
    const state = udpOf(id);
    const v6 = address.includes(":");
    if (!state.grouped) {
      const port = state.socket.address().port;
      await new Promise<void>((resolve) => state.socket.close(() => resolve()));
      state.grouped = true;
      await openUdp(id, state, port, undefined, v6);
    }
    state.socket.addMembership(address, v6 ? undefined : LOOPBACK);
  });
  host.handle("udp.remove", (id: number, address: string) => {
    udpOf(id).socket.dropMembership(address, address.includes(":") ? undefined : LOOPBACK);
  });

  host.handle("udp.close", (id: number) => {
    udps.get(id)?.socket.close();
    udps.delete(id);
    host.trace?.socketClosed(id);
  });

  host.handle("raw.open", (id: number, options: { protocol: number }) => {
    reserve();
    let socket: RawSocket;
    try {
      socket = rawSocketModule().createSocket({ protocol: options.protocol });
    } catch (e) {
      // Without root (or CAP_NET_RAW) the host refuses, as Linux refuses a raw socket: EPERM.
      throw new PlatformError(`raw socket: ${(e as Error).message}`, constants.errno.EPERM, "EPERM");
    }
    socket.on("message", (data: Buffer, address: string) => {
      // On loopback the board's own echo request comes back by too: the board's link would not carry it twice.
      const icmp = data.subarray((data[0] & 0x0f) * 4);
      if (options.protocol === 1 && icmp[0] !== 8) host.capture?.icmp(false, address, icmp);
      host.post("raw", id, data, address);
    });
    socket.on("error", (e: NodeJS.ErrnoException) => host.log(`raw socket ${id}: ${e.message}`));
    raws.set(id, socket);
    rawProtocols.set(id, options.protocol);
  });

  host.handle("raw.write", (id: number, address: string, bytes: Uint8Array) => {
    if (raws.has(id) && rawProtocols.get(id) === 1) host.capture?.icmp(true, address, bytes);
    raws.get(id)?.send(Buffer.from(bytes), 0, bytes.length, address, (e) => e && host.log(`raw socket ${id}: ${e.message}`));
  });

  host.handle("raw.close", (id: number) => {
    raws.get(id)?.close();
    raws.delete(id);
  });

  // lwIP's dns_gethostbyname with IPv6 in the build (LWIP_DNS_ADDRTYPE_IPV4_IPV6): the IPv4
  // address, or the IPv6 one for a name that has none.
  // xsock/ping-native: one echo, as ESP-IDF's esp_ping sends it (ICMP, or ICMPv6 for an IPv6
  // address), answered with the round trip in ms, or null after `timeout` ms.
  const pings = new Map<number, () => void>();
  host.handle("ping.echo", (id: number, address: string, timeout: number) => {
    const v6 = address.includes(":");
    let socket: RawSocket;
    try {
      // raw-socket's AddressFamily: 1 IPv4, 2 IPv6; protocols ICMP (1) and ICMPv6 (58).
      socket = rawSocketModule().createSocket(v6 ? { protocol: 58, addressFamily: 2 } : { protocol: 1 });
    } catch (e) {
      throw new PlatformError(`esp_ping_new_session failed: ${(e as Error).message}`, constants.errno.EPERM, "EPERM");
    }
    // esp_ping's identifier is its session's address: here one of its own, so that boards on one
    // host (each numbering its sockets from 1) do not take each other's replies.
    const ident = randomInt(0x10000);
    const request = Buffer.alloc(64);
    request.writeUInt8(v6 ? 128 : 8, 0); // echo request
    request.writeUInt16BE(ident, 4);
    request.writeUInt16BE(1, 6); // sequence
    for (let i = 8; i < request.length; i++) request[i] = i;
    if (!v6) request.writeUInt16BE(icmpChecksum(request), 2); // Linux sums ICMPv6 itself
    const sent = Date.now();
    /** Ends the echo: a round trip, null for none, undefined when closed (nothing is posted). */
    const finish = (ms: number | null | undefined) => {
      if (!pings.has(id)) return;
      pings.delete(id);
      clearTimeout(timer);
      socket.close();
      if (ms !== undefined) host.post("ping", id, ms);
    };
    const timer = setTimeout(() => finish(null), timeout);
    pings.set(id, () => finish(undefined));
    socket.on("message", (data: Buffer) => {
      const icmp = v6 ? data : data.subarray((data[0] & 0x0f) * 4); // IPv4 packets come with their header
      // An echo reply to this request; on loopback the request itself comes by too.
      if (icmp[0] !== (v6 ? 129 : 0) || icmp.readUInt16BE(4) !== ident || icmp.readUInt16BE(6) !== 1) return;
      finish(Date.now() - sent);
    });
    socket.on("error", (e: NodeJS.ErrnoException) => host.debug(`ping ${id}: ${e.message}`));
    socket.send(request, 0, request.length, address, (e) => e && host.debug(`ping ${id} to ${address}: ${e.message}`));
  });
  host.handle("ping.close", (id: number) => pings.get(id)?.());

  host.handle("net.resolve", (id: number, name: string) => {
    const servers = dnsServers();
    const answered = host.capture?.dnsQuery(servers?.[0] ?? DHCP_DNS[0], name);
    let answer: Promise<string>;
    if (servers) {
      const resolver = new Resolver({ timeout: DNS_TIMEOUT_MS, tries: DNS_TRIES });
      resolver.setServers(servers);
      answer = resolver.resolve4(name).catch(() => resolver.resolve6(name)).then((addresses) => addresses[0]);
    } else answer = lookup(name, { family: 4 }).catch(() => lookup(name, { family: 6 })).then((r) => r.address);
    answer.then(
      (address) => {
        answered?.(address);
        host.post("resolve", id, address);
      },
      (e: Error) => {
        answered?.();
        host.debug(`resolve ${name}: ${e.message}`);
        host.post("resolve", id, null);
      },
    );
  });

  return {
    get open() {
      return count();
    },
    linkDown() {
      for (const conn of conns.values()) {
        finish(conn, "ECONNABORTED");
        conn.flow?.reset(true);
        if (conn.wire) {
          conn.wire.resetAndDestroy();
          conn.socket.destroy();
        } else conn.socket.resetAndDestroy();
      }
      for (const listener of listeners.values()) {
        for (const conn of listener.pending) {
          conn.flow?.reset(true);
          conn.socket.resetAndDestroy();
        }
        listener.pending.length = 0;
      }
    },
    close() {
      for (const [id, conn] of conns) {
        host.trace?.socketClosed(id, "the board restarted");
        conn.socket.destroy();
      }
      for (const id of udps.keys()) host.trace?.socketClosed(id, "the board restarted");
      for (const { server, pending } of listeners.values()) {
        for (const conn of pending) conn.socket.destroy();
        server.close();
      }
      for (const { socket } of udps.values()) socket.close();
      for (const socket of raws.values()) socket.close();
      raws.clear();
      for (const stop of [...pings.values()]) stop();
      conns.clear();
      listeners.clear();
      udps.clear();
    },
  };
}
