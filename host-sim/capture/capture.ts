// What `xsock sim --pcap FILE` records: the board's network interface as Ethernet frames, the
// CAN bus as SocketCAN frames, both directions of the UART, and the simulator's faults and
// Wi-Fi events as commented packets. The simulator bridges the board's sockets to the host's,
// so the packets are the ones the board would have sent and received, built from what the
// bridge sees. docs/simulator.md describes the file.
import { CAN_EFF_FLAG, CAN_ERR_DLC, CAN_ERR_FLAG, CAN_RTR_FLAG, CANFD_BRS, CANFD_ESI, CANFD_FDF } from "../../src/net/can-frame.ts";
import type { BusFrame } from "../devices/can-bus.ts";
import { DHCP, dhcpMessage, dnsMessage, icmpFrame, plainAddress, TCP_FLAGS, tcpFrame, udpFrame, type Ends } from "./frames.ts";
import { INBOUND, LINKTYPE, OUTBOUND, PcapngWriter } from "./pcapng.ts";

/** The capture's interfaces, by id, in the file's order. */
export const IFACE = { NET: 0, CAN: 1, UART: 2, EVENTS: 3 } as const;

/** The UART packets' first byte: which way the bytes after it went. */
export const UART_TO_BOARD = 0;
export const UART_FROM_BOARD = 1;
const TO_BOARD = Uint8Array.of(UART_TO_BOARD);
const FROM_BOARD = Uint8Array.of(UART_FROM_BOARD);

/** The other end of every frame on the board's link: its router (a locally administered MAC). */
export const ROUTER_MAC = "02:00:00:00:00:01";
const BROADCAST_MAC = "ff:ff:ff:ff:ff:ff";

/** lwIP's TCP_MSS on ESP32 (CONFIG_LWIP_TCP_MSS): the most data a segment carries. */
const TCP_MSS = 1440;

/** SocketCAN's error class for bus-off (linux/can/error.h). */
const CAN_ERR_BUSOFF = 0x40;

export interface Endpoint {
  address: string;
  port: number;
}

/** One TCP connection's packets, with its sequence and acknowledgement numbers kept. */
export class TcpFlow {
  /** Next sequence numbers: the board's and the peer's. */
  #board: number;
  #peer: number;
  #closed = false;

  constructor(
    private readonly capture: Capture,
    private readonly boardEnd: Endpoint,
    private readonly peerEnd: Endpoint,
  ) {
    this.#board = (Math.random() * 2 ** 32) >>> 0;
    this.#peer = (Math.random() * 2 ** 32) >>> 0;
  }

  #send(fromBoard: boolean, flags: number, data?: Uint8Array): void {
    const seq = fromBoard ? this.#board : this.#peer;
    const ack = fromBoard ? this.#peer : this.#board;
    const ends = this.capture.ends(fromBoard, this.boardEnd.address, this.peerEnd.address);
    const ports = fromBoard ? { src: this.boardEnd.port, dst: this.peerEnd.port } : { src: this.peerEnd.port, dst: this.boardEnd.port };
    this.capture.net(tcpFrame(ends, ports, seq, ack, flags, this.capture.tcpWindow, data), fromBoard);
    const length = (data?.length ?? 0) + (flags & (TCP_FLAGS.SYN | TCP_FLAGS.FIN) ? 1 : 0);
    if (fromBoard) this.#board = (this.#board + length) >>> 0;
    else this.#peer = (this.#peer + length) >>> 0;
  }

  /** The three-way handshake, from whichever end opened it. */
  open(byBoard: boolean): this {
    this.#send(byBoard, TCP_FLAGS.SYN);
    this.#send(!byBoard, TCP_FLAGS.SYN | TCP_FLAGS.ACK);
    this.#send(byBoard, TCP_FLAGS.ACK);
    return this;
  }

  /** The board's SYN, answered with a reset (connection refused). */
  refused(): void {
    this.#send(true, TCP_FLAGS.SYN);
    this.#send(false, TCP_FLAGS.RST | TCP_FLAGS.ACK);
    this.#closed = true;
  }

  /**
   * Bytes one way, in segments of at most an MSS; the receiver acknowledges every second
   * segment and the last, as lwIP and Linux do, so the sender's window never fills.
   */
  data(fromBoard: boolean, bytes: Uint8Array): void {
    if (this.#closed) return;
    let segments = 0;
    for (let at = 0; at < bytes.length; at += TCP_MSS) {
      this.#send(fromBoard, TCP_FLAGS.PSH | TCP_FLAGS.ACK, bytes.subarray(at, at + TCP_MSS));
      if (++segments % 2 === 0 || at + TCP_MSS >= bytes.length) this.#send(!fromBoard, TCP_FLAGS.ACK);
    }
  }

  /** One end has no more to send. */
  fin(fromBoard: boolean): void {
    if (this.#closed) return;
    this.#send(fromBoard, TCP_FLAGS.FIN | TCP_FLAGS.ACK);
  }

  /** One end aborts: nothing more goes either way. */
  reset(fromBoard: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#send(fromBoard, TCP_FLAGS.RST | TCP_FLAGS.ACK);
  }
}

export class Capture {
  readonly #file: PcapngWriter;
  /** The board's MAC on its network interface. */
  mac: string;
  #ephemeral = 49152;
  #dnsId = 1;

  constructor(
    path: string,
    mac: string,
    /** The board's address, for sockets bound to "any address". */
    private readonly boardIp: string,
    /** lwIP's TCP window on the board's chip, written in every TCP segment. */
    readonly tcpWindow: number,
  ) {
    this.mac = mac;
    this.#file = new PcapngWriter(path, [
      { linkType: LINKTYPE.ETHERNET, name: "net", description: "the board's network interface" },
      { linkType: LINKTYPE.CAN_SOCKETCAN, name: "can0", description: "the board's CAN bus" },
      { linkType: LINKTYPE.USER0, name: "uart", description: "the console UART: first byte 0 into the board, 1 out of it; the bytes follow" },
      { linkType: LINKTYPE.USER1, name: "events", description: "the simulator's faults and Wi-Fi events: the text, also as the packet's comment" },
    ]);
  }

  get path(): string {
    return this.#file.path;
  }

  /** The board's own address where a socket has "any address". */
  #own(address: string | undefined): string {
    const a = plainAddress(address ?? "");
    if (!a || a === "0.0.0.0") return this.boardIp;
    if (a === "::") return "::1";
    return a;
  }

  ends(fromBoard: boolean, boardAddress: string, peerAddress: string): Ends {
    let board = this.#own(boardAddress);
    const peer = plainAddress(peerAddress);
    // A socket on "any address" that talks IPv6 (or the reverse) has the matching loopback.
    if (peer.includes(":") !== board.includes(":")) board = peer.includes(":") ? "::1" : this.boardIp;
    return fromBoard ? { srcMac: this.mac, dstMac: ROUTER_MAC, src: board, dst: peer } : { srcMac: ROUTER_MAC, dstMac: this.mac, src: peer, dst: board };
  }

  net(frame: Uint8Array, fromBoard: boolean): void {
    this.#file.packet(IFACE.NET, frame, { direction: fromBoard ? OUTBOUND : INBOUND });
  }

  /** A port for a packet whose socket has none the host told (a refused connect, a DNS query). */
  ephemeralPort(): number {
    const port = this.#ephemeral;
    this.#ephemeral = port === 65535 ? 49152 : port + 1;
    return port;
  }

  tcp(boardEnd: Endpoint, peerEnd: Endpoint): TcpFlow {
    return new TcpFlow(this, boardEnd, peerEnd);
  }

  udp(fromBoard: boolean, boardEnd: Endpoint, peerEnd: Endpoint, data: Uint8Array): void {
    const ports = fromBoard ? { src: boardEnd.port, dst: peerEnd.port } : { src: peerEnd.port, dst: boardEnd.port };
    this.net(udpFrame(this.ends(fromBoard, boardEnd.address, peerEnd.address), ports, data), fromBoard);
  }

  /** An ICMP message (type, code, checksum, rest) between the board and `peer`. */
  icmp(fromBoard: boolean, peer: string, message: Uint8Array): void {
    this.net(icmpFrame(this.ends(fromBoard, this.boardIp, peer), message), fromBoard);
  }

  /**
   * The DHCP exchange (DISCOVER, OFFER, REQUEST, ACK) that leased `ip` from the server at
   * `gateway`: the board's, from its router; or, with `station`, a phone's from the board's SoftAP.
   */
  dhcp(lease: { ip: string; gateway: string; netmask: string }, dns: string[], station?: { mac: string; softApMac: string }): void {
    const xid = (Math.random() * 2 ** 32) >>> 0;
    const offer = { ip: lease.ip, server: lease.gateway, netmask: lease.netmask, router: lease.gateway, dns };
    const clientMac = station?.mac ?? this.mac;
    const fromClient = { srcMac: clientMac, dstMac: BROADCAST_MAC, src: "0.0.0.0", dst: "255.255.255.255" };
    const fromServer = { srcMac: station?.softApMac ?? ROUTER_MAC, dstMac: BROADCAST_MAC, src: lease.gateway, dst: "255.255.255.255" };
    const client = { src: 68, dst: 67 };
    const server = { src: 67, dst: 68 };
    // Outbound: what the board sends (the client's messages, or the SoftAP's answers).
    this.net(udpFrame(fromClient, client, dhcpMessage(DHCP.DISCOVER, clientMac, xid, offer)), !station);
    this.net(udpFrame(fromServer, server, dhcpMessage(DHCP.OFFER, clientMac, xid, offer)), !!station);
    this.net(udpFrame(fromClient, client, dhcpMessage(DHCP.REQUEST, clientMac, xid, offer)), !station);
    this.net(udpFrame(fromServer, server, dhcpMessage(DHCP.ACK, clientMac, xid, offer)), !!station);
  }

  /** The board's DNS query for `name`'s address to `server`; call the function returned with the answer (none: NXDOMAIN). */
  dnsQuery(server: string, name: string): (address?: string) => void {
    const id = this.#dnsId;
    this.#dnsId = (id % 0xffff) + 1;
    const board = { address: this.boardIp, port: this.ephemeralPort() };
    const peer = { address: server, port: 53 };
    this.udp(true, board, peer, dnsMessage(id, name));
    return (address) => this.udp(false, board, peer, dnsMessage(id, name, { address }));
  }

  /** Bytes on the console UART. */
  uart(toBoard: boolean, bytes: Uint8Array): void {
    this.#file.packet(IFACE.UART, [toBoard ? TO_BOARD : FROM_BOARD, bytes], { direction: toBoard ? INBOUND : OUTBOUND });
  }

  /** A frame on the CAN bus, as SocketCAN's struct can_frame or canfd_frame (can_id in network byte order). */
  can(frame: BusFrame): void {
    let id = frame.arbitration_id | (frame.is_extended_id ? CAN_EFF_FLAG : 0) | (frame.is_remote_frame ? CAN_RTR_FLAG : 0);
    if (frame.is_error_frame) id = (frame.arbitration_id & 0x1fffffff) | CAN_ERR_FLAG;
    const fdFlags = frame.is_fd ? CANFD_FDF | (frame.bitrate_switch ? CANFD_BRS : 0) | (frame.error_state_indicator ? CANFD_ESI : 0) : 0;
    this.#canFrame(id >>> 0, frame.is_remote_frame ? frame.dlc : frame.data.length, frame.data, fdFlags, frame.is_fd, Math.round(frame.timestamp * 1e6));
  }

  /** The error frame SocketCAN gives when the board's controller goes bus-off (the fault, or errors past TEC 255). */
  canBusOff(): void {
    this.#canFrame((CAN_ERR_FLAG | CAN_ERR_BUSOFF) >>> 0, CAN_ERR_DLC, new Uint8Array(CAN_ERR_DLC), 0, false, undefined, "the board's CAN controller is bus-off");
  }

  #canFrame(id: number, length: number, data: Uint8Array, fdFlags: number, fd: boolean, micros?: number, comment?: string): void {
    const packet = Buffer.alloc(8 + (fd ? 64 : 8));
    packet.writeUInt32BE(id, 0);
    packet[4] = length;
    packet[5] = fdFlags;
    packet.set(data, 8);
    this.#file.packet(IFACE.CAN, packet, { micros, comment });
  }

  /** A fault or a Wi-Fi event: its text, on the events interface, as its data and its comment. */
  note(text: string): void {
    this.#file.packet(IFACE.EVENTS, Buffer.from(text, "utf8"), { comment: text });
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}
