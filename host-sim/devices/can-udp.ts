// The transport python-can shares: its `udp_multicast` interface's wire format, one msgpack map
// per frame (can/interfaces/udp_multicast/utils.py) to an IPv6 multicast group, hop limit 1.
// It is a node on the board's bus: frames the board sends go out to the group, and frames
// from the group go onto the bus. It does not hear its own datagrams back: it sends from a
// socket of its own and drops what comes from that socket's port, while python-can processes
// on the machine hear it through the multicast loop.
import { decode, encode } from "@msgpack/msgpack";
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { BusFrame, BusNode, CanBus } from "./can-bus.ts";
import { busFrameProblem, describeFrame } from "./can-message.ts";

/** python-can's UdpMulticastBus.DEFAULT_GROUP_IPv6 and default port. */
export const DEFAULT_GROUP = "ff15:7079:7468:6f6e:6465:6d6f:6d63:6173";
export const DEFAULT_PORT = 43113;
/** python-can's receive buffer: a longer datagram is not one of its frames. */
const MAX_DATAGRAM = 4096;

export interface CanTransportSpec {
  transport: "udp-multicast";
  /** An IPv6 multicast address (ff00::/8). */
  group: string;
  port: number;
}

/** `udp-multicast`, `udp-multicast:GROUP` or `udp-multicast:[GROUP]:PORT`, as --can takes it. */
export function parseCanTransport(spec: string): CanTransportSpec {
  const m = /^udp-multicast(?::(?:\[([^\]]+)\](?::(\d+))?|([^[\]]+)))?$/.exec(spec);
  if (!m) throw new Error(`bad CAN transport "${spec}": use udp-multicast, udp-multicast:GROUP or udp-multicast:[GROUP]:PORT`);
  const group = m[1] ?? m[3] ?? DEFAULT_GROUP;
  const port = m[2] === undefined ? DEFAULT_PORT : Number(m[2]);
  if (!isIPv6(group) || !/^ff/i.test(group)) throw new Error(`bad CAN group "${group}": an IPv6 multicast address (ff00::/8), such as ${DEFAULT_GROUP}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad CAN port ${m[2]}: 1 to 65535`);
  return { transport: "udp-multicast", group, port };
}

/** A frame as python-can's pack_message packs it: the same keys, in the same order. */
export function packMessage(frame: BusFrame): Uint8Array {
  return encode({
    timestamp: frame.timestamp,
    arbitration_id: frame.arbitration_id,
    is_extended_id: frame.is_extended_id,
    is_remote_frame: frame.is_remote_frame,
    is_error_frame: frame.is_error_frame,
    channel: null,
    dlc: frame.dlc,
    data: frame.data,
    is_fd: frame.is_fd,
    bitrate_switch: frame.bitrate_switch,
    error_state_indicator: frame.error_state_indicator,
  });
}

const BOOLEAN_KEYS = ["is_extended_id", "is_remote_frame", "is_error_frame", "is_fd", "bitrate_switch", "error_state_indicator"] as const;
const KEYS = new Set(["timestamp", "arbitration_id", "channel", "dlc", "data", ...BOOLEAN_KEYS]);

/**
 * A frame from a datagram, as python-can's unpack_message reads one with check=True, stamped
 * `timestamp` (the arrival, as python-can replaces it). Throws an error that says what is wrong.
 */
export function unpackMessage(datagram: Uint8Array, timestamp = Date.now() / 1000): BusFrame {
  let map: unknown;
  try {
    map = decode(datagram);
  } catch (e) {
    throw new Error(`not msgpack: ${(e as Error).message}`, { cause: e });
  }
  if (typeof map !== "object" || map === null || Array.isArray(map) || map instanceof Uint8Array) throw new Error("not a msgpack map");
  const m = map as Record<string, unknown>;
  const unknown = Object.keys(m).filter((k) => !KEYS.has(k));
  if (unknown.length) throw new Error(`unknown field ${unknown.map((k) => JSON.stringify(k)).join(", ")}`);
  const bool = (k: (typeof BOOLEAN_KEYS)[number], fallback: boolean) => {
    const v = m[k] ?? fallback;
    if (typeof v !== "boolean") throw new Error(`${k} is not a boolean`);
    return v;
  };
  const data = m.data ?? new Uint8Array(0);
  if (!(data instanceof Uint8Array) && !Array.isArray(data)) throw new Error("data is not bytes");
  const bytes = Uint8Array.from(data as ArrayLike<number>);
  if (typeof m.arbitration_id !== "number") throw new Error("arbitration_id is not a number");
  const remote = bool("is_remote_frame", false);
  const frame: BusFrame = {
    arbitration_id: m.arbitration_id,
    // python-can's Message defaults: is_extended_id true, dlc the data's length.
    is_extended_id: bool("is_extended_id", true),
    is_remote_frame: remote,
    is_error_frame: bool("is_error_frame", false),
    is_fd: bool("is_fd", false),
    bitrate_switch: bool("bitrate_switch", false),
    error_state_indicator: bool("error_state_indicator", false),
    dlc: (m.dlc as number | null | undefined) ?? bytes.length,
    data: remote ? new Uint8Array(0) : bytes,
    timestamp,
  };
  if (remote && bytes.length) throw new Error("remote frames may not carry any data");
  const problem = busFrameProblem(frame);
  if (problem) throw new Error(problem);
  return frame;
}

/** The transport, attached to a bus; close() leaves the group. */
export class CanUdpTransport implements BusNode {
  /** Datagrams that were not frames. */
  dropped = 0;
  private detach?: () => void;
  private sendPort = 0;

  private constructor(
    readonly spec: CanTransportSpec,
    private readonly receiver: Socket,
    private readonly sender: Socket,
    private readonly log: (line: string) => void,
  ) {}

  static async open(spec: CanTransportSpec, bus: CanBus, log: (line: string) => void = () => {}): Promise<CanUdpTransport> {
    // Bound to the group itself, the receiver hears that group alone, not every group some
    // other socket on the machine joined on the same port.
    const receiver = createSocket({ type: "udp6", reuseAddr: true });
    const sender = createSocket({ type: "udp6" });
    const transport = new CanUdpTransport(spec, receiver, sender, log);
    try {
      await bind(receiver, spec.port, spec.group);
      receiver.addMembership(spec.group);
      await bind(sender, 0, "::");
      sender.setMulticastTTL(1); // IPV6_MULTICAST_HOPS: python-can's hop_limit 1
      sender.setMulticastLoopback(true); // python-can on this machine hears the board
    } catch (e) {
      transport.closeSockets();
      throw new Error(`cannot join the CAN group [${spec.group}]:${spec.port}: ${(e as Error).message}`, { cause: e });
    }
    transport.sendPort = sender.address().port;
    receiver.on("message", (datagram, from) => transport.datagram(datagram, from.port, bus));
    receiver.on("error", (e) => log(`can: the multicast socket failed: ${e.message}`));
    sender.on("error", (e) => log(`can: the multicast socket failed: ${e.message}`));
    transport.detach = bus.attach(transport);
    return transport;
  }

  /** A frame the board (or another node of the simulator's) sent: out to the group. */
  receive(frame: BusFrame): void {
    this.sender.send(packMessage(frame), this.spec.port, this.spec.group, (e) => e && this.log(`can: cannot send ${describeFrame(frame)}: ${e.message}`));
  }

  private datagram(datagram: Buffer, fromPort: number, bus: CanBus): void {
    if (fromPort === this.sendPort) return; // our own, looped back
    let frame: BusFrame;
    try {
      if (datagram.length > MAX_DATAGRAM) throw new Error(`${datagram.length} bytes, more than python-can reads`);
      frame = unpackMessage(new Uint8Array(datagram.buffer, datagram.byteOffset, datagram.length));
    } catch (e) {
      this.dropped++;
      this.log(`can: dropped a datagram that is not a python-can frame (${(e as Error).message})`);
      return;
    }
    bus.send(frame, this);
  }

  close(): void {
    this.detach?.();
    this.closeSockets();
  }

  private closeSockets(): void {
    for (const s of [this.receiver, this.sender]) {
      try {
        s.close();
      } catch {
        // not bound yet, or closed already
      }
    }
  }
}

function bind(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, address, () => {
      socket.off("error", reject);
      resolve();
    });
  });
}
