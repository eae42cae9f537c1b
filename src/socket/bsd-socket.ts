// BSD sockets over the platform's ECMA-419 TCP, UDP and listener sockets. Every operation
// that would block returns a Promise; timeouts are in milliseconds.
import Listener from "embedded:io/socket/listener";
import TCP from "embedded:io/socket/tcp";
import TLSSocket from "embedded:io/socket/tcp/tls";
import UDP from "embedded:io/socket/udp";
import config from "mc/config";
import Timer from "timer";
import { familyOf, toAddress, type Address, type AddressLike } from "./address";
import * as C from "./constants";
import { fromPlatform, shown, SocketError, TimeoutError } from "./errors";
import { toBytes } from "./framing";
import { CanEndpoint, type CanData } from "./can-socket";
import type { CanFilter } from "xsock/can-filter";
import { packFrame, type CanFrame } from "xsock/can-frame";
import { openRaw, type RawPort } from "./raw";
import { resolveHost } from "./resolve";

export type Data = string | ArrayBufferLike | ArrayBufferView;
type Packet = ArrayBuffer & { address: string; port: number };

/** The board's socket limit (lwIP's), from the board file. */
const MAX_SOCKETS = Number((config.limits as { sockets?: number } | undefined)?.sockets ?? 10);

let lastFileno = 2;
/** lwIP's ephemeral ports start here (UDP_LOCAL_PORT_RANGE_START). */
const EPHEMERAL_FIRST = 0xc000;
const EPHEMERAL_TRIES = 16;
// Both sets are made at run time: XS's linker freezes a Set made while preloading (it cannot
// alias one), so on the board it would be read-only.
let openSet: Set<Socket> | undefined;
const openSockets = () => (openSet ??= new Set());
/** lwIP's sockets open now: CAN sockets are not among them. */
const ipSocketCount = () => [...openSockets()].filter((s) => s.isIP).length;
let watcherSet: Set<() => void> | undefined;
/** select() and poll() waiters: each is told when any socket's state changes. */
export const changeWatchers = () => (watcherSet ??= new Set());

/** TLS for a client socket, as Python's ssl.wrap_socket takes it. */
export interface TlsOptions {
  /** The name sent in SNI and checked in the certificate; the host given to connect by default. */
  server_hostname?: string;
  /** Check the server's certificate (default true). ESP-AT's SSL links do not (auth mode 0). */
  verify?: boolean;
  /** A CA certificate (DER) to check the server's with. */
  ca?: ArrayBuffer;
  /** ALPN: the application protocols offered in ClientHello, in order. */
  alpn_protocols?: string[];
  /** A client certificate (DER) and its PKCS#8 key (DER), sent when the server asks for one. */
  certificate?: ArrayBuffer;
  key?: ArrayBuffer;
}

/** Socket's #ended bits. */
const PEER_CLOSED = 1;
const READ_SHUT = 2;
const WRITE_SHUT = 4;

// The private methods are static, taking the socket as `self`: XS gives every instance a slot
// for each private instance method, which cost an idle socket 20 of its 67 slots.
export class Socket {
  readonly family: number;
  readonly type: number;
  readonly proto: number;
  #fileno: number;
  #timeout: number | null = null;
  #recvTimeout?: number | null;
  #options?: Map<string, number>;

  #tcp?: TCP;
  #listener?: Listener;
  #udp?: UDP;
  #raw?: RawPort;
  /** Packets a raw socket has received and not yet given out. */
  #packets?: [Uint8Array, Address][];
  #state: "new" | "connecting" | "connected" | "listening" | "closed" = "new";
  #bound?: Address;
  #peer?: Address;
  #error?: SocketError;
  /** PEER_CLOSED, READ_SHUT and WRITE_SHUT: one field, as each field is a slot of every socket's. */
  #ended = 0;
  /** Bytes (TCP), datagrams (UDP) or connections (listener) the platform has for us. */
  #readable = 0;
  /** Bytes the platform's send buffer takes now. */
  #writable = 0;
  #waiters?: Set<() => void>;
  /** wrap_socket's options: the connection speaks TLS. */
  #tls?: TlsOptions;
  /** An AF_CAN socket's interface, queue and filters. */
  #can?: CanEndpoint;

  constructor(family = C.AF_INET, type = C.SOCK_STREAM, proto = 0, accepted?: TCP) {
    this.family = family;
    this.type = type;
    if (family === C.AF_CAN) {
      if (type !== C.SOCK_RAW || (proto !== 0 && proto !== C.CAN_RAW)) throw new SocketError("EPROTONOSUPPORT", "AF_CAN takes SOCK_RAW with CAN_RAW");
      this.proto = C.CAN_RAW;
      this.#can = new CanEndpoint(() => Socket.#changed(this));
    } else {
      this.proto = Socket.#ipProtocol(family, type, proto);
      if (ipSocketCount() >= MAX_SOCKETS) throw new SocketError("EMFILE", `the board has ${MAX_SOCKETS} sockets, all open`);
    }
    if (type === C.SOCK_RAW && !this.#can) {
      try {
        this.#raw = openRaw(proto, (data, address) => {
          this.#packets!.push([data, [address, 0]]);
          this.#readable = this.#packets!.length;
          Socket.#changed(this);
        });
      } catch (e) {
        throw fromPlatform(e, "EPERM", "a raw socket");
      }
      this.#packets = [];
    }
    this.#fileno = ++lastFileno;
    openSockets().add(this);
    if (accepted) Socket.#adopt(this, accepted);
  }

  /** The IP protocol an AF_INET/AF_INET6 socket of that type speaks; throws for a bad combination. */
  static #ipProtocol(family: number, type: number, proto: number): number {
    if (family !== C.AF_INET && family !== C.AF_INET6) throw new SocketError("EAFNOSUPPORT", `address family ${family}`);
    if (type !== C.SOCK_STREAM && type !== C.SOCK_DGRAM && type !== C.SOCK_RAW) throw new SocketError("EINVAL", `socket type ${type}`);
    if (type === C.SOCK_RAW && (family !== C.AF_INET || proto <= 0 || proto > 255))
      throw new SocketError("EPROTONOSUPPORT", "SOCK_RAW is for AF_INET with an IP protocol, such as IPPROTO_ICMP");
    const expected = type === C.SOCK_STREAM ? C.IPPROTO_TCP : type === C.SOCK_DGRAM ? C.IPPROTO_UDP : proto;
    if (proto !== 0 && proto !== expected) throw new SocketError("EPROTONOSUPPORT", `protocol ${proto} with socket type ${type}`);
    return expected;
  }

  /** An lwIP socket (CAN sockets are not). */
  get isIP(): boolean {
    return !this.#can;
  }

  fileno(): number {
    return this.#fileno;
  }

  // --- timeouts -------------------------------------------------------------------------

  /** null blocks; 0 is non-blocking (EAGAIN); > 0 fails with ETIMEDOUT after that many ms. */
  settimeout(ms: number | null): void {
    if (ms !== null && !(ms >= 0)) throw new SocketError("EINVAL", "a timeout is null or a number of ms >= 0");
    this.#timeout = ms;
    this.#recvTimeout = undefined;
  }

  gettimeout(): number | null {
    return this.#timeout;
  }

  setblocking(flag: boolean): void {
    this.settimeout(flag ? null : 0);
  }

  // --- options --------------------------------------------------------------------------

  /** SOL_CAN_RAW's CAN_RAW_FILTER takes a list of {can_id, can_mask} (or packed struct can_filter). */
  setsockopt(level: number, option: number, value: number | boolean | readonly CanFilter[] | ArrayBufferLike | ArrayBufferView): void {
    if (level === C.SOL_CAN_RAW) {
      if (!this.#can) throw new SocketError("ENOPROTOOPT", "SOL_CAN_RAW on a socket that is not AF_CAN");
      Socket.#open(this);
      this.#can.setOption(option, value);
      return;
    }
    const n = Number(value);
    if (level === C.SOL_SOCKET && option === C.SO_RCVTIMEO) this.#recvTimeout = n > 0 ? n : null;
    else if (level === C.SOL_SOCKET && (option === C.SO_REUSEADDR || option === C.SO_KEEPALIVE || option === C.SO_SNDTIMEO)) {
      if (option === C.SO_SNDTIMEO) this.#timeout = n > 0 ? n : null;
    } else if (!(level === C.IPPROTO_TCP && option === C.TCP_NODELAY)) {
      throw new SocketError("EINVAL", `option ${option} at level ${level}`);
    }
    (this.#options ??= new Map()).set(`${level}:${option}`, n);
  }

  getsockopt(level: typeof C.SOL_CAN_RAW, option: typeof C.CAN_RAW_FILTER): CanFilter[];
  getsockopt(level: number, option: number): number;
  getsockopt(level: number, option: number): number | CanFilter[] {
    if (level === C.SOL_CAN_RAW) {
      if (!this.#can) throw new SocketError("ENOPROTOOPT", "SOL_CAN_RAW on a socket that is not AF_CAN");
      return this.#can.getOption(option);
    }
    if (level === C.SOL_SOCKET && option === C.SO_TYPE) return this.type;
    if (level === C.SOL_SOCKET && option === C.SO_ERROR) return this.#error?.errno ?? 0;
    if (level === C.SOL_SOCKET && option === C.SO_RCVTIMEO) return this.#recvTimeout ?? this.#timeout ?? 0;
    return this.#options?.get(`${level}:${option}`) ?? 0;
  }

  // --- addresses ------------------------------------------------------------------------

  /** For AF_CAN, [ifname, 0]. */
  getsockname(): Address {
    if (this.#can) return [this.#can.ifname, 0];
    if (this.#listener) return [this.#bound![0], this.#listener.port];
    return this.#bound ?? [Socket.#any(this), 0];
  }

  getpeername(): Address {
    if (this.#can) throw new SocketError("ENOTCONN", "a CAN_RAW socket has no peer");
    if (this.#tcp && this.#state === "connected") return [this.#tcp.remoteAddress ?? "", this.#tcp.remotePort ?? 0];
    if (this.#peer) return this.#peer;
    throw new SocketError("ENOTCONN", "not connected");
  }

  // --- connection setup -----------------------------------------------------------------

  /** For AF_CAN, an interface name: "can0" or ["can0"] ("" for the board's first). */
  bind(address: AddressLike): void {
    Socket.#open(this);
    if (this.#can) return this.#can.bind(address);
    if (this.#bound) throw new SocketError("EINVAL", "already bound");
    const [host, port] = toAddress(address, this.family);
    Socket.#checkFamily(this, host);
    this.#bound = [host, port];
    if (this.type === C.SOCK_DGRAM) Socket.#makeUdp(this); // a raw socket hears every address anyway
  }

  /** The platform's listener queues connections itself: backlog is checked, not applied. */
  listen(backlog = 2): void {
    Socket.#open(this);
    if (!Number.isInteger(backlog) || backlog < 0) throw new SocketError("EINVAL", `bad backlog ${backlog}`);
    if (this.#can) throw new SocketError("EOPNOTSUPP", "listen on a CAN socket");
    if (this.type !== C.SOCK_STREAM) throw new SocketError("EOPNOTSUPP", "listen on a datagram socket");
    if (this.#state !== "new") throw new SocketError("EINVAL", `listen on a ${this.#state} socket`);
    const [host, port] = this.#bound ?? [Socket.#any(this), 0];
    this.#bound = [host, port];
    try {
      this.#listener = new Listener({
        address: host,
        port,
        target: this,
        onReadable: Socket.#onReadable,
      });
    } catch (e) {
      throw fromPlatform(e, "EADDRINUSE", `listen on [${host}]:${port}`);
    }
    this.#state = "listening";
  }

  accept(): Promise<[Socket, Address]> {
    return Socket.#settle(this, () => {
      Socket.#open(this);
      if (this.#state !== "listening") throw new SocketError("EINVAL", "accept on a socket that is not listening");
      while (this.#readable > 0) {
        const incoming = this.#listener!.read();
        this.#readable--;
        if (!incoming) {
          this.#readable = 0; // the count was more than the platform had: wait for its next
          break;
        }
        let conn: Socket;
        try {
          conn = new Socket(this.family, C.SOCK_STREAM, 0, incoming);
        } catch {
          incoming.close(); // past the board's limit: refuse this one, keep listening
          continue;
        }
        conn.#timeout = this.#timeout;
        return [conn, conn.getpeername()] as [Socket, Address];
      }
      return undefined;
    }, this.#timeout, "accept");
  }

  async connect(address: AddressLike): Promise<void> {
    Socket.#open(this);
    if (this.#can) throw new SocketError("EOPNOTSUPP", "connect on a CAN_RAW socket: bind it to an interface");
    const [name, port] = toAddress(address, this.family);
    const host = await Socket.#resolve(this, name);
    if (this.type !== C.SOCK_STREAM) {
      if (!this.#raw) Socket.#makeUdp(this);
      this.#peer = [host, port];
      return;
    }
    if (this.#state === "connected") throw new SocketError("EISCONN", "already connected");
    if (this.#state !== "new") throw new SocketError("EALREADY", `connect on a ${this.#state} socket`);
    this.#state = "connecting";
    try {
      const tls = this.#tls;
      const Io = (tls ? TLSSocket : TCP) as typeof TCP;
      this.#tcp = new Io({
        address: host,
        port,
        ...(tls && {
          host: tls.server_hostname ?? name,
          secure: {
            verify: tls.verify ?? true,
            ...(tls.ca && { certificate: tls.ca }),
            ...(tls.alpn_protocols?.length && { applicationLayerProtocolNegotiation: tls.alpn_protocols }),
            ...(tls.certificate && tls.key && { clientCertificates: [tls.certificate], clientKey: tls.key }),
          },
          TCP: { io: TCP },
        }),
        nodelay: this.#options?.get(`${C.IPPROTO_TCP}:${C.TCP_NODELAY}`) === 1,
        target: this,
        // Moddable's TLSSocket calls them with `this` as its own record of them, with no
        // target: so a TLS socket's are closures over it.
        ...(tls ? Socket.#callbacks(this) : { onReadable: Socket.#onReadable, onWritable: Socket.#onWritable, onError: Socket.#onError }),
      });
    } catch (e) {
      this.#state = "new";
      throw fromPlatform(e, "ECONNREFUSED", `connect to [${host}]:${port}`);
    }
    // Non-blocking, as in BSD: EINPROGRESS, and the connection goes on; select() tells when it is up.
    if (this.#timeout === 0 && this.#state === "connecting") throw new SocketError("EINPROGRESS", `connect to [${host}]:${port} goes on`);
    try {
      await Socket.#settle(this, () => Socket.#check(this) ?? (this.#state === "connected" || undefined), this.#timeout, "connect");
    } catch (e) {
      this.#tcp?.close();
      this.#tcp = undefined;
      this.#state = "new";
      throw e;
    }
  }

  /** wrap_socket: a stream socket, not connected yet, will speak TLS once it connects. */
  wrap(options: TlsOptions): void {
    Socket.#open(this);
    if (this.type !== C.SOCK_STREAM || this.#state !== "new") throw new SocketError("EINVAL", "wrap_socket takes a stream socket before it connects");
    this.#tls = options;
  }

  // --- sending --------------------------------------------------------------------------

  /**
   * Sends what the send buffer takes now (at least a byte); returns how many bytes. A CAN socket
   * sends one frame (a CanFrame, or a packed 16-byte can_frame / 72-byte canfd_frame) and
   * returns the packed size.
   */
  send(data: Data | CanFrame): Promise<number> {
    if (this.#can) return Socket.#sendFrame(this, data as CanData);
    if (isFrame(data)) return Promise.reject(new SocketError("EINVAL", "a CAN frame on a socket that is not AF_CAN"));
    const bytes = toBytes(data);
    if (this.type !== C.SOCK_STREAM) {
      if (!this.#peer) return Promise.reject(new SocketError("ENOTCONN", "send on an unconnected datagram socket: use sendto"));
      return this.sendto(bytes, this.#peer);
    }
    return Socket.#settle(this, () => Socket.#sendable(this) && (bytes.length ? Socket.#write(this, bytes) || undefined : 0), this.#timeout, "send");
  }

  /** Sends all of it, waiting for send space as often as it takes. */
  sendall(data: Data): Promise<void> {
    let rest = data instanceof Uint8Array ? data : toBytes(data);
    if (this.type !== C.SOCK_STREAM) return this.send(rest).then(() => undefined);
    const attempt = () => {
      Socket.#sendable(this);
      while (rest.length) {
        const n = Socket.#write(this, rest);
        if (!n) return undefined;
        rest = n < rest.length ? rest.subarray(n) : NOTHING;
      }
      return true;
    };
    // Most often it all fits at once: then no promise waits on another.
    try {
      if (attempt()) return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
    return Socket.#settle(this, attempt, this.#timeout, "sendall").then(() => undefined);
  }

  async sendto(data: Data, address: AddressLike): Promise<number> {
    Socket.#open(this);
    if (this.#can) {
      const name = Array.isArray(address) ? address[0] : address;
      if (name && name !== this.#can.ifname) throw new SocketError("EINVAL", `sendto ${shown(name)}: the socket is bound to ${this.#can.ifname || "no interface"}`);
      return Socket.#sendFrame(this, data as CanData);
    }
    if (this.type === C.SOCK_STREAM) throw new SocketError("EISCONN", "sendto on a stream socket");
    const bytes = toBytes(data);
    const [name, port] = toAddress(address, this.family);
    const host = await Socket.#resolve(this, name);
    try {
      if (this.#raw) this.#raw.write(host, bytes.slice().buffer);
      else {
        Socket.#makeUdp(this);
        this.#udp!.write(bytes, host, port);
      }
    } catch (e) {
      throw fromPlatform(e, "EHOSTUNREACH", `sendto [${host}]:${port}`);
    }
    return bytes.length;
  }

  /** Sends a frame, waiting (within the timeout) while the controller's transmit queue is full. */
  static #sendFrame(self: Socket, data: CanData): Promise<number> {
    const can = self.#can!;
    let frame: CanFrame;
    try {
      Socket.#open(self);
      frame = can.frameOf(data);
    } catch (e) {
      return Promise.reject(e);
    }
    const size = frame.fd ? 72 : 16;
    return Socket.#settle(self, () => {
      Socket.#open(self);
      return can.send(frame) ? size : undefined;
    }, self.#timeout, "send");
  }

  /** The next CAN frame received, as an object (recv() gives it packed). */
  recv_frame(): Promise<CanFrame> {
    if (!this.#can) return Promise.reject(new SocketError("EINVAL", "recv_frame on a socket that is not AF_CAN"));
    return Socket.#settle(this, () => Socket.#takeFrame(this, "recv_frame"), Socket.#receiveTimeout(this), "recv_frame");
  }

  /** Frames this CAN socket dropped because its queue was full. */
  get dropped(): number {
    return this.#can?.dropped ?? 0;
  }

  /** Throws unless a stream send may go ahead. */
  static #sendable(self: Socket): true {
    Socket.#open(self);
    if (self.#ended & WRITE_SHUT) throw new SocketError("EPIPE", "the socket was shut down for writing");
    if (self.#error) throw self.#error;
    if (self.#state !== "connected") throw new SocketError("ENOTCONN", "not connected");
    return true;
  }

  /** Writes what the send buffer takes now; returns how many bytes (0: none fit). */
  static #write(self: Socket, bytes: Uint8Array): number {
    const n = bytes.length < self.#writable ? bytes.length : self.#writable;
    if (!n) return 0;
    try {
      self.#tcp!.write(n === bytes.length ? bytes : bytes.subarray(0, n));
    } catch (e) {
      throw fromPlatform(e, "EPIPE", "send");
    }
    self.#writable -= n;
    return n;
  }

  // --- receiving ------------------------------------------------------------------------

  /** What is available, up to bufsize; an empty array once the peer has closed. */
  recv(bufsize: number): Promise<Uint8Array> {
    // A stream's bytes, without the peer's address that the others give along.
    if (this.type === C.SOCK_STREAM && bufsize >= 0) return Socket.#settle(this, () => Socket.#takeBytes(this, bufsize), Socket.#receiveTimeout(this), "recv");
    return Socket.#receive(this, bufsize, "recv", (data) => data);
  }

  recvfrom(bufsize: number): Promise<[Uint8Array, Address]> {
    return Socket.#receive(this, bufsize, "recvfrom", (data, from) => [data, from]);
  }

  recv_into(buffer: Uint8Array, nbytes = 0): Promise<number> {
    return Socket.#receive(this, nbytes > 0 ? Math.min(nbytes, buffer.length) : buffer.length, "recv_into", (data) => {
      buffer.set(data);
      return data.length;
    });
  }

  recvfrom_into(buffer: Uint8Array, nbytes = 0): Promise<[number, Address]> {
    return Socket.#receive(this, nbytes > 0 ? Math.min(nbytes, buffer.length) : buffer.length, "recvfrom_into", (data, from) => {
      buffer.set(data);
      return [data.length, from];
    });
  }

  static #receive<T>(self: Socket, bufsize: number, what: string, answer: (data: Uint8Array, from: Address) => T): Promise<T> {
    if (!(bufsize >= 0)) return Promise.reject(new SocketError("EINVAL", "bufsize must be >= 0"));
    return Socket.#settle(self, () => {
      const got = self.#can ? Socket.#takePacked(self, bufsize, what) : self.type === C.SOCK_STREAM ? Socket.#takeStream(self, bufsize) : Socket.#takeDatagram(self, bufsize, what);
      return got && answer(got[0], got[1]);
    }, Socket.#receiveTimeout(self), what);
  }

  /** SO_RCVTIMEO when set, else the socket's timeout. */
  static #receiveTimeout(self: Socket): number | null {
    return self.#recvTimeout !== undefined ? self.#recvTimeout : self.#timeout;
  }

  /** The next datagram (from the peer, when connected), cut to bufsize; undefined when none is here. */
  static #takeDatagram(self: Socket, bufsize: number, what: string): [Uint8Array, Address] | undefined {
    Socket.#open(self);
    if (!self.#udp && !self.#raw) throw new SocketError("EINVAL", `${what} on an unbound datagram socket`);
    while (self.#readable > 0) {
      self.#readable--;
      let data: Uint8Array, from: Address;
      if (self.#raw) [data, from] = self.#packets!.shift()!;
      else {
        const packet = self.#udp!.read() as Packet | undefined;
        if (!packet) break;
        [data, from] = [new Uint8Array(packet), [packet.address, packet.port]];
      }
      // A connected datagram socket hears its peer only.
      if (self.#peer && (from[0] !== self.#peer[0] || (!self.#raw && from[1] !== self.#peer[1]))) continue;
      return [data.slice(0, bufsize), from];
    }
    return undefined;
  }

  /** The next CAN frame received; undefined when none is here. */
  static #takeFrame(self: Socket, what: string): CanFrame | undefined {
    Socket.#open(self);
    if (!self.#can!.bound) throw new SocketError("EINVAL", `${what} on an unbound CAN socket`);
    return self.#can!.queue.shift();
  }

  /** The next CAN frame, packed and cut to bufsize (as Linux truncates); undefined when none is here. */
  static #takePacked(self: Socket, bufsize: number, what: string): [Uint8Array, Address] | undefined {
    const frame = Socket.#takeFrame(self, what);
    return frame && [packFrame(frame).subarray(0, bufsize), [self.#can!.ifname, 0]];
  }

  /** Bytes that are here, up to bufsize; empty at the end; undefined when there are none yet. */
  static #takeStream(self: Socket, bufsize: number): [Uint8Array, Address] | undefined {
    const data = Socket.#takeBytes(self, bufsize);
    return data && [data, (self.#peer ??= self.getpeername())];
  }

  /** Bytes that are here, up to bufsize; empty at the end; undefined when there are none yet. */
  static #takeBytes(self: Socket, bufsize: number): Uint8Array | undefined {
    Socket.#open(self);
    if (self.#state !== "connected") throw new SocketError("ENOTCONN", "not connected");
    if (self.#ended & READ_SHUT || bufsize === 0) return new Uint8Array(0);
    if (self.#readable > 0) {
      const data = self.#tcp!.read(bufsize < self.#readable ? bufsize : self.#readable) as ArrayBuffer | undefined;
      if (data) {
        self.#readable = self.#readable > data.byteLength ? self.#readable - data.byteLength : 0;
        return new Uint8Array(data);
      }
      self.#readable = 0; // the count was more than the platform had: wait for its next
    }
    // Data and the end of the stream come before an error.
    if (self.#ended & PEER_CLOSED) return new Uint8Array(0);
    if (self.#error) throw self.#error;
    return undefined;
  }

  // --- ending ---------------------------------------------------------------------------

  shutdown(how: number): void {
    Socket.#open(this);
    if (how !== C.SHUT_RD && how !== C.SHUT_WR && how !== C.SHUT_RDWR) throw new SocketError("EINVAL", `shutdown how ${how}`);
    if (this.#can) throw new SocketError("EOPNOTSUPP", "shutdown on a CAN socket");
    if (this.type === C.SOCK_STREAM && this.#state !== "connected") throw new SocketError("ENOTCONN", "not connected");
    if (how !== C.SHUT_WR) this.#ended |= READ_SHUT;
    if (how !== C.SHUT_RD) this.#ended |= WRITE_SHUT;
    Socket.#changed(this);
  }

  close(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    openSockets().delete(this);
    this.#can?.close();
    this.#tcp?.close();
    // ECMA-419 gives every IO close(); the typings leave it out for these two.
    (this.#listener as unknown as { close(): void } | undefined)?.close();
    (this.#udp as unknown as { close(): void } | undefined)?.close();
    this.#raw?.close();
    this.#raw = undefined;
    this.#tcp = undefined;
    this.#listener = undefined;
    this.#udp = undefined;
    Socket.#changed(this);
  }

  // --- readiness, for select and poll ---------------------------------------------------

  /** A receive (or accept) would not block. */
  get readyToRead(): boolean {
    if (this.#can) return this.#state === "closed" || this.#can.queue.length > 0;
    return this.#state === "closed" || this.#readable > 0 || (this.#ended & (PEER_CLOSED | READ_SHUT)) !== 0 || this.#error !== undefined;
  }

  /** A send would not block. */
  get readyToWrite(): boolean {
    if (this.#state === "closed" || this.#error) return true;
    if (this.#can) return this.#can.writable;
    if (this.type !== C.SOCK_STREAM) return true;
    return this.#state === "connected" && this.#writable > 0;
  }

  get failed(): boolean {
    return this.#error !== undefined;
  }

  get closed(): boolean {
    return this.#state === "closed";
  }

  get hungUp(): boolean {
    return (this.#ended & PEER_CLOSED) !== 0;
  }

  // --- inside ---------------------------------------------------------------------------

  static #any(self: Socket): string {
    return self.family === C.AF_INET6 ? "::" : "0.0.0.0";
  }

  static #open(self: Socket): void {
    if (self.#state === "closed") throw new SocketError("EBADF", "the socket is closed");
  }

  static #checkFamily(self: Socket, host: string): void {
    const family = familyOf(host);
    if (family && family !== self.family)
      throw new SocketError("EAFNOSUPPORT", `${host} is not an ${self.family === C.AF_INET6 ? "IPv6" : "IPv4"} address`);
  }

  static async #resolve(self: Socket, name: string): Promise<string> {
    if (familyOf(name)) {
      Socket.#checkFamily(self, name);
      return name;
    }
    return resolveHost(name, self.family);
  }

  static #adopt(self: Socket, accepted: TCP): void {
    self.#state = "connected";
    self.#tcp = new TCP({
      from: accepted,
      nodelay: true,
      target: self,
      onReadable: Socket.#onReadable,
      onWritable: Socket.#onWritable,
      onError: Socket.#onError,
    });
  }

  static #makeUdp(self: Socket): void {
    if (self.#udp) return;
    const [host, port] = self.#bound ?? [Socket.#any(self), 0];
    // Moddable's UDP socket does not tell the port it bound, so for port 0 the socket picks one
    // of lwIP's ephemeral ports itself, and tries another while one is taken.
    for (let tries = port ? 1 : EPHEMERAL_TRIES; ; tries--) {
      const local = port || EPHEMERAL_FIRST + Math.floor(Math.random() * (65536 - EPHEMERAL_FIRST));
      try {
        self.#udp = new UDP({ address: host, port: local, target: self, onReadable: Socket.#onReadable });
        self.#bound = [host, local];
        return;
      } catch (e) {
        const error = fromPlatform(e, "EADDRINUSE", `bind [${host}]:${local}`);
        if (tries <= 1 || error.code !== "EADDRINUSE") throw error;
      }
    }
  }

  /** The platform's callbacks, bound to this socket. */
  static #callbacks(self: Socket) {
    const target = { target: self };
    return {
      onReadable: (count: number) => Socket.#onReadable.call(target, count),
      onWritable: (bytes: number) => Socket.#onWritable.call(target, bytes),
      onError: (why?: string) => Socket.#onError.call(target, why),
    };
  }

  // The platform's callbacks: shared by every socket (its `target` is the Socket), so an open
  // socket holds no closures of its own.
  static #onReadable(this: unknown, count: number): void {
    const sock = (this as { target: Socket }).target;
    sock.#readable = count;
    Socket.#changed(sock);
  }

  static #onWritable(this: unknown, bytes: number): void {
    const sock = (this as { target: Socket }).target;
    sock.#writable = bytes;
    if (sock.#state === "connecting") sock.#state = "connected";
    Socket.#changed(sock);
  }

  static #onError(this: unknown, why?: string): void {
    const sock = (this as { target: Socket }).target;
    Socket.#failed(sock, why);
    Socket.#changed(sock);
  }

  /** The platform's onError: a peer's FIN arrives as "closed" (or with no reason, on the board). */
  static #failed(self: Socket, why?: string): void {
    if (self.#state === "connecting") {
      self.#error = fromPlatform({ code: why, message: "refused" }, "ECONNREFUSED", "connect");
    } else if (!why || why === "closed") {
      self.#ended |= PEER_CLOSED;
    } else {
      self.#error = fromPlatform({ code: why, message: "connection lost" }, "ECONNRESET", "recv");
    }
  }

  /** Tells whoever waits on this socket, or on select, that it has changed. */
  static #changed(self: Socket): void {
    // Each waiter is called from a copy, as one may come or go meanwhile; with none (or one
    // waiter, who at most removes itself) there is nothing to copy. XS counts a spread and a
    // for-of as an iterator's calls: the common case here runs neither.
    const waiters = self.#waiters;
    if (waiters?.size === 1) waiters.forEach(call);
    else if (waiters?.size) Array.from(waiters).forEach(call);
    if (watcherSet?.size) Array.from(watcherSet).forEach(call);
  }

  /** Throws the socket's error, or EBADF once it is closed. */
  static #check(self: Socket): undefined {
    if (self.#state === "closed") throw new SocketError("EBADF", "the socket is closed");
    if (self.#error) throw self.#error;
    return undefined;
  }

  /**
   * Runs `attempt` now, and again each time the socket changes, until it gives an answer
   * (anything but undefined) or throws. Non-blocking (timeout 0) fails at once with EAGAIN;
   * a timeout fails with ETIMEDOUT. One promise an operation, whatever it waits for.
   */
  static #settle<T>(self: Socket, attempt: () => T | undefined, timeout: number | null, what: string): Promise<T> {
    try {
      const now = attempt();
      if (now !== undefined) return Promise.resolve(now);
    } catch (e) {
      return Promise.reject(e);
    }
    if (timeout === 0) return Promise.reject(new SocketError("EAGAIN", `${what} would block`));
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof Timer.set> | undefined;
      const done = () => {
        self.#waiters!.delete(waiter);
        if (timer) Timer.clear(timer);
      };
      const waiter = () => {
        let answer: T | undefined;
        try {
          answer = attempt();
        } catch (e) {
          done();
          reject(e);
          return;
        }
        if (answer === undefined) return;
        done();
        resolve(answer);
      };
      (self.#waiters ??= new Set()).add(waiter);
      if (timeout !== null)
        timer = Timer.set(() => {
          timer = undefined;
          done();
          reject(new TimeoutError(what, timeout));
        }, timeout);
    });
  }
}

const call = (f: () => void) => f();
const NOTHING = new Uint8Array(0);

function isFrame(data: unknown): data is CanFrame {
  return typeof data === "object" && data !== null && "can_id" in data;
}

/** socket(family, type, proto): a new BSD socket. */
export function socket(family = C.AF_INET, type = C.SOCK_STREAM, proto = 0): Socket {
  return new Socket(family, type, proto);
}

/** Makes a client stream socket speak TLS once it connects; returns it (Python's ssl.wrap_socket). */
export function wrap_socket(sock: Socket, options: TlsOptions = {}): Socket {
  sock.wrap(options);
  return sock;
}

/** Sockets open now: the board's limit counts these. */
export function openCount(): number {
  return openSockets().size;
}
