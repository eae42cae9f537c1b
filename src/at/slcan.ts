// SLCAN: LAWICEL's ASCII CAN protocol (CAN232, CANUSB), as python-can's `slcan` interface and
// Linux's slcand speak it. Commands end in CR; OK is CR, an error is BEL. Received frames go
// out as t/T/r/R lines. Pure logic: the bus and the UART are behind SlcanPort, so it runs (and
// is fuzzed) under Node as on the board.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_BUSERROR, CAN_ERR_BUSOFF, CAN_ERR_CRTL, CAN_ERR_CRTL_ACTIVE, CAN_ERR_CRTL_RX_OVERFLOW, CAN_ERR_CRTL_RX_PASSIVE, CAN_ERR_CRTL_RX_WARNING, CAN_ERR_CRTL_TX_OVERFLOW, CAN_ERR_CRTL_TX_PASSIVE, CAN_ERR_CRTL_TX_WARNING, CAN_ERR_FLAG, CAN_ERR_LOSTARB, CAN_ERR_PROT, CAN_ERR_RESTARTED, CAN_RTR_FLAG, CAN_SFF_MASK, type CanFrame } from "xsock/can-frame";

export const CR = 0x0d;
export const BEL = 0x07;

/** The bitrates of S0 to S8, in bit/s (LAWICEL's table: S7 is 800 kbit/s). */
export const SLCAN_BITRATES: readonly number[] = [10000, 20000, 50000, 100000, 125000, 250000, 500000, 800000, 1000000];

/** The longest command: `T` 8 id digits, the length and 16 data digits. Longer lines get BEL. */
export const SLCAN_MAX_LINE = 27;

/** Frames held for P and A while auto-poll is off; past it they are lost (status bit 0). */
export const SLCAN_POLL_QUEUE = 32;

/** The F command's status bits (CAN232's, from the SJA1000). */
export const Status = {
  rxQueueFull: 0x01,
  txQueueFull: 0x02,
  errorWarning: 0x04,
  dataOverrun: 0x08,
  errorPassive: 0x20,
  arbitrationLost: 0x40,
  busError: 0x80,
} as const;

/** What SLCAN needs of the board: the CAN bus and the UART. */
export interface SlcanPort {
  /** Bytes to the host. */
  write(bytes: Uint8Array): void;
  /** Whether the UART can take a received frame now; when not, the frame is lost (F tells). */
  room(): boolean;
  /** The bitrates the controller runs at, in bit/s. */
  readonly bitrates: readonly number[];
  /** Starts the bus (listen-only: never transmits, never acknowledges). Throws when it cannot. */
  open(bitrate: number, listenOnly: boolean): void;
  close(): void;
  /** Queues a frame: false when the transmit queue is full. Throws when the bus cannot send (bus-off). */
  send(frame: CanFrame): boolean;
  /** Milliseconds, for Z's time stamps. */
  now(): number;
}

export interface SlcanOptions {
  /** The bitrate O opens at before any S command. */
  bitrate: number;
  /** N's reply: 4 characters. */
  serial: string;
  /** V's reply, `hhff`: hardware and firmware version, two digits each. */
  version: string;
}

const HEX = /^[0-9A-Fa-f]+$/;
const hex = (n: number, digits: number) => n.toString(16).toUpperCase().padStart(digits, "0");

function ascii(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0x7f;
  return bytes;
}

/** A frame as SLCAN writes it, without the CR: `t1232AABB`, `T123456782AABB`, `r1238`, `R123456780`. */
export function slcanLine(frame: CanFrame): string {
  const extended = (frame.can_id & CAN_EFF_FLAG) !== 0;
  const remote = (frame.can_id & CAN_RTR_FLAG) !== 0;
  const kind = remote ? (extended ? "R" : "r") : extended ? "T" : "t";
  const id = extended ? hex(frame.can_id & CAN_EFF_MASK, 8) : hex(frame.can_id & CAN_SFF_MASK, 3);
  let data = "";
  if (!remote) for (let i = 0; i < frame.len; i++) data += hex(frame.data[i], 2);
  return `${kind}${id}${frame.len}${data}`;
}

/** A t/T/r/R command's frame, or undefined when it is not well formed. */
export function parseSlcanFrame(line: string): CanFrame | undefined {
  const kind = line[0];
  const extended = kind === "T" || kind === "R";
  const remote = kind === "r" || kind === "R";
  if (!extended && kind !== "t" && kind !== "r") return undefined;
  const idDigits = extended ? 8 : 3;
  const idText = line.slice(1, 1 + idDigits);
  const lenText = line[1 + idDigits];
  if (idText.length !== idDigits || !HEX.test(idText) || lenText === undefined || lenText < "0" || lenText > "8") return undefined;
  const id = Number.parseInt(idText, 16);
  const len = lenText.charCodeAt(0) - 0x30;
  if (id > (extended ? CAN_EFF_MASK : CAN_SFF_MASK)) return undefined;
  const dataText = line.slice(2 + idDigits);
  if (remote ? dataText !== "" : dataText.length !== len * 2 || (len > 0 && !HEX.test(dataText))) return undefined;
  const data = new Uint8Array(remote ? 0 : len);
  for (let i = 0; i < data.length; i++) data[i] = Number.parseInt(dataText.slice(i * 2, i * 2 + 2), 16);
  const can_id = (id | (extended ? CAN_EFF_FLAG : 0) | (remote ? CAN_RTR_FLAG : 0)) >>> 0;
  return { can_id, len, data };
}

/** One SLCAN session on the UART: from AT+CANSLCAN until the board restarts. */
export class Slcan {
  #line = "";
  #overlong = false;
  #open = false;
  #listenOnly = false;
  #bitrate: number;
  #timestamps = false;
  #autoPoll = true;
  #status = 0;
  #polled: string[] = [];

  constructor(
    private readonly port: SlcanPort,
    private readonly options: SlcanOptions,
  ) {
    this.#bitrate = options.bitrate;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Characters of the command line not yet ended by CR. */
  get buffered(): number {
    return this.#line.length;
  }

  /** Takes bytes from the UART: each CR ends a command, LF is ignored, and every command is answered. */
  input(bytes: Uint8Array): void {
    for (const byte of bytes) {
      if (byte === CR) {
        const line = this.#line;
        const overlong = this.#overlong;
        this.#line = "";
        this.#overlong = false;
        this.#reply(overlong ? undefined : this.#run(line));
      } else if (byte === 0x0a) {
        continue;
      } else if (this.#line.length < SLCAN_MAX_LINE) {
        this.#line += String.fromCharCode(byte);
      } else {
        this.#overlong = true;
      }
    }
  }

  /** A frame from the bus (error frames included), while the channel is open. */
  receive(frame: CanFrame): void {
    if (!this.#open) return;
    if (frame.can_id & CAN_ERR_FLAG) return this.#errorFrame(frame);
    if (frame.fd) return; // SLCAN has no CAN FD lines
    const stamp = this.#timestamps ? hex(this.port.now() % 60000, 4) : "";
    const line = `${slcanLine(frame)}${stamp}\r`;
    if (!this.#autoPoll) {
      if (this.#polled.length < SLCAN_POLL_QUEUE) this.#polled.push(line);
      else this.#status |= Status.rxQueueFull;
    } else if (this.port.room()) this.port.write(ascii(line));
    else this.#status |= Status.rxQueueFull;
  }

  /** Closes the channel (the session ends). */
  close(): void {
    if (this.#open) this.port.close();
    this.#open = false;
  }

  #reply(text: string | undefined): void {
    this.port.write(text === undefined ? Uint8Array.of(BEL) : ascii(`${text}\r`));
  }

  /** Runs one command; returns its reply without the CR, or undefined for BEL. */
  #run(line: string): string | undefined {
    const cmd = line[0];
    const arg = line.slice(1);
    const closed = !this.#open;
    switch (cmd) {
      case undefined:
        return ""; // an empty command: hosts send a few CRs to clear the line
      case "S": {
        const n = arg.length === 1 ? arg.charCodeAt(0) - 0x30 : -1;
        const bitrate = SLCAN_BITRATES[n];
        if (!closed || bitrate === undefined || !this.port.bitrates.includes(bitrate)) return undefined;
        this.#bitrate = bitrate;
        return "";
      }
      case "O":
      case "L":
        if (arg || !closed) return undefined;
        try {
          this.port.open(this.#bitrate, cmd === "L");
        } catch {
          return undefined;
        }
        this.#open = true;
        this.#listenOnly = cmd === "L";
        this.#status = 0;
        this.#polled = [];
        return "";
      case "C":
        if (arg) return undefined;
        this.close();
        return "";
      case "t":
      case "T":
      case "r":
      case "R":
        return this.#transmit(line);
      case "V":
        return arg ? undefined : `V${this.options.version}`;
      case "v":
        return arg ? undefined : `v${this.options.version}`;
      case "N":
        return arg ? undefined : `N${this.options.serial}`;
      case "F": {
        if (arg) return undefined;
        const status = this.#status;
        this.#status &= Status.errorWarning | Status.errorPassive; // levels stay; events clear on read
        return `F${hex(status, 2)}`;
      }
      case "Z":
      case "X": {
        if (!closed || (arg !== "0" && arg !== "1")) return undefined;
        if (cmd === "Z") this.#timestamps = arg === "1";
        else this.#autoPoll = arg === "1";
        return "";
      }
      case "P":
        if (arg || this.#autoPoll || closed) return undefined;
        return (this.#polled.shift() ?? "\r").slice(0, -1);
      case "A": {
        if (arg || this.#autoPoll || closed) return undefined;
        const all = this.#polled.splice(0).join("");
        return `${all}A`;
      }
      case "M":
      case "m": {
        if (!closed || arg.length !== 8 || !HEX.test(arg)) return undefined;
        // The SJA1000's acceptance filter is not modelled: only its receive-all mask is taken,
        // with which any acceptance code passes everything.
        return cmd === "m" && arg.toUpperCase() !== "FFFFFFFF" ? undefined : "";
      }
      default:
        return undefined; // s (BTR registers), U (UART), Q (auto start), W and the rest
    }
  }

  #transmit(line: string): string | undefined {
    const frame = parseSlcanFrame(line);
    if (!frame || !this.#open || this.#listenOnly) return undefined;
    let queued: boolean;
    try {
      queued = this.port.send(frame);
    } catch {
      this.#status |= Status.busError;
      return undefined;
    }
    if (!queued) {
      this.#status |= Status.txQueueFull;
      return undefined;
    }
    if (!this.#autoPoll) return "";
    return frame.can_id & CAN_EFF_FLAG ? "Z" : "z";
  }

  /** Error frames set F's status bits; SLCAN has no line for them. */
  #errorFrame(frame: CanFrame): void {
    const classes = frame.can_id;
    const ctrl = frame.data[1] ?? 0;
    if (classes & (CAN_ERR_BUSOFF | CAN_ERR_PROT | CAN_ERR_BUSERROR)) this.#status |= Status.busError;
    if (classes & CAN_ERR_LOSTARB) this.#status |= Status.arbitrationLost;
    if (classes & CAN_ERR_RESTARTED) this.#status &= ~(Status.errorWarning | Status.errorPassive);
    if (!(classes & CAN_ERR_CRTL)) return;
    if (ctrl & (CAN_ERR_CRTL_RX_OVERFLOW | CAN_ERR_CRTL_TX_OVERFLOW)) this.#status |= Status.dataOverrun;
    if (ctrl & CAN_ERR_CRTL_ACTIVE) this.#status &= ~(Status.errorWarning | Status.errorPassive);
    if (ctrl & (CAN_ERR_CRTL_RX_WARNING | CAN_ERR_CRTL_TX_WARNING)) this.#status |= Status.errorWarning;
    if (ctrl & (CAN_ERR_CRTL_RX_PASSIVE | CAN_ERR_CRTL_TX_PASSIVE)) this.#status |= Status.errorPassive;
  }
}
