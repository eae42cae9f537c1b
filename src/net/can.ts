// The CAN side of the network layer: CanInterface, the board's `can0`, which sockets and the
// console share. It starts and stops the driver (can-driver.ts has their contract), loops sent
// frames back to the other local receivers as SocketCAN does, turns the controller's state
// changes into error frames, and restarts the controller after bus-off.
import config from "mc/config";
import Timer from "timer";
import mcp2515 from "xsock/can/mcp2515";
import twai from "xsock/can/twai";
import {
  CAN_ERR_BUSOFF,
  CAN_ERR_CNT,
  CAN_ERR_CRTL,
  CAN_ERR_CRTL_ACTIVE,
  CAN_ERR_CRTL_RX_PASSIVE,
  CAN_ERR_CRTL_RX_WARNING,
  CAN_ERR_CRTL_TX_PASSIVE,
  CAN_ERR_CRTL_TX_WARNING,
  CAN_ERR_RESTARTED,
  errorFrame,
  frameProblem,
  type CanFrame,
} from "./can-frame";

import type { CanBoardConfig, CanCounters, CanDriver, CanDriverFactory, CanMode, CanState } from "./can-driver";

// The driver contract (TWAI, MCP2515), for those who import it from here.
export type * from "./can-driver";

export const CAN_MODES: readonly CanMode[] = ["normal", "no-ack", "listen-only"];

const DRIVERS: Record<string, CanDriverFactory> = { twai, mcp2515 };

/** Who receives frames: a socket or the console. `own` is true for a frame this receiver sent. */
export type CanReceiver = (frame: CanFrame, own: boolean) => void;

/** A CanInterface error, with the errno SocketCAN would give. */
export class CanError extends Error {
  constructor(
    readonly code: "ENODEV" | "ENETDOWN" | "EINVAL" | "ENOBUFS" | "EOPNOTSUPP",
    message: string,
  ) {
    super(message);
  }
}

export interface CanSettings {
  bitrate: number;
  mode: CanMode;
  /** Restart this many ms after bus-off (0: only by restart()). */
  restartMs: number;
}

/** One CAN controller on the board, by its SocketCAN name. */
export class CanInterface {
  readonly name: string;
  readonly driver: CanDriver;
  settings: CanSettings;
  #up = false;
  #receivers = new Set<CanReceiver>();
  #writableWaiters = new Set<() => void>();
  #restart?: ReturnType<typeof Timer.set>;
  #lastState: CanState = "stopped";

  constructor(name: string, driver: CanDriver, bitrate: number) {
    this.name = name;
    this.driver = driver;
    this.settings = { bitrate, mode: "normal", restartMs: 100 };
  }

  get up(): boolean {
    return this.#up;
  }

  get state(): CanState {
    return this.driver.state;
  }

  get fd(): boolean {
    return this.driver.fd;
  }

  /** Starts the controller with `settings` (changed ones are kept); restarts it when it runs. */
  start(settings: Partial<CanSettings> = {}): void {
    const next = { ...this.settings, ...settings };
    if (!this.driver.bitrates.includes(next.bitrate))
      throw new CanError("EINVAL", `${this.name} (${this.driver.name}) runs at ${this.driver.bitrates.join(", ")} bit/s, not ${next.bitrate}`);
    if (!CAN_MODES.includes(next.mode)) throw new CanError("EINVAL", `mode ${String(next.mode)}`);
    if (this.#up) this.stop();
    this.settings = next;
    this.driver.start({
      bitrate: next.bitrate,
      mode: next.mode,
      onReceive: (frame) => this.#deliver(frame, undefined),
      onState: (state, counters) => this.#stateChanged(state, counters),
      onWritable: () => {
        for (const waiter of [...this.#writableWaiters]) waiter();
      },
    });
    this.#up = true;
    this.#lastState = "error-active";
  }

  stop(): void {
    if (!this.#up) return;
    this.#up = false;
    if (this.#restart) Timer.clear(this.#restart);
    this.#restart = undefined;
    this.driver.stop();
  }

  /**
   * Sends a frame. With `loopback` (SocketCAN's default) the local receivers hear it too, `from`
   * (the sender's own receiver) marked as its own.
   */
  send(frame: CanFrame, from?: CanReceiver, loopback = true): boolean {
    if (!this.#up) throw new CanError("ENETDOWN", `${this.name} is down`);
    const problem = frameProblem(frame);
    if (problem) throw new CanError("EINVAL", problem);
    if (frame.fd && !this.driver.fd) throw new CanError("EOPNOTSUPP", `${this.name} (${this.driver.name}) does not carry CAN FD frames`);
    if (this.settings.mode === "listen-only") throw new CanError("ENETDOWN", `${this.name} is listen-only`);
    if (this.driver.state === "bus-off") throw new CanError("ENETDOWN", `${this.name} is bus-off`);
    if (!this.driver.write(frame)) return false;
    if (loopback) this.#deliver(frame, from);
    return true;
  }

  /** Calls `waiter` whenever the transmit queue has room again; returns what stops it. */
  onWritable(waiter: () => void): () => void {
    this.#writableWaiters.add(waiter);
    return () => this.#writableWaiters.delete(waiter);
  }

  /** Hears every frame on the bus, error frames included; returns what stops it. */
  subscribe(receiver: CanReceiver): () => void {
    this.#receivers.add(receiver);
    return () => this.#receivers.delete(receiver);
  }

  /** Restarts a bus-off controller now. */
  restart(): void {
    if (this.#restart) Timer.clear(this.#restart);
    this.#restart = undefined;
    if (this.#up && this.driver.state === "bus-off") this.driver.recover();
  }

  #deliver(frame: CanFrame, from: CanReceiver | undefined): void {
    for (const receiver of [...this.#receivers]) receiver(frame, receiver === from);
  }

  /** SocketCAN's error frames for a state change, as the Linux CAN drivers send them. */
  #stateChanged(state: CanState, counters: CanCounters): void {
    const before = this.#lastState;
    this.#lastState = state;
    if (state === before || state === "stopped") return;
    const data = [0, 0, 0, 0, 0, 0, Math.min(counters.tx, 255), Math.min(counters.rx, 255)];
    if (state === "bus-off") {
      this.#deliver(errorFrame(CAN_ERR_BUSOFF | CAN_ERR_CNT, data), undefined);
      if (this.settings.restartMs > 0 && this.#up)
        this.#restart = Timer.set(() => {
          this.#restart = undefined;
          this.restart();
        }, this.settings.restartMs);
      return;
    }
    if (before === "bus-off") {
      this.#deliver(errorFrame(CAN_ERR_RESTARTED | CAN_ERR_CNT, data), undefined);
      return;
    }
    if (state === "error-active") data[1] = CAN_ERR_CRTL_ACTIVE;
    else if (state === "error-warning") data[1] = (counters.tx >= counters.rx ? CAN_ERR_CRTL_TX_WARNING : 0) | (counters.rx >= counters.tx ? CAN_ERR_CRTL_RX_WARNING : 0);
    else data[1] = (counters.tx >= 128 ? CAN_ERR_CRTL_TX_PASSIVE : 0) | (counters.rx >= 128 ? CAN_ERR_CRTL_RX_PASSIVE : 0);
    this.#deliver(errorFrame(CAN_ERR_CRTL | CAN_ERR_CNT, data), undefined);
  }
}

let interfaces: Map<string, CanInterface> | undefined;

/** The board's CAN interfaces (can0, from the board file's `can` section), made on first use. */
export function canInterfaces(): Map<string, CanInterface> {
  if (interfaces) return interfaces;
  interfaces = new Map();
  const board = (config as { can?: CanBoardConfig }).can;
  const factory = board && DRIVERS[board.driver];
  if (board && factory) interfaces.set("can0", new CanInterface("can0", factory(board), board.bitrate));
  return interfaces;
}

/** The interface of that name (the first when none is given); ENODEV when the board has none. */
export function canInterface(name?: string): CanInterface {
  const all = canInterfaces();
  const found = name ? all.get(name) : all.values().next().value;
  if (!found) throw new CanError("ENODEV", name ? `no CAN interface ${name} (the board has ${[...all.keys()].join(", ") || "none"})` : "the board has no CAN interface");
  return found;
}
