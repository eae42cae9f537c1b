// Types only (no module of its own at run time). The contract between the CAN network layer
// (xsock/can) and its drivers (drivers/can/<impl>): what a driver is started with, what it
// reports, and how the board file names it. Kept apart from can.ts so that host code and tests
// can use it without Moddable's modules.
import type { CanFrame } from "./can-frame";

/** ISO 11898 fault confinement, as drivers report it. "stopped" is a driver not started. */
export type CanState = "error-active" | "error-warning" | "error-passive" | "bus-off" | "stopped";
/** normal; no-ack (a lone node on a bench: sends without an acknowledgement); listen-only. */
export type CanMode = "normal" | "no-ack" | "listen-only";

/** Transmit and receive error counters (TEC, REC). */
export interface CanCounters {
  tx: number;
  rx: number;
}

/** A hardware acceptance filter, in SocketCAN's polarity: a 1 in can_mask is a bit that must match. */
export interface HardwareFilter {
  can_id: number;
  can_mask: number;
}

export interface CanDriverOptions {
  bitrate: number;
  mode: CanMode;
  /** Lets the controller drop what no receiver wants; sockets filter again above it. */
  filter?: HardwareFilter;
  onReceive(frame: CanFrame): void;
  onState(state: CanState, counters: CanCounters): void;
  /** The transmit queue has room again after write() returned false. */
  onWritable(): void;
}

/** What a CAN driver (drivers/can/<impl>) gives the network layer. */
export interface CanDriver {
  /** "twai", "mcp2515" */
  readonly name: string;
  /** Carries CAN FD frames. */
  readonly fd: boolean;
  /** The bitrates it can be started at, in bit/s. */
  readonly bitrates: readonly number[];
  readonly state: CanState;
  readonly counters: CanCounters;
  start(options: CanDriverOptions): void;
  stop(): void;
  /** Queues a frame for the bus; false when the transmit queue is full (onWritable follows). */
  write(frame: CanFrame): boolean;
  /** Starts bus-off recovery (128 x 11 recessive bits); onState reports error-active after it. */
  recover(): void;
}

/** The board file's `can` section; each driver reads its own pins from it. */
export interface CanBoardConfig {
  driver: string;
  bitrate: number;
  [pin: string]: unknown;
}

export type CanDriverFactory = (board: CanBoardConfig) => CanDriver;
