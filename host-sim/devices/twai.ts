// The ESP32's TWAI controller as ESP-IDF's driver presents it (driver/twai.h), for the
// firmware's `xsock/can/twai-native`: a transmit queue drained at the bitrate, a receive queue
// that counts what it misses when full, the single acceptance filter (TWAI's polarity),
// ISO 11898 fault confinement (TEC, REC, error-active, warning, passive, bus-off) and bus-off
// recovery after 128 x 11 bit times; normal, no-ack and listen-only modes.
import { PlatformError, type Host } from "../host.ts";
import type { TwaiNativeOptions } from "../../drivers/can/twai/twai-native";
import type { BusFrame, BusNode, CanBus } from "./can-bus.ts";
import { TRACK } from "../capture/trace.ts";
import { CAN_MTU, describeFrame, frameBits, packBusFrame, unpackBusFrame } from "./can-message.ts";

/** The bitrates ESP-IDF has timing presets for. */
export const TWAI_BITRATES = [25000, 50000, 100000, 125000, 250000, 500000, 800000, 1000000];
export const TWAI_MODES = ["normal", "no-ack", "listen-only"] as const;

// ESP-IDF's alerts (driver/twai.h).
export const ALERT = {
  TX_IDLE: 0x0001,
  TX_SUCCESS: 0x0002,
  RX_DATA: 0x0004,
  BELOW_ERR_WARN: 0x0008,
  ERR_ACTIVE: 0x0010,
  RECOVERY_IN_PROGRESS: 0x0020,
  BUS_RECOVERED: 0x0040,
  ARB_LOST: 0x0080,
  ABOVE_ERR_WARN: 0x0100,
  BUS_ERROR: 0x0200,
  TX_FAILED: 0x0400,
  RX_QUEUE_FULL: 0x0800,
  ERR_PASS: 0x1000,
  BUS_OFF: 0x2000,
} as const;

/** twai_state_t */
export const TwaiState = { Stopped: 0, Running: 1, BusOff: 2, Recovering: 3 } as const;
const TWAI_STATE_NAMES: Record<number, string> = { 0: "stopped", 1: "running", 2: "bus-off", 3: "recovering" };

/** What the firmware's driver opens the controller with: its native options, the callback left on the XS side. */
export type TwaiConfig = Omit<TwaiNativeOptions, "onAlert">;

/** ISO 11898's limits, and the controller's error warning limit (ESP-IDF's default). */
const ERROR_WARNING = 96;
const ERROR_PASSIVE = 128;
const BUS_OFF = 256;
/** How soon a frame nobody acknowledged goes out again, at the least (ms). */
const RETRY_MS = 5;

/** Whether TWAI's single filter passes a frame (ESP-IDF's "single filter mode"). */
export function acceptanceMatches(code: number, mask: number, f: BusFrame): boolean {
  let bits: number;
  if (f.is_extended_id) bits = ((f.arbitration_id << 3) | (f.is_remote_frame ? 1 << 2 : 0)) >>> 0;
  else bits = ((f.arbitration_id << 21) | (f.is_remote_frame ? 1 << 20 : 0) | ((f.data[0] ?? 0) << 8) | (f.data[1] ?? 0)) >>> 0;
  return ((bits ^ code) & ~mask) >>> 0 === 0;
}

/** One TWAI controller on a bus; the firmware opens it, and closes it or the board restarts. */
export class TwaiController implements BusNode {
  #state: number = TwaiState.Running;
  tec = 0;
  rec = 0;
  txFailed = 0;
  rxMissed = 0;
  busErrors = 0;
  private readonly txQueue: BusFrame[] = [];
  private rxQueue: Uint8Array[] = [];
  /** When the frame at the head of the transmit queue is off the wire (performance.now() ms). */
  private txDoneAt?: number;
  private txTimer?: NodeJS.Timeout;
  private recoveryTimer?: NodeJS.Timeout;
  /** An injected fault keeps the bus broken until then (Date.now() ms): recovery waits for it. */
  private faultUntil = 0;
  /** The error state alerts last told: 0 error-active, 1 error-warning, 2 error-passive. */
  private level = 0;
  private alerts = 0;
  private posted = false;
  private readonly detach: () => void;
  /** Called as the controller goes bus-off (the capture's error frame). */
  onBusOff?: () => void;
  /** Called as the controller's state changes (the trace's CAN controller track). */
  onState?: (state: string) => void;

  get state(): number {
    return this.#state;
  }

  set state(state: number) {
    if (state !== this.#state) this.onState?.(TWAI_STATE_NAMES[state]);
    this.#state = state;
  }

  constructor(
    readonly config: TwaiConfig,
    private readonly bus: CanBus,
    /** Delivers alerts and frames to the firmware; `take` is called as the delivery goes in. */
    private readonly deliver: (take: () => [number, Uint8Array]) => void,
    private readonly debug: (line: string) => void = () => {},
  ) {
    this.detach = bus.attach(this);
  }

  get mode(): (typeof TWAI_MODES)[number] {
    return TWAI_MODES[this.config.mode];
  }

  /** Milliseconds one bit takes. */
  private get bitMs(): number {
    return 1000 / this.config.bitrate;
  }

  /** twai_get_status_info, in the order the native side gives it. */
  status(): number[] {
    return [this.state, this.tec, this.rec, this.txQueue.length, this.rxQueue.length, this.txFailed, this.rxMissed, 0, 0, this.busErrors];
  }

  /** twai_transmit with no wait: false when the transmit queue is full. */
  write(bytes: Uint8Array): boolean {
    if (this.config.mode === 2) throw new PlatformError("listen-only mode does not transmit");
    if (this.state !== TwaiState.Running) throw new PlatformError("TWAI is not running (bus-off?)");
    if (bytes.length !== CAN_MTU) throw new PlatformError("a frame is a 16-byte struct can_frame");
    let frame: BusFrame;
    try {
      frame = unpackBusFrame(bytes);
    } catch (e) {
      throw new PlatformError((e as Error).message);
    }
    if (this.txQueue.length >= this.config.txQueue) return false;
    this.txQueue.push(frame);
    this.schedule();
    return true;
  }

  /** A frame another node sent. */
  receive(frame: BusFrame): void {
    if (this.state !== TwaiState.Running) return;
    // A classic controller takes an FD frame, or another node's error flag, for a bus error.
    if (frame.is_fd || frame.is_error_frame) {
      this.busErrors++;
      this.rec = Math.min(this.rec + 1, ERROR_PASSIVE + 127);
      this.raise(ALERT.BUS_ERROR);
      this.confine();
      return;
    }
    if (this.rec > ERROR_PASSIVE - 1) this.rec = 119;
    else if (this.rec > 0) this.rec--;
    this.confine();
    if (!acceptanceMatches(this.config.code, this.config.mask, frame)) return;
    if (this.rxQueue.length >= this.config.rxQueue) {
      this.rxMissed++;
      this.debug(`twai: receive queue full, ${describeFrame(frame)} lost`);
      this.raise(ALERT.RX_QUEUE_FULL);
      return;
    }
    this.rxQueue.push(packBusFrame(frame));
    this.raise(ALERT.RX_DATA);
  }

  /** The fault `can-bus-off`: the transmit error counter passes 255 (for `forMs`, the bus stays broken). */
  busOff(forMs = 0): void {
    this.faultUntil = Math.max(this.faultUntil, Date.now() + forMs);
    if (this.state !== TwaiState.Running) return;
    this.tec = BUS_OFF;
    this.enterBusOff();
  }

  /** twai_initiate_recovery: waits 128 x 11 recessive bits, then stops with clear counters. */
  recover(): void {
    if (this.state !== TwaiState.BusOff) throw new PlatformError("TWAI is not bus-off");
    this.state = TwaiState.Recovering;
    this.txQueue.length = 0;
    this.raise(ALERT.RECOVERY_IN_PROGRESS);
    const ms = Math.max(128 * 11 * this.bitMs, this.faultUntil - Date.now());
    this.recoveryTimer = setTimeout(() => {
      this.recoveryTimer = undefined;
      this.state = TwaiState.Stopped;
      this.tec = this.rec = 0;
      this.raise(ALERT.BUS_RECOVERED);
    }, ms);
  }

  /** twai_start: a stopped controller runs again, with empty queues. */
  start(): void {
    if (this.state !== TwaiState.Stopped) throw new PlatformError("TWAI is not stopped");
    this.txQueue.length = 0;
    this.rxQueue = [];
    this.level = 0;
    this.state = TwaiState.Running;
  }

  close(): void {
    clearTimeout(this.txTimer);
    clearTimeout(this.recoveryTimer);
    this.state = TwaiState.Stopped;
    this.detach();
  }

  private enterBusOff(): void {
    this.state = TwaiState.BusOff;
    this.onBusOff?.();
    clearTimeout(this.txTimer);
    this.txTimer = this.txDoneAt = undefined;
    this.raise(ALERT.BUS_OFF);
  }

  /** Times the frame at the head of the transmit queue, if none is on the wire. */
  private schedule(): void {
    if (this.txTimer || !this.txQueue.length || this.state !== TwaiState.Running) return;
    const now = performance.now();
    this.txDoneAt = Math.max(now, this.txDoneAt ?? now) + frameBits(this.txQueue[0]) * this.bitMs;
    this.txTimer = setTimeout(() => this.transmitted(), Math.max(0, this.txDoneAt - now));
  }

  /** Frames whose time on the wire is over go out, several at a time when timers are coarse. */
  private transmitted(): void {
    this.txTimer = undefined;
    const now = performance.now();
    while (this.state === TwaiState.Running && this.txQueue.length && this.txDoneAt !== undefined && this.txDoneAt <= now) {
      const frame = this.txQueue[0];
      const acknowledged = this.config.mode === 1 || this.bus.others(this) > 0;
      if (!acknowledged) {
        // An ACK error. An error-passive transmitter that meets one adds nothing (ISO 11898-1, 12.1.4.2).
        this.busErrors++;
        if (this.tec < ERROR_PASSIVE) this.tec += 8;
        this.raise(ALERT.BUS_ERROR);
        this.confine();
        this.txDoneAt = Math.max(this.txDoneAt, now) + Math.max(RETRY_MS, frameBits(frame) * this.bitMs);
        break;
      }
      this.txQueue.shift();
      if (this.tec > 0) this.tec--;
      this.bus.send({ ...frame, timestamp: Date.now() / 1000 }, this);
      this.raise(ALERT.TX_SUCCESS | (this.txQueue.length ? 0 : ALERT.TX_IDLE));
      this.confine();
      if (this.txQueue.length) this.txDoneAt += frameBits(this.txQueue[0]) * this.bitMs;
    }
    if (this.state !== TwaiState.Running || !this.txQueue.length) {
      this.txDoneAt = undefined;
      return;
    }
    const at = this.txDoneAt ?? now;
    this.txTimer = setTimeout(() => this.transmitted(), Math.max(0, at - now));
  }

  /** Raises the alerts of a change of error state. */
  private confine(): void {
    if (this.state !== TwaiState.Running) return;
    if (this.tec >= BUS_OFF) return this.enterBusOff();
    const level = this.tec >= ERROR_PASSIVE || this.rec >= ERROR_PASSIVE ? 2 : this.tec >= ERROR_WARNING || this.rec >= ERROR_WARNING ? 1 : 0;
    if (level === this.level) return;
    if (level > this.level) this.raise((this.level < 1 ? ALERT.ABOVE_ERR_WARN : 0) | (level === 2 ? ALERT.ERR_PASS : 0));
    else this.raise((this.level === 2 ? ALERT.ERR_ACTIVE : 0) | (level === 0 ? ALERT.BELOW_ERR_WARN : 0));
    this.level = level;
  }

  /** Alerts join the delivery on its way; one is posted when none is. */
  private raise(alerts: number): void {
    this.alerts |= alerts;
    if (this.posted) return;
    this.posted = true;
    this.deliver(() => {
      this.posted = false;
      const raised = this.alerts;
      this.alerts = 0;
      const frames = new Uint8Array(this.rxQueue.length * CAN_MTU);
      this.rxQueue.forEach((f, i) => frames.set(f, i * CAN_MTU));
      this.rxQueue = [];
      return [raised, frames];
    });
  }
}

export interface TwaiDevice {
  /** The controller while the firmware has it open. */
  readonly controller?: TwaiController;
  /** The fault `can-bus-off`, on the open controller. */
  busOff(forMs?: number): void;
  /** `can-bus-off` while the controller is bus-off or recovering, for the control socket's status. */
  active(): string[];
  close(): void;
}

/** The board's TWAI controller, on the board's bus. */
export function twai(host: Host, bus: CanBus): TwaiDevice {
  let open: { id: number; controller: TwaiController } | undefined;
  const of = (id: number) => {
    if (!open || open.id !== id) throw new PlatformError("TWAI closed");
    return open.controller;
  };
  host.handle("twai.open", (id: number, config: TwaiConfig) => {
    if (open) throw new PlatformError("TWAI is in use");
    if (!TWAI_BITRATES.includes(config.bitrate)) throw new PlatformError(`TWAI runs at ${TWAI_BITRATES.join(", ")} bit/s`);
    if (!(config.mode in TWAI_MODES)) throw new PlatformError("TWAI mode is 0 (normal), 1 (no-ack) or 2 (listen-only)");
    if (!(config.txQueue >= 1 && config.rxQueue >= 1)) throw new PlatformError("TWAI queues hold at least one frame");
    // A delivery is posted once the datagrams the event loop has read are on the bus, so a
    // burst goes in as one delivery rather than one a frame.
    const deliver = (take: () => [number, Uint8Array]) => setImmediate(() => open?.id === id && host.post("twai", id, take));
    const controller = new TwaiController({ ...config, code: config.code >>> 0, mask: config.mask >>> 0 }, bus, deliver, (line) => host.debug(line));
    controller.onBusOff = () => host.capture?.canBusOff();
    if (host.trace) {
      const trace = host.trace;
      controller.onState = (state) => trace.state(TRACK.CAN_CONTROLLER, state);
      trace.state(TRACK.CAN_CONTROLLER, "running");
    }
    open = { id, controller };
    host.debug(`twai: started at ${config.bitrate} bit/s, ${controller.mode}, pins ${config.transmit} and ${config.receive}`);
  });
  host.handle("twai.write", (id: number, bytes: Uint8Array) => of(id).write(bytes));
  host.handle("twai.status", (id: number) => of(id).status());
  host.handle("twai.start", (id: number) => of(id).start());
  host.handle("twai.recover", (id: number) => of(id).recover());
  host.handle("twai.close", (id: number) => {
    if (open?.id !== id) return;
    open.controller.close();
    open = undefined;
  });
  return {
    get controller() {
      return open?.controller;
    },
    active() {
      const state = open?.controller.state;
      return state === TwaiState.BusOff ? ["can-bus-off"] : state === TwaiState.Recovering ? ["can-bus-off (recovering)"] : [];
    },
    busOff(forMs) {
      if (open) open.controller.busOff(forMs);
      else host.log("sim: can-bus-off: the firmware has not started the TWAI controller");
    },
    close() {
      open?.controller.close();
      open = undefined;
    },
  };
}
