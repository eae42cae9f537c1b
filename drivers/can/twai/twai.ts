// The ESP32's TWAI controller as a CanDriver: ESP-IDF's TWAI driver (esp32/twai.c) under the
// contract of xsock/can. It turns the driver's alerts into received frames, state changes
// and room to write; frames cross the native boundary as SocketCAN's struct can_frame.
import TwaiNative from "xsock/can/twai-native";
import {
  CAN_EFF_FLAG,
  CAN_EFF_MASK,
  CAN_ERR_CRTL,
  CAN_ERR_CRTL_RX_OVERFLOW,
  CAN_INV_FILTER,
  CAN_MTU,
  CAN_RTR_FLAG,
  CAN_SFF_MASK,
  errorFrame,
  packFrame,
  type CanFrame,
} from "xsock/can-frame";
import type { CanBoardConfig, CanCounters, CanDriver, CanDriverFactory, CanDriverOptions, CanMode, CanState, HardwareFilter } from "xsock/can";

/** The bitrates ESP-IDF has timing presets for: TWAI_TIMING_CONFIG_25KBITS() to _1MBITS(). Frozen, as preloaded objects stay in flash. */
export const TWAI_BITRATES: readonly number[] = Object.freeze([25000, 50000, 100000, 125000, 250000, 500000, 800000, 1000000]);

// ESP-IDF's alerts (driver/twai.h), as the native side hands them over.
export const TWAI_ALERT_TX_IDLE = 0x0001;
export const TWAI_ALERT_TX_SUCCESS = 0x0002;
export const TWAI_ALERT_RX_DATA = 0x0004;
export const TWAI_ALERT_BELOW_ERR_WARN = 0x0008;
export const TWAI_ALERT_ERR_ACTIVE = 0x0010;
export const TWAI_ALERT_RECOVERY_IN_PROGRESS = 0x0020;
export const TWAI_ALERT_BUS_RECOVERED = 0x0040;
export const TWAI_ALERT_ARB_LOST = 0x0080;
export const TWAI_ALERT_ABOVE_ERR_WARN = 0x0100;
export const TWAI_ALERT_BUS_ERROR = 0x0200;
export const TWAI_ALERT_TX_FAILED = 0x0400;
export const TWAI_ALERT_RX_QUEUE_FULL = 0x0800;
export const TWAI_ALERT_ERR_PASS = 0x1000;
export const TWAI_ALERT_BUS_OFF = 0x2000;
export const TWAI_ALERT_RX_FIFO_OVERRUN = 0x4000;

/** Alerts after which the error counters or the state may have changed. */
const STATE_ALERTS =
  TWAI_ALERT_ERR_ACTIVE | TWAI_ALERT_ABOVE_ERR_WARN | TWAI_ALERT_BELOW_ERR_WARN | TWAI_ALERT_ERR_PASS | TWAI_ALERT_BUS_OFF | TWAI_ALERT_BUS_RECOVERED | TWAI_ALERT_BUS_ERROR | TWAI_ALERT_TX_FAILED;
/** Alerts after which the transmit queue may have room. */
const ROOM_ALERTS = TWAI_ALERT_TX_IDLE | TWAI_ALERT_TX_SUCCESS | TWAI_ALERT_TX_FAILED | TWAI_ALERT_BUS_RECOVERED;

/** twai_mode_t */
const MODES: Readonly<Record<CanMode, number>> = Object.freeze({ normal: 0, "no-ack": 1, "listen-only": 2 });
/** twai_state_t */
const STATE_BUS_OFF = 2;
const STATE_RECOVERING = 3;
/** The controller's error warning limit (ESP-IDF's default) and ISO 11898's error-passive one. */
const ERROR_WARNING = 96;
const ERROR_PASSIVE = 128;

/** Queue depths, in frames: ESP-IDF allocates them at install. */
export const TWAI_TX_QUEUE = 16;
export const TWAI_RX_QUEUE = 32;

/** TWAI's single acceptance filter: a 1 in mask is a bit that need not match. */
export interface TwaiAcceptance {
  code: number;
  mask: number;
}

export const ACCEPT_ALL: Readonly<TwaiAcceptance> = Object.freeze({ code: 0, mask: 0xffffffff });

/**
 * The single-filter acceptance code and mask for a filter in SocketCAN's polarity. TWAI lays
 * a standard frame's id in bits 31-21 and its RTR in bit 20 (bits 15-0 are its first two data
 * bytes), an extended frame's id in bits 31-3 and its RTR in bit 2. A filter that does not say
 * which format it wants (no CAN_EFF_FLAG in its mask), or an inverted one, accepts everything:
 * the hardware filter only spares the receive queue, and sockets filter again above it.
 */
export function twaiAcceptance(filter: HardwareFilter | undefined): TwaiAcceptance {
  if (!filter) return ACCEPT_ALL;
  const id = filter.can_id >>> 0;
  const mask = filter.can_mask >>> 0;
  if (id & CAN_INV_FILTER || !(mask & CAN_EFF_FLAG)) return ACCEPT_ALL;
  const rtr = (id & CAN_RTR_FLAG) !== 0;
  const rtrMatters = (mask & CAN_RTR_FLAG) !== 0;
  if (id & CAN_EFF_FLAG) {
    const care = (((mask & CAN_EFF_MASK) << 3) | (rtrMatters ? 1 << 2 : 0)) >>> 0;
    const code = (((id & CAN_EFF_MASK) << 3) | (rtr ? 1 << 2 : 0)) >>> 0;
    return { code: (code & care) >>> 0, mask: ~care >>> 0 };
  }
  const care = (((mask & CAN_SFF_MASK) << 21) | (rtrMatters ? 1 << 20 : 0)) >>> 0;
  const code = (((id & CAN_SFF_MASK) << 21) | (rtr ? 1 << 20 : 0)) >>> 0;
  return { code: (code & care) >>> 0, mask: ~care >>> 0 };
}

function pin(board: CanBoardConfig, name: "transmit" | "receive"): number {
  const value = board[name];
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw new RangeError(`twai: the board's can.${name} pin is ${String(value)}`);
  return value;
}

class TwaiDriver implements CanDriver {
  readonly name = "twai";
  readonly fd = false;
  readonly bitrates = TWAI_BITRATES;
  readonly #transmit: number;
  readonly #receive: number;
  #native?: TwaiNative;
  #options?: CanDriverOptions;
  #state: CanState = "stopped";
  #counters: CanCounters = { tx: 0, rx: 0 };
  /** write() found the transmit queue full: onWritable is owed. */
  #blocked = false;
  /** Frames the controller has missed so far (twai_status_info_t's rx_missed_count + rx_overrun_count). */
  #lost = 0;
  readonly #frame = new ArrayBuffer(CAN_MTU);
  readonly #view = new DataView(this.#frame);
  readonly #bytes = new Uint8Array(this.#frame);

  constructor(board: CanBoardConfig) {
    this.#transmit = pin(board, "transmit");
    this.#receive = pin(board, "receive");
  }

  get state(): CanState {
    return this.#state;
  }

  get counters(): CanCounters {
    return { ...this.#counters };
  }

  start(options: CanDriverOptions): void {
    if (!TWAI_BITRATES.includes(options.bitrate)) throw new RangeError(`twai runs at ${TWAI_BITRATES.join(", ")} bit/s, not ${options.bitrate}`);
    const mode = MODES[options.mode];
    if (mode === undefined) throw new RangeError(`twai has no mode ${String(options.mode)}`);
    this.stop();
    const { code, mask } = twaiAcceptance(options.filter);
    this.#options = options;
    this.#native = new TwaiNative({
      transmit: this.#transmit,
      receive: this.#receive,
      bitrate: options.bitrate,
      mode,
      code,
      mask,
      txQueue: TWAI_TX_QUEUE,
      rxQueue: TWAI_RX_QUEUE,
      onAlert: (alerts) => this.#alert(alerts),
    });
    this.#state = "error-active";
    this.#counters = { tx: 0, rx: 0 };
    this.#lost = 0;
    this.#blocked = false;
  }

  stop(): void {
    const native = this.#native;
    this.#native = undefined;
    this.#options = undefined;
    this.#state = "stopped";
    native?.close();
  }

  write(frame: CanFrame): boolean {
    if (!this.#native) throw new Error("twai is stopped");
    if (frame.fd) throw new RangeError("twai does not carry CAN FD frames");
    if (this.#native.write(packFrame(frame).buffer as ArrayBuffer)) return true;
    this.#blocked = true;
    return false;
  }

  recover(): void {
    if (this.#native && this.#state === "bus-off") this.#native.recover();
  }

  #alert(alerts: number): void {
    const native = this.#native;
    const options = this.#options;
    if (!native || !options) return;
    // Whatever the alert, take what the receive queue holds: one read more costs little. The
    // controller hands over well-formed frames (11 or 29-bit ids, 0 to 8 bytes): no checks again.
    while (this.#native === native && native.read(this.#frame)) {
      const id = this.#view.getUint32(0, true);
      const len = this.#bytes[4];
      options.onReceive({ can_id: id, len, data: id & CAN_RTR_FLAG ? new Uint8Array(0) : this.#bytes.slice(8, 8 + len) });
    }
    if (this.#native !== native) return;
    if (alerts & (TWAI_ALERT_RX_QUEUE_FULL | TWAI_ALERT_RX_FIFO_OVERRUN)) this.#overflowed(native, options);
    // Recovery leaves the controller stopped; it runs again from error-active.
    if (alerts & TWAI_ALERT_BUS_RECOVERED) {
      try {
        native.start();
      } catch {
        // it runs already: the state below says so
      }
    }
    if (alerts & STATE_ALERTS) this.#refresh(native, options);
    if (this.#native === native && this.#blocked && alerts & ROOM_ALERTS) {
      this.#blocked = false;
      options.onWritable();
    }
  }

  /** Frames the controller missed (queue full, FIFO overrun) reach the sockets as Linux reports them. */
  #overflowed(native: TwaiNative, options: CanDriverOptions): void {
    const status = native.status();
    const lost = status[6] + status[7];
    if (lost <= this.#lost) return;
    this.#lost = lost;
    options.onReceive(errorFrame(CAN_ERR_CRTL, [0, CAN_ERR_CRTL_RX_OVERFLOW]));
  }

  #refresh(native: TwaiNative, options: CanDriverOptions): void {
    const [state, tec, rec] = native.status();
    this.#counters = { tx: tec, rx: rec };
    let next: CanState;
    if (state === STATE_BUS_OFF || state === STATE_RECOVERING) next = "bus-off";
    else if (tec >= ERROR_PASSIVE || rec >= ERROR_PASSIVE) next = "error-passive";
    else if (tec >= ERROR_WARNING || rec >= ERROR_WARNING) next = "error-warning";
    else next = "error-active";
    if (next === this.#state) return;
    this.#state = next;
    options.onState(next, this.counters);
  }
}

const twai: CanDriverFactory = (board) => new TwaiDriver(board);
export default twai;
