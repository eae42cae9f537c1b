// The board's UARTs. The console UART is wired to the simulator's UART line; with a baud
// rate set, bytes cross it no faster than they would at that rate, 8N1. With RTS/CTS flow
// control the client waits while the receive buffer is full; without it the buffer is a FIFO
// that overflows: bytes past it are lost, and the firmware hears of it (onError) once it has
// read what came before them.
import type { Host } from "../host.ts";
import { PlatformError } from "../host.ts";
import type { UartLine } from "../uart-line.ts";
import { ByteQueue } from "../byte-queue.ts";

/** The console UART's buffers, each way. */
export const RX_BUFFER = 1024;
export const TX_BUFFER = 1024;
/** Unpaced, the line is as fast as the host: the buffers are bigger, so fewer events carry the bytes. */
export const UNPACED_BUFFER = 16384;

/** `rtscts`: the client waits while the receive buffer is full. `none`: what overflows it is lost. */
export type FlowControl = "rtscts" | "none";
export const FLOW_CONTROLS: readonly FlowControl[] = ["rtscts", "none"];

/** Releases bytes at a line rate; with no rate, at once. */
export class Pacer {
  private readonly queue = new ByteQueue();
  private timer?: NodeJS.Timeout;
  private last = 0;
  private credit = 0;

  private bytesPerSecond?: number;

  constructor(
    baud: number | undefined,
    private readonly sink: (bytes: Buffer) => void,
  ) {
    this.setBaud(baud);
  }

  /** 8N1: ten bits on the wire a byte. */
  setBaud(baud: number | undefined): void {
    this.bytesPerSecond = baud ? baud / 10 : undefined;
  }

  push(bytes: Buffer): void {
    this.queue.push(bytes);
    this.pump();
  }

  get pending(): number {
    return this.queue.length;
  }

  close(): void {
    clearTimeout(this.timer);
    this.queue.clear();
  }

  private pump(): void {
    if (this.timer) return;
    const rate = this.bytesPerSecond;
    if (!rate) {
      const all = this.queue.take(Infinity);
      if (all) this.sink(all);
      return;
    }
    const now = performance.now();
    if (this.credit === 0 && this.last === 0) this.last = now;
    this.credit = Math.min(this.credit + ((now - this.last) * rate) / 1000, Math.max(1, rate / 100));
    this.last = now;
    const out = this.queue.take(Math.floor(this.credit));
    if (out) {
      this.credit -= out.length;
      this.sink(out);
    }
    if (this.queue.length) {
      const wait = Math.max(1, ((1 - this.credit) * 1000) / rate);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
    } else {
      this.last = 0;
      this.credit = 0;
    }
  }
}

/** Bytes lost to an overrun, after the byte at `at` (counted from the port's opening). */
interface Gap {
  at: number;
  lost: number;
}

interface OpenPort {
  rx: ByteQueue;
  /** Bytes put into rx, and taken from it, since the port opened. */
  received: number;
  taken: number;
  /** Overruns the firmware has not read up to yet, in order. */
  gaps: Gap[];
  /** A readable (writable) event is on its way in; its count is taken when it is delivered. */
  readablePending: boolean;
  /** `received` when the last readable event reached the firmware: what came after, it has not heard of. */
  told: number;
  writablePending: boolean;
  /** Transmit space the firmware was last told of, less what it has written since. */
  believed: number;
}

export interface SerialDevice {
  close(): void;
}

/**
 * The receive FIFO without flow control: RX_BUFFER, or 20 ms of the line where that is more (a
 * paced line delivers in bursts). Unpaced, the line is infinitely fast: a write bigger than
 * this overruns it at once.
 */
export function fifoSize(rate: number | undefined): number {
  return Math.max(RX_BUFFER, rate ? Math.ceil(rate / 10 / 50) : 0);
}

export function serial(host: Host, line: UartLine, baud: number | undefined, flow: FlowControl = "rtscts"): SerialDevice {
  const ports = new Map<number, OpenPort>();
  /** Bytes a console port closed on that the firmware had not heard of, for a port opened in the same call. */
  let carried: Buffer | undefined;
  let consoleId: number | undefined;
  let txBuffer = TX_BUFFER;
  let rxBuffer = RX_BUFFER;

  const toFirmware = new Pacer(baud, (bytes) => {
    const port = consoleId === undefined ? undefined : ports.get(consoleId);
    if (!port) return; // nothing listens: the bytes fall off the wire
    if (flow === "none" && port.rx.length + bytes.length > rxBuffer) {
      const fits = Math.max(0, rxBuffer - port.rx.length);
      overrun(port, bytes.length - fits);
      bytes = bytes.subarray(0, fits);
    }
    port.rx.push(bytes);
    port.received += bytes.length;
    if (flow === "rtscts" && port.rx.length >= rxBuffer) line.pause(); // RTS: the client waits, nothing is lost
    notifyReadable(consoleId!, port);
  });
  const toLine = new Pacer(baud, (bytes) => {
    line.write(bytes);
    afterTransmit();
  });

  /** The FIFO is full: `lost` bytes fall after what it holds. Gaps with nothing between them are one. */
  function overrun(port: OpenPort, lost: number): void {
    const last = port.gaps.at(-1);
    const at = port.received + Math.max(0, rxBuffer - port.rx.length);
    if (last?.at === at) last.lost += lost;
    else port.gaps.push({ at, lost });
  }

  function notifyReadable(id: number, port: OpenPort): void {
    if (port.readablePending || !port.rx.length) return;
    port.readablePending = true;
    host.post("serial", id, "readable", () => {
      port.readablePending = false;
      port.told = port.received;
      return port.rx.length;
    });
  }

  /** Tells the firmware its transmit space, once the space it knows of runs low and more is free. */
  function afterTransmit(): void {
    const port = consoleId === undefined ? undefined : ports.get(consoleId);
    if (!port || port.writablePending || port.believed >= txBuffer / 2 || txBuffer - toLine.pending <= port.believed) return;
    port.writablePending = true;
    host.post("serial", consoleId!, "writable", () => {
      port.writablePending = false;
      return (port.believed = txBuffer - toLine.pending);
    });
  }

  const portOf = (id: number) => {
    const port = ports.get(id);
    if (!port) throw new PlatformError("serial port is closed", 9, "EBADF");
    return port;
  };

  host.handle("serial.open", (id: number, options: { port: number; baud: number; transmit?: number; receive?: number }) => {
    const pins = host.board.console;
    if (options.port !== pins.port) throw new PlatformError(`UART ${options.port} is not wired in the simulator: the console is UART ${pins.port}`);
    if (consoleId !== undefined) throw new PlatformError(`UART ${options.port} is already open`);
    if ((options.transmit !== undefined && options.transmit !== pins.transmit) || (options.receive !== undefined && options.receive !== pins.receive)) {
      throw new PlatformError(`UART ${options.port} is on pins TX ${pins.transmit} RX ${pins.receive} on ${host.board.id}`);
    }
    consoleId = id;
    // The line runs at --baud, until the firmware opens it at another rate than the board's
    // (AT+UART_CUR): then at that rate.
    const rate = options.baud !== pins.baud ? options.baud : baud;
    toFirmware.setBaud(rate);
    toLine.setBaud(rate);
    txBuffer = rate ? TX_BUFFER : UNPACED_BUFFER;
    rxBuffer = flow === "none" ? fifoSize(rate) : rate ? RX_BUFFER : UNPACED_BUFFER;
    const port: OpenPort = { rx: new ByteQueue(), received: 0, taken: 0, gaps: [], readablePending: false, told: 0, writablePending: false, believed: txBuffer };
    ports.set(id, port);
    if (carried) {
      port.rx.push(carried);
      port.received = carried.length;
      carried = undefined;
      notifyReadable(id, port);
    }
    host.post("serial", id, "writable", txBuffer);
    line.onData((bytes) => toFirmware.push(Buffer.from(bytes)));
    line.resume();
  });

  // A read stops at an overrun's gap; once it has reached it, the firmware hears of the loss
  // (an error event), and the next read goes on after it.
  host.handle("serial.read", (id: number, max: number) => {
    const port = portOf(id);
    const gap = port.gaps[0];
    const got = port.rx.take(gap ? Math.min(max, gap.at - port.taken) : max);
    port.taken += got?.length ?? 0;
    if (gap && port.taken === gap.at) {
      port.gaps.shift();
      host.log(`sim: UART overrun: ${gap.lost} bytes lost (a ${rxBuffer}-byte receive FIFO, no flow control)`);
      host.post("serial", id, "error", `receive overrun: ${gap.lost} bytes lost`);
    }
    if (flow === "rtscts" && port.rx.length < rxBuffer / 2) line.resume();
    notifyReadable(id, port);
    return got;
  });

  host.handle("serial.write", (id: number, bytes: Uint8Array) => {
    const port = portOf(id);
    if (toLine.pending + bytes.length > txBuffer) throw new PlatformError("serial write overflows the transmit buffer", 11, "EAGAIN");
    port.believed -= bytes.length;
    toLine.push(Buffer.from(bytes));
  });

  // A reopen (AT+UART_CUR) reads the port, closes it and opens it again at once: on the board
  // that takes microseconds, here a round trip to XS for each call. Bytes that came in meanwhile
  // (after the read, and no readable event has told the firmware of them) go to the port opened
  // next in the same call; those the firmware was told of and left unread are lost, as on the board.
  host.handle("serial.close", (id: number) => {
    const port = ports.get(id);
    ports.delete(id);
    if (consoleId !== id) return;
    consoleId = undefined;
    const unheard = port && !port.gaps.length ? Math.min(port.rx.length, port.received - port.told) : 0;
    if (!unheard) return;
    port!.rx.take(port!.rx.length - unheard);
    carried = port!.rx.take(unheard) ?? undefined;
    setImmediate(() => (carried = undefined));
  });

  return {
    close() {
      toFirmware.close();
      toLine.close();
    },
  };
}
