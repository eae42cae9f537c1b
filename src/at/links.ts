// The console's links: up to the board's number of TCP and UDP connections, each on an
// xsock/socket socket, with ESP-AT's announcements (<id>,CONNECT, +IPD, <id>,CLOSED).
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, socket, type Address, type Socket } from "xsock/socket";
import type { AtConsole } from "./console";
import { encodeLatin1 } from "./console";

export type LinkType = "TCP" | "UDP";

export interface Link {
  id: number;
  type: LinkType;
  sock: Socket;
  remote: Address;
  localPort: number;
  /** 1 when the link came in through AT+CIPSERVER. */
  server: 0 | 1;
}

/** How many bytes a receive takes at a time; +IPD frames are no longer than this. */
const RECV_CHUNK = 2048;

export class Links {
  /** AT+CIPMUX: 0 is one link (id 0, announced without ids), 1 is several. */
  mux = 0;
  /** AT+CIPDINFO: show the peer's address in +IPD. */
  showPeer = false;
  readonly links: (Link | undefined)[];
  private listener?: Socket;
  serverMax: number;

  constructor(
    private readonly at: AtConsole,
    readonly max: number,
  ) {
    this.links = new Array<Link | undefined>(max).fill(undefined);
    this.serverMax = max;
  }

  get count(): number {
    return this.links.filter(Boolean).length;
  }

  /** The id ESP-AT prints: with CIPMUX=1, `<id>,`; otherwise nothing. */
  private prefix(id: number): string {
    return this.mux ? `${id},` : "";
  }

  freeId(): number | undefined {
    const id = this.links.findIndex((l) => !l);
    return id < 0 ? undefined : id;
  }

  /** Opens a TCP or UDP link to host:port. Throws a SocketError when it cannot. */
  async open(id: number, type: LinkType, host: string, port: number, localPort = 0): Promise<Link> {
    const family = host.includes(":") ? AF_INET6 : AF_INET;
    const sock = socket(family, type === "TCP" ? SOCK_STREAM : SOCK_DGRAM);
    try {
      sock.settimeout(5000);
      if (type === "UDP" && localPort) sock.bind(localPort);
      await sock.connect([host, port]);
      sock.settimeout(null);
    } catch (e) {
      sock.close();
      throw e;
    }
    const link: Link = { id, type, sock, remote: [host, port], localPort: type === "UDP" ? sock.getsockname()[1] : 0, server: 0 };
    this.add(link);
    return link;
  }

  private add(link: Link): void {
    this.links[link.id] = link;
    this.at.unsolicited(encodeLatin1(`${this.prefix(link.id)}CONNECT\r\n`));
    void this.pump(link);
  }

  /** Active receive: each chunk that arrives goes out as +IPD. */
  private async pump(link: Link): Promise<void> {
    try {
      for (;;) {
        const [data, from] = link.type === "UDP" ? await link.sock.recvfrom(RECV_CHUNK) : [await link.sock.recv(RECV_CHUNK), link.remote];
        if (!data.length && link.type === "TCP") break;
        if (this.links[link.id] !== link) return;
        const peer = this.showPeer ? `,"${from[0]}",${from[1]}` : "";
        const head = encodeLatin1(`\r\n+IPD,${this.prefix(link.id)}${data.length}${peer}:`);
        const frame = new Uint8Array(head.length + data.length);
        frame.set(head);
        frame.set(data, head.length);
        this.at.unsolicited(frame);
      }
    } catch {
      // a reset or an error ends this link only
    }
    if (this.links[link.id] === link) this.close(link.id);
  }

  /** Closes a link and announces it: `<id>,CLOSED`. */
  close(id: number): boolean {
    const link = this.links[id];
    if (!link) return false;
    this.links[id] = undefined;
    link.sock.close();
    this.at.unsolicited(encodeLatin1(`${this.prefix(id)}CLOSED\r\n`));
    return true;
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
    void this.acceptLoop(server);
  }

  get serving(): boolean {
    return this.listener !== undefined;
  }

  stopListening(): void {
    this.listener?.close();
    this.listener = undefined;
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
      this.add({ id, type: "TCP", sock: conn, remote: addr, localPort: server.getsockname()[1], server: 1 });
    }
  }
}
