// The CAN_RAW side of a socket(AF_CAN, SOCK_RAW, CAN_RAW): the bound interface, the socket's
// receive queue, its filters and SOL_CAN_RAW options, with Linux's defaults (receive every
// data frame, no error frames, loopback on, own messages off, no CAN FD).
import { canInterface, CanError, type CanInterface } from "xsock/can";
import { DEFAULT_FILTERS, FilterSet, type CanFilter } from "xsock/can-filter";
import { unpackFrame, type CanFrame } from "xsock/can-frame";
import { CAN_RAW_ERR_FILTER, CAN_RAW_FD_FRAMES, CAN_RAW_FILTER, CAN_RAW_JOIN_FILTERS, CAN_RAW_LOOPBACK, CAN_RAW_RECV_OWN_MSGS } from "./constants";
import { SocketError, type ErrorCode } from "./errors";

/** Frames a socket holds for its reader; past this, new ones are dropped and counted (as sk_rcvbuf does). */
export const CAN_QUEUE_FRAMES = 64;

/** What a CAN socket's send takes: a frame, or a packed struct can_frame / canfd_frame. */
export type CanData = CanFrame | ArrayBufferLike | ArrayBufferView;

function toSocketError(e: unknown, what: string): SocketError {
  if (e instanceof SocketError) return e;
  if (e instanceof CanError) return new SocketError(e.code as ErrorCode, `${what}: ${e.message}`);
  if (e instanceof RangeError) return new SocketError("EINVAL", `${what}: ${e.message}`);
  throw e;
}

export class CanEndpoint {
  #iface?: CanInterface;
  #stop?: () => void;
  #stopWritable?: () => void;
  readonly #filters = new FilterSet(DEFAULT_FILTERS);
  #loopback = true;
  #recvOwn = false;
  #fdFrames = false;
  /** Received frames, oldest first. */
  readonly queue: CanFrame[] = [];
  /** Frames dropped because the queue was full. */
  dropped = 0;
  /** The interface's transmit queue had no room at the last send. */
  #full = false;

  constructor(private readonly changed: () => void) {}

  get ifname(): string {
    return this.#iface?.name ?? "";
  }

  get bound(): boolean {
    return this.#iface !== undefined;
  }

  get writable(): boolean {
    return !this.#iface || !this.#full;
  }

  /** bind("can0"), bind(["can0"]); "" binds the board's first interface. Brings it up with the board's settings. */
  bind(address: unknown): void {
    if (this.#iface) throw new SocketError("EINVAL", "already bound");
    const name = Array.isArray(address) ? address[0] : address;
    if (typeof name !== "string") throw new SocketError("EINVAL", "a CAN socket binds to an interface name such as \"can0\"");
    let iface: CanInterface;
    try {
      iface = canInterface(name || undefined);
      if (!iface.up) iface.start();
    } catch (e) {
      throw toSocketError(e, `bind ${name}`);
    }
    this.#iface = iface;
    this.#stop = iface.subscribe(this.#receive);
    this.#stopWritable = iface.onWritable(() => {
      this.#full = false;
      this.changed();
    });
  }

  /** A frame from what send() was given, checked against the socket's options (can0 checks the frame itself). */
  frameOf(data: CanData): CanFrame {
    let frame: CanFrame;
    try {
      frame = "can_id" in data ? (data as CanFrame) : unpackFrame(data as ArrayBufferLike | ArrayBufferView);
    } catch (e) {
      throw toSocketError(e, "send");
    }
    if (frame.fd && !this.#fdFrames) throw new SocketError("EINVAL", "send: a CAN FD frame needs CAN_RAW_FD_FRAMES on");
    return frame;
  }

  /** Hands the frame to the interface; false when its transmit queue is full. */
  send(frame: CanFrame): boolean {
    if (!this.#iface) throw new SocketError("ENXIO", "send on an unbound CAN socket");
    try {
      const sent = this.#iface.send(frame, this.#receive, this.#loopback);
      this.#full = !sent;
      return sent;
    } catch (e) {
      throw toSocketError(e, `send on ${this.#iface.name}`);
    }
  }

  setOption(option: number, value: unknown): void {
    const flag = () => {
      if (typeof value !== "number" && typeof value !== "boolean") throw new SocketError("EINVAL", `option ${option} takes 0 or 1`);
      return Number(value) !== 0;
    };
    if (option === CAN_RAW_FILTER) this.#filters.set(filtersOf(value));
    else if (option === CAN_RAW_ERR_FILTER) {
      if (typeof value !== "number") throw new SocketError("EINVAL", "CAN_RAW_ERR_FILTER takes a mask of CAN_ERR_* classes");
      this.#filters.errMask = value >>> 0;
    } else if (option === CAN_RAW_LOOPBACK) this.#loopback = flag();
    else if (option === CAN_RAW_RECV_OWN_MSGS) this.#recvOwn = flag();
    else if (option === CAN_RAW_FD_FRAMES) this.#fdFrames = flag();
    else if (option === CAN_RAW_JOIN_FILTERS) this.#filters.join = flag();
    else throw new SocketError("ENOPROTOOPT", `SOL_CAN_RAW option ${option}`);
  }

  getOption(option: number): number | CanFilter[] {
    if (option === CAN_RAW_FILTER) return this.#filters.filters;
    if (option === CAN_RAW_ERR_FILTER) return this.#filters.errMask;
    if (option === CAN_RAW_LOOPBACK) return Number(this.#loopback);
    if (option === CAN_RAW_RECV_OWN_MSGS) return Number(this.#recvOwn);
    if (option === CAN_RAW_FD_FRAMES) return Number(this.#fdFrames);
    if (option === CAN_RAW_JOIN_FILTERS) return Number(this.#filters.join);
    throw new SocketError("ENOPROTOOPT", `SOL_CAN_RAW option ${option}`);
  }

  close(): void {
    this.#stop?.();
    this.#stopWritable?.();
    this.#stop = this.#stopWritable = undefined;
    this.queue.length = 0;
  }

  /** The interface's receiver: one function per socket, so the interface can tell its own frames. */
  readonly #receive = (frame: CanFrame, own: boolean): void => {
    if (own && !this.#recvOwn) return;
    if (frame.fd && !this.#fdFrames) return;
    if (!this.#filters.passes(frame)) return;
    if (this.queue.length >= CAN_QUEUE_FRAMES) {
      this.dropped++;
      return;
    }
    this.queue.push(frame);
    this.changed();
  };
}

/** CAN_RAW_FILTER's value: a list of {can_id, can_mask}, or packed struct can_filter (8 bytes each). */
function filtersOf(value: unknown): CanFilter[] {
  if (Array.isArray(value)) {
    return value.map((f: unknown) => {
      const { can_id, can_mask } = (f ?? {}) as Partial<CanFilter>;
      if (typeof can_id !== "number" || typeof can_mask !== "number") throw new SocketError("EINVAL", "a CAN filter is {can_id, can_mask}");
      return { can_id: can_id >>> 0, can_mask: can_mask >>> 0 };
    });
  }
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    const u8 = ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
    if (u8.length % 8) throw new SocketError("EINVAL", "packed CAN filters are 8 bytes each");
    const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    const out: CanFilter[] = [];
    for (let at = 0; at < u8.length; at += 8) out.push({ can_id: view.getUint32(at, true), can_mask: view.getUint32(at + 4, true) });
    return out;
  }
  throw new SocketError("EINVAL", "CAN_RAW_FILTER takes a list of {can_id, can_mask}");
}
