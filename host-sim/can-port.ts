// A test's place on a board's CAN bus, as a USB-CAN adapter on a bench: it sends frames, keeps
// every frame the other nodes send (the board's controller, python-can over the transport),
// and waits for the one a test expects. Being a node, it acknowledges frames.
import type { BusFrame, BusNode, CanBus } from "./devices/can-bus.ts";
import { busFrame, describeFrame, messageData, type CanMessage } from "./devices/can-message.ts";
import { waitUntil } from "./text-waiters.ts";

/** A frame a test waits for: a predicate, or the fields that must be equal (data as bytes or hex). */
export type FrameMatch = ((frame: BusFrame) => boolean) | Partial<CanMessage>;

/** Frames kept for tests that look back: beyond twice this many, the oldest go. */
const KEEP = 10_000;

/** A predicate from the fields a frame must have. */
export function frameMatcher(match: FrameMatch): (frame: BusFrame) => boolean {
  if (typeof match === "function") return match;
  const data = match.data === undefined ? undefined : messageData(match.data);
  return (f) =>
    (match.arbitration_id === undefined || f.arbitration_id === match.arbitration_id) &&
    (match.is_extended_id === undefined || f.is_extended_id === match.is_extended_id) &&
    (match.is_remote_frame === undefined || f.is_remote_frame === match.is_remote_frame) &&
    (match.is_error_frame === undefined || f.is_error_frame === match.is_error_frame) &&
    (match.is_fd === undefined || f.is_fd === match.is_fd) &&
    (match.dlc === undefined || f.dlc === match.dlc) &&
    (data === undefined || (f.data.length === data.length && f.data.every((b, i) => b === data[i])));
}

function describeMatch(match: FrameMatch): string {
  if (typeof match === "function") return match.name ? `a frame passing ${match.name}` : "the frame";
  return JSON.stringify(match, (k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : k === "arbitration_id" && typeof v === "number" ? `0x${v.toString(16)}` : v));
}

export class CanPort implements BusNode {
  /** Every frame the other nodes sent, oldest first (the last ten thousand at least). */
  frames: BusFrame[] = [];
  /** Frames no expect() has taken yet. */
  private pending: BusFrame[] = [];
  private readonly waiters = new Set<() => void>();
  private ended?: string;
  private readonly detach: () => void;

  constructor(private readonly bus: CanBus) {
    this.detach = bus.attach(this);
  }

  receive(frame: BusFrame): void {
    this.frames.push(frame);
    this.pending.push(frame);
    if (this.frames.length > 2 * KEEP) this.frames = this.frames.slice(-KEEP);
    if (this.pending.length > 2 * KEEP) this.pending = this.pending.slice(-KEEP);
    for (const w of [...this.waiters]) w();
  }

  /** Puts a frame on the bus, as python-can's Message gives it (is_extended_id true unless said). */
  send(message: CanMessage): BusFrame {
    const frame = busFrame(message);
    this.bus.send(frame, this);
    return frame;
  }

  /** Waits for a frame that matches; it is taken, and the next expect looks at the others. */
  expect(match: FrameMatch, timeout = 5000): Promise<BusFrame> {
    const test = frameMatcher(match);
    return waitUntil(
      this.waiters,
      timeout,
      () => {
        const i = this.pending.findIndex(test);
        return i >= 0 ? this.pending.splice(i, 1)[0] : undefined;
      },
      () => this.ended,
      (why) => `no CAN frame ${describeMatch(match)}${why}; ${this.seen()}`,
    );
  }

  private seen(): string {
    if (!this.pending.length) return "none came that no expect had taken";
    const last = this.pending.slice(-8).map(describeFrame);
    return `came and not taken: ${this.pending.length > 8 ? "... " : ""}${last.join(" ")}`;
  }

  /** No more frames will come: waiters fail now, with why. */
  end(why: string): void {
    this.ended = why;
    this.detach();
    for (const w of [...this.waiters]) w();
  }
}
