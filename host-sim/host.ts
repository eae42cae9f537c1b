// What every simulated peripheral sees of the simulator.
import type { Board } from "./board.ts";
import type { Capture } from "./capture/capture.ts";
import type { Trace } from "./capture/trace.ts";

export type OpHandler = (...args: never[]) => unknown;

export interface Host {
  readonly board: Board;
  /**
   * Delivers an event into the firmware: `kind` and `id` pick its handler there. An argument
   * that is a function is called when the event goes in, for counts that must be current then.
   */
  post(kind: string, id: number, ...args: unknown[]): void;
  /** Answers the firmware's synchronous calls to `op`. */
  handle(op: string, fn: OpHandler): void;
  /** A line for the simulator's log. */
  log(line: string): void;
  /** A line for the log with -v only. */
  debug(line: string): void;
  /** Tells scripts that watch the board (`xsock sim --json`) what changed. */
  event(event: SimEvent): void;
  /** The pcapng capture, when the run writes one: devices add what they see. */
  readonly capture?: Capture;
  /** The timeline (`--trace`), when the run writes one: devices add their sockets and states. */
  readonly trace?: Trace;
}

/** What `xsock sim --json` reports, besides the UART's path and the exit. */
export type SimEvent =
  | { event: "boot"; boot: number }
  | { event: "wifi"; state: "connected"; ssid: string }
  | { event: "wifi"; state: "got ip"; ip: string }
  | { event: "wifi"; state: "disconnected" }
  | { event: "wifi"; state: "join failed"; ssid: string; reason: "no such AP" | "wrong password" }
  | { event: "hostname"; interface: string; hostname: string };

/** An error the firmware's platform call throws, with a Linux errno where one applies. */
export class PlatformError extends Error {
  constructor(
    message: string,
    readonly errno?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}
