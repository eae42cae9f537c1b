// The board's UARTs. The console UART is wired to the simulator's UART line; with a baud
// rate set, bytes cross it no faster than they would at that rate, 8N1. With RTS/CTS flow
// control the client waits while the receive buffer is full; without it the buffer is a FIFO
// that overflows: bytes past it are lost, and the firmware hears of it (onError) once it has
// read what came before them.
import type { Host } from "../host.ts";
import { PlatformError } from "../host.ts";
import type { UartLine } from "../uart-line.ts";
import { ByteQueue } from "../byte-queue.ts";
import { preciseTimeout } from "../precise-timer.ts";

/** The console UART's buffers, each way. */
export const RX_BUFFER = 1024;
export const TX_BUFFER = 1024;
/** Unpaced, the line is as fast as the host: the buffers are bigger, so fewer events carry the bytes. */
export const UNPACED_BUFFER = 16384;

/** `rtscts`: the client waits while the receive buffer is full. `none`: what overflows it is lost. */
export type FlowControl = "rtscts" | "none";
export const FLOW_CONTROLS: readonly FlowControl[] = ["rtscts", "none"];

/**
 * How far ahead of the line the receive side hands bytes to the firmware: a command whose
 * first byte starts, the firmware gets whole (up to 2 ms of the line, an AT+MQTTPUB line at
 * 921600), so the simulator's own work on it overlaps its time on the wire instead of adding
 * to it. Replies still wait for the bytes they answer to arrive (`notBefore`).
 */
const RECEIVE_LEAD_MS = 2;
/** A wait this short goes in setImmediate turns: the precise timer's worker takes about as long to wake. */
const SPIN_MS = 0.1;

/**
 * One direction of a paced line: bytes cross it back to back at the line rate, 8N1, on a
 * schedule computed from their wire time, so a late timer delays a release but never slows the
 * line. `arrived` releases bytes once their last bit is on the far side (what a client reading
 * the line sees); `started` releases them once their first bit is (the board's receive side, up
 * to RECEIVE_LEAD_MS ahead). With no rate, bytes pass at once.
 */
export class Pacer {
  private readonly queue: { bytes: Buffer; ready: number }[] = [];
  private queued = 0;
  private timer?: NodeJS.Timeout;
  private cancelFine?: () => void;
  /** When the line is done with the bytes released so far, in performance.now() ms. */
  private lineFree = 0;
  /** A byte's time on the wire in ms; undefined when unpaced. */
  msPerByte?: number;

  constructor(
    baud: number | undefined,
    /** Takes released bytes, with the time their first byte started on the wire. */
    private readonly sink: (bytes: Buffer, wireStart: number) => void,
    private readonly release: "arrived" | "started" = "arrived",
  ) {
    this.setBaud(baud);
  }

  /** 8N1: ten bits on the wire a byte. */
  setBaud(baud: number | undefined): void {
    this.msPerByte = baud ? 10000 / baud : undefined;
  }

  /** Queues bytes that may not start on the wire before `notBefore` (performance.now() ms). */
  push(bytes: Buffer, notBefore = 0): void {
    if (!bytes.length) return;
    this.queue.push({ bytes, ready: Math.max(performance.now(), notBefore) });
    this.queued += bytes.length;
    this.pump();
  }

  get pending(): number {
    return this.queued;
  }

  close(): void {
    clearTimeout(this.timer);
    this.cancelFine?.();
    this.timer = this.cancelFine = undefined;
    this.queue.length = 0;
    this.queued = 0;
  }

  private pump(): void {
    if (this.timer || this.cancelFine) return;
    const perByte = this.msPerByte;
    const now = performance.now();
    if (perByte === undefined) {
      this.releaseUpTo(Infinity, undefined);
      return;
    }
    // A byte goes once `now + lead` has passed its end on the wire. Within a millisecond of a
    // queue's end, only whole writes go: the client gets a reply at once, not in pieces.
    const lead = this.release === "started" ? RECEIVE_LEAD_MS + perByte : 0;
    const end = this.release === "arrived" ? this.doneAt(perByte) : Infinity;
    const finishing = end - now < 1;
    this.releaseUpTo(now + lead, perByte, finishing);
    if (!this.queue.length) return;
    const resume = () => {
      this.timer = this.cancelFine = undefined;
      this.pump();
    };
    const head = this.queue[0];
    const headStart = Math.max(this.lineFree, head.ready);
    // Node's timers tick in whole milliseconds: the last one before a queue is through (a
    // reply's end) is timed finer, so a client sees it when the line delivers it, not a tick
    // later; its last SPIN_MS, shorter than the worker's wake-up, in setImmediate turns. The
    // receive side needs no more: a late release there costs latency only.
    const headEnd = headStart + head.bytes.length * perByte;
    if (finishing && headEnd - now < SPIN_MS) {
      const turn = setImmediate(resume);
      this.cancelFine = () => clearImmediate(turn);
    } else if (finishing) this.cancelFine = preciseTimeout(resume, headEnd - now);
    else {
      const next = headStart + perByte - lead;
      this.timer = setTimeout(resume, Math.max(1, Math.min(next - now, end - now - 1)));
    }
  }

  /** When the last queued byte is through, were the line to carry them back to back. */
  private doneAt(perByte: number): number {
    let at = this.lineFree;
    for (const { bytes, ready } of this.queue) at = Math.max(at, ready) + bytes.length * perByte;
    return at;
  }

  /** Releases the queued bytes whose wire time ends by `until`, only whole writes if `whole`; unpaced, all. */
  private releaseUpTo(until: number, perByte: number | undefined, whole = false): void {
    const out: Buffer[] = [];
    let wireStart = 0;
    while (this.queue.length) {
      const head = this.queue[0];
      const start = Math.max(this.lineFree, head.ready);
      // 1e-9: a byte that ends exactly at `until` counts.
      const n = perByte === undefined ? head.bytes.length : Math.min(head.bytes.length, Math.floor((until - start) / perByte + 1e-9));
      if (n <= 0 || (whole && n < head.bytes.length)) break;
      if (!out.length) wireStart = start;
      out.push(head.bytes.subarray(0, n));
      if (n === head.bytes.length) this.queue.shift();
      else head.bytes = head.bytes.subarray(n);
      this.queued -= n;
      this.lineFree = perByte === undefined ? start : start + n * perByte;
    }
    if (out.length) this.sink(out.length === 1 ? out[0] : Buffer.concat(out), wireStart);
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
  /** Paced: where each batch of rx's bytes started on the wire (`first` counts as `received` does). */
  arrivals: { first: number; wireStart: number; msPerByte: number }[];
  /** When the last byte the firmware has read arrived: what it writes next cannot answer anything later. */
  readArrived: number;
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

  // The receive side hands a command to the firmware as it starts on the wire; a reply waits
  // for it to arrive (readUpTo).
  const toFirmware = new Pacer(baud, receive, "started");
  const toLine = new Pacer(baud, (bytes) => {
    line.write(bytes);
    afterTransmit();
  });

  function receive(bytes: Buffer, wireStart: number): void {
    const port = consoleId === undefined ? undefined : ports.get(consoleId);
    if (!port) return; // nothing listens: the bytes fall off the wire
    if (flow === "none" && port.rx.length + bytes.length > rxBuffer) {
      const fits = Math.max(0, rxBuffer - port.rx.length);
      overrun(port, bytes.length - fits);
      bytes = bytes.subarray(0, fits);
    }
    if (toFirmware.msPerByte !== undefined && bytes.length) port.arrivals.push({ first: port.received, wireStart, msPerByte: toFirmware.msPerByte });
    port.rx.push(bytes);
    port.received += bytes.length;
    if (flow === "rtscts" && port.rx.length >= rxBuffer) line.pause(); // RTS: the client waits, nothing is lost
    notifyReadable(consoleId!, port);
  }

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

  /** The firmware has read up to byte `last`: it heard it once the byte had arrived. */
  function readUpTo(port: OpenPort, last: number): void {
    const { arrivals } = port;
    while (arrivals.length > 1 && arrivals[1].first <= last) arrivals.shift();
    const batch = arrivals[0];
    if (batch && batch.first <= last) port.readArrived = Math.max(port.readArrived, batch.wireStart + (last - batch.first + 1) * batch.msPerByte);
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
    const port: OpenPort = { rx: new ByteQueue(), received: 0, taken: 0, gaps: [], readablePending: false, told: 0, writablePending: false, believed: txBuffer, arrivals: [], readArrived: 0 };
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
    if (got?.length) readUpTo(port, port.taken - 1);
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
    toLine.push(Buffer.from(bytes), port.readArrived);
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
