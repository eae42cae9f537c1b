// The console's links: up to the board's number of TCP and UDP connections, each on an
// xsock/socket socket, with ESP-AT's announcements (<id>,CONNECT, +IPD, <id>,CLOSED).
import { AF_INET, AF_INET6, IPPROTO_TCP, SOCK_DGRAM, SOCK_STREAM, TCP_NODELAY, getaddrinfo, socket, wrap_socket, type Address, type Socket, type TlsOptions } from "xsock/socket";
import type { AtConsole, Clock } from "./console";
import { encodeLatin1 } from "./console";
import type { Pki } from "./cas";
import { joinBytes } from "./bytes";

export type LinkType = "TCP" | "UDP" | "SSL";

/**
 * A link id's SSL client settings. AT+CIPSSLCCONF: `mode` 0 checks nothing, 1 shows client
 * certificate `pki`, 2 checks the server's certificate against CA number `ca`, 3 both.
 * AT+CIPSSLCSNI, CIPSSLCCN, CIPSSLCALPN and CIPSSLCPSK set the rest.
 */
export interface SslConf {
  mode: number;
  pki: number;
  ca: number;
  /** The name sent in SNI, instead of the host. */
  sni?: string;
  /** The name the server's certificate must carry (auth modes 2 and 3), instead of the SNI or host. */
  cn?: string;
  /** ALPN's protocols, offered in ClientHello. */
  alpn?: string[];
  /** A pre-shared key and its hint: kept and reported, and the link refused (see `open`). */
  psk?: { key: Uint8Array; hint: string };
}

/**
 * AT+CIPTCPOPT for a link id: SO_LINGER in s (-1 off), TCP_NODELAY, SO_SNDTIMEO in ms (0 none)
 * and the keep-alive idle time in s (0 off). TCP_NODELAY applies to the next TCP link on the id,
 * SO_SNDTIMEO to every send; linger and keep-alive are kept and reported.
 */
export interface TcpOpt {
  linger: number;
  nodelay: 0 | 1;
  sndtimeo: number;
  keepAlive: number;
}

export const DEFAULT_TCPOPT: TcpOpt = { linger: -1, nodelay: 0, sndtimeo: 0, keepAlive: 0 };

/** What the links need of the console's UART. */
export interface UartFlow {
  /** Resolves when the UART has room: the receive loops wait on it (backpressure). */
  whenRoom(): Promise<void>;
  /** Stop and go on reading it: passthrough's backpressure toward the host. */
  pause(): void;
  resume(): void;
}

export interface Link {
  id: number;
  type: LinkType;
  /** A TCPv6, UDPv6 or SSLv6 link: an AF_INET6 socket. */
  v6?: boolean;
  sock: Socket;
  /** Where CIPSEND and passthrough send; a UDP link's may move to a sender (<mode> 1 and 2). */
  remote: Address;
  localPort: number;
  /**
   * A UDP link's CIPSTART <mode>: 0 keeps the remote end, 1 moves it to the first other sender,
   * 2 to each sender. A UDP link hears every sender on its port, whatever the mode.
   */
  udpMode?: number;
  /** 1 when the link came in through AT+CIPSERVER. */
  server: 0 | 1;
  /** Passive mode: what has come in and not been read with CIPRECVDATA, with its sender. */
  held: Uint8Array[];
  heldBytes: number;
  from: Address;
  /** Wakes the receive loop once CIPRECVDATA makes room. */
  wake?: () => void;
  /** Passthrough and CIPSEND writes, one after another. */
  sending: Promise<unknown>;
  /** Passthrough bytes from the UART not yet taken by the socket. */
  unsent: number;
  /**
   * The peer closed while passive data was unread: the link stays, its `CLOSED` waits until
   * CIPRECVDATA has read the data or AT+CIPCLOSE drops it (ESP-AT's CIPRECVTYPE note).
   */
  peerClosed?: boolean;
  /** A server link's idle timer (AT+CIPSTO): cancels it. */
  idle?: () => void;
}

/** The type ESP-AT prints for a link: "TCP", "UDPv6", ... */
export const typeName = (link: Link): string => `${link.type}${link.v6 ? "v6" : ""}`;

/** Passive mode holds up to this much a link; past it the link stops reading (TCP backpressure). */
export const PASSIVE_LIMIT = 8192;
/** Passthrough holds up to this much from the UART for a link; past it the UART is not read. */
export const PASSTHROUGH_LIMIT = 8192;

/** How many bytes a receive takes at a time; +IPD frames are no longer than this. */
const RECV_CHUNK = 2048;
/** Passthrough has no frames: it takes bigger bites. */
const PASSTHROUGH_CHUNK = 8192;

export class Links {
  /** AT+CIPMUX: 0 is one link (id 0, announced without ids), 1 is several. */
  mux = 0;
  /** AT+CIPDINFO: show the peer's address in +IPD. */
  showPeer = false;
  /** AT+SYSMSG: bit 0 prints +QUITT on leaving passthrough; bit 1 announces links as +LINK_CONN. */
  sysmsg = 0;
  /** AT+CIPV6: IPv6 links may be opened. */
  ipv6 = false;
  /** AT+CIPRECVTYPE per link id: false sends data out as +IPD at once, true holds it for CIPRECVDATA. */
  readonly passiveIds: boolean[];
  /** AT+CIPSTO: a server link closes after this many seconds without data; 0 never. */
  serverTimeout = 0;
  /** Passthrough (CIPMODE=1 and CIPSEND): this link's data goes to the UART as it is. */
  transparent?: Link;
  readonly links: (Link | undefined)[];
  private listener?: Socket;
  /** The running server's port (AT+CIPSERVER?). */
  serverPort = 0;
  serverMax: number;
  /** Each link id's AT+CIPSSLCCONF: it stays until changed, across the links on that id. */
  readonly ssl: SslConf[];
  /** Each link id's AT+CIPTCPOPT, likewise: none until set (the board's heap is small). */
  private readonly tcpopt: (TcpOpt | undefined)[] = [];
  /** AT+CIPMODE: 1 makes a bare AT+CIPSEND enter passthrough. */
  cipmode = 0;
  /**
   * A passthrough link's peer went away: true when the callee takes over (ESP-AT's client
   * reconnects and stays in passthrough, AT+CIPRECONNINTV); otherwise passthrough ends.
   */
  onPassthroughBreak?: (link: Link) => boolean;

  constructor(
    private readonly at: AtConsole,
    readonly max: number,
    private readonly uart: UartFlow,
    /** The CA certificates (DER) CIPSSLCCONF's CA numbers name; a hole is an unusable entry. */
    readonly cas: readonly (ArrayBuffer | undefined)[] = [],
    /** Times AT+CIPSTO's idle timeout; without one, server links never time out. */
    private readonly clock?: Clock,
    /** The client certificates and keys CIPSSLCCONF's PKI numbers name; a hole is an unusable entry. */
    readonly pki: readonly (Pki | undefined)[] = [],
  ) {
    this.links = new Array<Link | undefined>(max).fill(undefined);
    this.passiveIds = new Array<boolean>(max).fill(false);
    this.ssl = Array.from({ length: max }, () => ({ mode: 0, pki: 0, ca: 0 }));
    this.serverMax = max;
  }

  /** AT+CIPRECVMODE: every link id passive (true) or active; read, link id 0's mode. */
  get passive(): boolean {
    return this.passiveIds[0];
  }
  set passive(on: boolean) {
    this.passiveIds.fill(on);
  }

  /** A link has been opened since boot (CIPSTATUS tells 4 once they have all closed). */
  opened = false;

  get count(): number {
    return this.links.filter(Boolean).length;
  }

  /** A link id's AT+CIPTCPOPT options. */
  tcpOptions(id: number): TcpOpt {
    return this.tcpopt[id] ?? DEFAULT_TCPOPT;
  }

  setTcpOptions(id: number, change: Partial<TcpOpt>): void {
    this.tcpopt[id] = { ...this.tcpOptions(id), ...change };
  }

  /** The id ESP-AT prints: with CIPMUX=1, `<id>,`; otherwise nothing. */
  private prefix(id: number): string {
    return this.mux ? `${id},` : "";
  }

  freeId(): number | undefined {
    const id = this.links.findIndex((l) => !l);
    return id < 0 ? undefined : id;
  }

  /**
   * An SSL link's TLS options from its link id's settings. Moddable's TLS sends and checks one
   * name: the CN when the server is checked and one is set, else the SNI, else the host. Throws
   * for a CA or client certificate that is not configured, and for a PSK, which Moddable's TLS
   * has no cipher suite for.
   */
  private tlsOptions(id: number, host: string): TlsOptions {
    const conf = this.ssl[id]!;
    const checks = conf.mode === 2 || conf.mode === 3;
    const shows = conf.mode === 1 || conf.mode === 3;
    const ca = checks ? this.cas[conf.ca] : undefined;
    const pki = shows ? this.pki[conf.pki] : undefined;
    if (checks && !ca) throw new Error(`CA ${conf.ca} is not configured`);
    if (shows && !pki) throw new Error(`client certificate ${conf.pki} is not configured`);
    if (conf.psk) throw new Error("TLS-PSK is not supported");
    return {
      verify: checks,
      server_hostname: (checks && conf.cn) || conf.sni || host,
      ...(ca && { ca }),
      ...(pki && { certificate: pki.cert, key: pki.key }),
      ...(conf.alpn && { alpn_protocols: conf.alpn }),
    };
  }

  /**
   * Opens a TCP, UDP or SSL link to host:port, over IPv6 when `v6` (a name resolves to its IPv6
   * address, an IPv4 literal fails). Throws a SocketError when it cannot, or when
   * an SSL server's certificate fails the check the link id's CIPSSLCCONF asks for (auth modes 2
   * and 3: against its CA), or the server refuses its client certificate. Auth mode 0, ESP-AT's
   * default, checks nothing. `quiet`: no CONNECT (a passthrough link that reconnects: the UART
   * carries its data only).
   */
  async open(id: number, type: LinkType, host: string, port: number, localPort = 0, timeout = 0, v6 = false, quiet = false, udpMode = 0): Promise<Link> {
    const tls = type === "SSL" ? this.tlsOptions(id, host) : undefined;
    let remote: string | undefined;
    const sock = socket(v6 ? AF_INET6 : AF_INET, type === "UDP" ? SOCK_DGRAM : SOCK_STREAM);
    if (tls) wrap_socket(sock, tls);
    try {
      if (type === "TCP" && this.tcpOptions(id).nodelay) sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      sock.settimeout(timeout || 5000);
      if (type === "UDP") {
        // Not connected: a connected datagram socket would hear its peer alone, and ESP-AT's UDP
        // link takes datagrams from any sender on its local port.
        const [found] = await getaddrinfo(host, port, v6 ? AF_INET6 : AF_INET, SOCK_DGRAM);
        if (!found) throw new Error(`no address for ${host}`);
        sock.bind(localPort);
        remote = found[4][0];
      } else await sock.connect([host, port]);
      sock.settimeout(null);
    } catch (e) {
      sock.close();
      throw e;
    }
    // The peer's address, not its name, as ESP-AT prints it.
    const [peer] = remote ? [remote] : sock.getpeername();
    const link = this.newLink(id, type, sock, [peer || host, port], sock.getsockname()[1], 0);
    if (type === "UDP") link.udpMode = udpMode;
    link.v6 = v6;
    this.add(link, quiet);
    return link;
  }

  private newLink(id: number, type: LinkType, sock: Socket, remote: Address, localPort: number, server: 0 | 1): Link {
    return { id, type, sock, remote, localPort, server, held: [], heldBytes: 0, from: remote, sending: Promise.resolve(), unsent: 0 };
  }

  private add(link: Link, quiet = false): void {
    this.opened = true;
    this.links[link.id] = link;
    this.touch(link);
    const [ip, port] = link.remote;
    const announce = this.sysmsg & 2 ? `+LINK_CONN:0,${link.id},"${typeName(link)}",${link.server},"${ip}",${port},${link.localPort}` : `${this.prefix(link.id)}CONNECT`;
    if (!quiet) this.at.unsolicited(encodeLatin1(`${announce}\r\n`));
    void this.pump(link);
  }

  /**
   * The link's receive loop: data goes out as +IPD (active), is held for CIPRECVDATA
   * (passive), or goes to the UART as it is (passthrough). It reads no faster than its
   * destination takes the data.
   */
  private async pump(link: Link): Promise<void> {
    try {
      for (;;) {
        if (this.passiveIds[link.id] && this.transparent !== link) await new Promise<void>((resolve) => (link.heldBytes < PASSIVE_LIMIT ? resolve() : (link.wake = resolve)));
        else {
          await this.at.whenRoom(); // no +IPD piles up behind a CIPSEND payload
          await this.uart.whenRoom();
        }
        const chunk = this.transparent === link ? PASSTHROUGH_CHUNK : RECV_CHUNK;
        const [data, from] = link.type === "UDP" ? await link.sock.recvfrom(chunk) : [await link.sock.recv(chunk), link.remote];
        if (!data.length && link.type !== "UDP") break;
        if (this.links[link.id] !== link) return;
        this.touch(link);
        if (link.udpMode && (from[0] !== link.remote[0] || from[1] !== link.remote[1])) {
          link.remote = from;
          if (link.udpMode === 1) link.udpMode = 0; // mode 1 moves once
        }
        if (this.transparent === link) {
          this.at.unsolicited(data);
          continue;
        }
        // The mode as it is now: CIPRECVTYPE may have changed it while the receive waited.
        if (this.passiveIds[link.id]) {
          link.held.push(data);
          link.heldBytes += data.length;
          link.from = from;
          this.at.unsolicited(encodeLatin1(`\r\n+IPD,${this.prefix(link.id)}${data.length}\r\n`));
          continue;
        }
        const peer = this.showPeer ? `,"${from[0]}",${from[1]}` : "";
        const head = encodeLatin1(`\r\n+IPD,${this.prefix(link.id)}${data.length}${peer}:`);
        this.at.unsolicited(joinBytes([head, data]));
      }
    } catch {
      // a reset or an error ends this link only
    }
    if (this.links[link.id] !== link) return;
    if (link.heldBytes) {
      // Passive data outlives the peer: CLOSED waits until it is read, or AT+CIPCLOSE.
      link.peerClosed = true;
      link.idle?.();
      link.sock.close();
    } else if (this.transparent === link && this.onPassthroughBreak?.(link)) {
      this.links[link.id] = undefined;
      this.transparent = undefined;
      link.sock.close();
    } else this.close(link.id);
  }

  /** A server link's data restarts its AT+CIPSTO idle timer. */
  private touch(link: Link): void {
    link.idle?.();
    link.idle = undefined;
    if (!link.server || !this.serverTimeout || !this.clock) return;
    link.idle = this.clock.after(this.serverTimeout * 1000, () => {
      link.idle = undefined;
      if (this.links[link.id] === link) this.close(link.id);
    });
  }

  /** AT+CIPSTO: a new timeout restarts the server links' timers. */
  setServerTimeout(seconds: number): void {
    this.serverTimeout = seconds;
    for (const link of this.links) if (link?.server && !link.peerClosed) this.touch(link);
  }

  /** Closes a link and announces it: `<id>,CLOSED`; passive data it held is dropped. */
  close(id: number): boolean {
    const link = this.links[id];
    if (!link) return false;
    this.links[id] = undefined;
    link.idle?.();
    link.sock.close();
    link.held = [];
    link.heldBytes = 0;
    if (this.transparent === link) this.at.leavePassthrough();
    this.at.unsolicited(encodeLatin1(`${this.prefix(id)}CLOSED\r\n`));
    return true;
  }

  /** The link (open, or closed by its peer with data unread) whose passive data CIPRECVDATA reads. */
  holding(id: number): Link | undefined {
    return this.links[id];
  }

  /**
   * Takes up to n held bytes of a link (CIPRECVDATA), and lets its receive loop go on. Once
   * the last of a link its peer closed is read, the link closes: `CLOSED` (the caller prints
   * its reply first, then calls `closeIfDrained`).
   */
  take(link: Link, n: number): Uint8Array {
    const all = link.held.length === 1 ? link.held[0] : joinBytes(link.held);
    const got = all.subarray(0, n);
    link.held = got.length < all.length ? [all.subarray(got.length)] : [];
    link.heldBytes = all.length - got.length;
    const wake = link.wake;
    link.wake = undefined;
    wake?.();
    return got;
  }

  /** Closes a link its peer closed once its passive data has all been read. */
  closeIfDrained(link: Link): void {
    if (link.peerClosed && !link.heldBytes && this.links[link.id] === link) this.close(link.id);
  }

  /**
   * Queues bytes for a link, after whatever it is still sending. With AT+CIPTCPOPT's
   * SO_SNDTIMEO the promise fails once that many ms have gone by (the bytes may still go).
   */
  queueSend(link: Link, data: Uint8Array): Promise<void> {
    this.touch(link);
    const sent = link.sending.then(async () => void (link.type === "UDP" ? await link.sock.sendto(data, link.remote) : await link.sock.sendall(data)));
    link.sending = sent.catch(() => {});
    const limit = this.tcpOptions(link.id).sndtimeo;
    if (!limit || !this.clock || link.type === "UDP") return sent;
    const clock = this.clock;
    return new Promise((resolve, reject) => {
      const cancel = clock.after(limit, () => reject(new Error("SO_SNDTIMEO")));
      sent.then(
        () => (cancel(), resolve()),
        (e: unknown) => (cancel(), reject(e)),
      );
    });
  }

  /**
   * Passthrough: sends `link` what the UART brings, all of it, and leaves at `+++`. Without a
   * link (it is reconnecting), the bytes are dropped.
   */
  enterPassthrough(link?: Link): void {
    this.transparent = link;
    this.at.enterPassthrough(
      (bytes) => {
        if (this.transparent) this.forward(this.transparent, bytes);
      },
      () => {
        this.transparent = undefined;
        this.uart.resume();
        if (this.sysmsg & 1) this.at.unsolicited(encodeLatin1("+QUITT\r\n"));
      },
    );
  }

  /** Past PASSTHROUGH_LIMIT bytes unsent, the UART is not read until the socket takes some. */
  private forward(link: Link, bytes: Uint8Array): void {
    link.unsent += bytes.length;
    if (link.unsent >= PASSTHROUGH_LIMIT) this.uart.pause();
    const sent = () => {
      link.unsent -= bytes.length;
      if (link.unsent < PASSTHROUGH_LIMIT / 2) this.uart.resume();
    };
    this.queueSend(link, bytes).then(sent, sent);
  }

  /** AT+CIPSERVER=1,port: incoming clients become links. */
  listen(port: number): void {
    const server = socket(AF_INET, SOCK_STREAM);
    try {
      server.bind(port);
      server.listen(this.max);
    } catch (e) {
      server.close();
      throw e;
    }
    this.listener = server;
    this.serverPort = server.getsockname()[1];
    void this.acceptLoop(server);
  }

  get serving(): boolean {
    return this.listener !== undefined;
  }

  stopListening(): void {
    this.listener?.close();
    this.listener = undefined;
    this.serverPort = 0;
  }

  private async acceptLoop(server: Socket): Promise<void> {
    for (;;) {
      let conn: Socket, addr: Address;
      try {
        [conn, addr] = await server.accept();
      } catch {
        return; // the server was closed
      }
      const id = this.freeId();
      const fromServer = this.links.filter((l) => l?.server).length;
      if (id === undefined || fromServer >= this.serverMax) {
        conn.close();
        continue;
      }
      this.add(this.newLink(id, "TCP", conn, addr, server.getsockname()[1], 1));
    }
  }
}
