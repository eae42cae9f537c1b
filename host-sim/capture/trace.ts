// What `xsock sim --trace FILE` records: a timeline in the Chrome trace event format (a JSON
// array of events), which ui.perfetto.dev and chrome://tracing open. It is written as it goes
// (append-file.ts) with no closing bracket until the run ends: both readers take an array
// that a killed run left open. docs/simulator.md describes the tracks.
import type { BusFrame } from "../devices/can-bus.ts";
import { AppendFile } from "./append-file.ts";
import { nowMicros } from "./pcapng.ts";

/** One process, the board; a track (a thread id) for each thing the trace follows. */
export const PID = 1;
export const TRACK = { AT: 1, UART: 2, XS: 3, WIFI: 4, ETHERNET: 5, CAN: 6, CAN_CONTROLLER: 7, EVENTS: 8 } as const;
const TRACK_NAMES: Record<number, string> = {
  [TRACK.AT]: "AT commands",
  [TRACK.UART]: "UART",
  [TRACK.XS]: "XS deliveries",
  [TRACK.WIFI]: "Wi-Fi",
  [TRACK.ETHERNET]: "Ethernet",
  [TRACK.CAN]: "CAN bus",
  [TRACK.CAN_CONTROLLER]: "CAN controller",
  [TRACK.EVENTS]: "faults and events",
};
/** Sockets' tracks are numbered from here, one a socket in the order they open. */
const FIRST_SOCKET_TRACK = 100;

/** Counters are summed over this long: the UART's bytes, and the sockets' bytes so far. */
export const COUNTER_MS = 10;

/** An event of the Chrome trace event format: B/E begin and end a slice, C is a counter, i an instant, M names a track. */
export interface TraceEvent {
  ph: "B" | "E" | "C" | "i" | "M";
  name: string;
  ts: number;
  pid: number;
  tid: number;
  s?: "t";
  args?: Record<string, unknown>;
}

interface Socket {
  track: number;
  name: string;
  in: number;
  out: number;
}

export class Trace {
  readonly #file: AppendFile;
  #first = true;
  /** Events of this turn, appended to the file as one write. */
  #text = "";
  /** The slices open on each track, innermost last: closed at the end so every B has its E. */
  readonly #open = new Map<number, string[]>();
  readonly #sockets = new Map<number, Socket>();
  #nextSocketTrack = FIRST_SOCKET_TRACK;
  /** UART bytes in and out in the current COUNTER_MS, and the sockets whose counts changed. */
  #uartIn = 0;
  #uartOut = 0;
  readonly #changed = new Set<Socket>();
  /** Runs while there are bytes to count; the tick after the last writes zeros, so the counters fall back. */
  #tick?: NodeJS.Timeout;
  /** When the UART's current count began: its counter sample is stamped there, and holds for the 10 ms it counts. */
  #countFrom = 0;
  readonly #at = new AtCommands(this);

  constructor(path: string, board: string) {
    this.#file = new AppendFile(path, Buffer.from("[\n"));
    this.#event({ ph: "M", name: "process_name", ts: 0, pid: PID, tid: 0, args: { name: `xsock sim: ${board}` } });
    for (const [tid, name] of Object.entries(TRACK_NAMES)) this.#name(Number(tid), name);
  }

  get path(): string {
    return this.#file.path;
  }

  #name(tid: number, name: string): void {
    this.#event({ ph: "M", name: "thread_name", ts: 0, pid: PID, tid, args: { name } });
  }

  #event(event: TraceEvent): void {
    if (this.#file.closed) return;
    if (!this.#text) queueMicrotask(() => this.#flush());
    this.#text += (this.#first ? "" : ",\n") + JSON.stringify(event);
    this.#first = false;
  }

  #flush(): void {
    if (!this.#text) return;
    this.#file.append(Buffer.from(this.#text));
    this.#text = "";
  }

  begin(tid: number, name: string, args?: Record<string, unknown>, ts = nowMicros()): void {
    const open = this.#open.get(tid) ?? this.#open.set(tid, []).get(tid)!;
    open.push(name);
    this.#event({ ph: "B", name, ts, pid: PID, tid, ...(args && { args }) });
  }

  /** Ends the innermost slice open on `tid`, if there is one. */
  end(tid: number, args?: Record<string, unknown>, ts = nowMicros()): void {
    const name = this.#open.get(tid)?.pop();
    if (name !== undefined) this.#event({ ph: "E", name, ts, pid: PID, tid, ...(args && { args }) });
  }

  /** A state track: the slice of the state before ends where the next begins. */
  state(tid: number, state: string, args?: Record<string, unknown>): void {
    const ts = nowMicros();
    this.end(tid, undefined, ts);
    this.begin(tid, state, args, ts);
  }

  instant(tid: number, name: string, args?: Record<string, unknown>): void {
    this.#event({ ph: "i", name, ts: nowMicros(), pid: PID, tid, s: "t", ...(args && { args }) });
  }

  counter(tid: number, name: string, args: Record<string, number>, ts = nowMicros()): void {
    this.#event({ ph: "C", name, ts, pid: PID, tid, args });
  }

  /** Bytes on the console UART: counted, and read for the AT commands in them. */
  uart(toBoard: boolean, bytes: Uint8Array): void {
    if (toBoard) this.#uartIn += bytes.length;
    else this.#uartOut += bytes.length;
    this.#startTicking();
    if (toBoard) this.#at.input(bytes);
    else this.#at.output(bytes);
  }

  #startTicking(): void {
    if (this.#tick) return;
    this.#countFrom = nowMicros();
    this.#tick = setInterval(() => this.#count(), COUNTER_MS);
    this.#tick.unref();
  }

  /** Each tick: the UART's bytes in the last COUNTER_MS, and the changed sockets' totals. */
  #count(): void {
    const ts = nowMicros();
    this.counter(TRACK.UART, "UART bytes per 10 ms", { in: this.#uartIn, out: this.#uartOut }, this.#countFrom);
    this.#countFrom = ts;
    this.#at.settle(ts);
    const idle = !this.#uartIn && !this.#uartOut && !this.#changed.size && !this.#at.waiting;
    this.#uartIn = this.#uartOut = 0;
    for (const socket of this.#changed) this.counter(socket.track, `${socket.name} bytes`, { in: socket.in, out: socket.out }, ts);
    this.#changed.clear();
    if (idle) {
      clearInterval(this.#tick);
      this.#tick = undefined;
    }
  }

  /** A board socket opened: its own track, from here to socketClosed. */
  socketOpened(id: number, name: string): void {
    const socket = { track: this.#nextSocketTrack++, name: `socket ${id}`, in: 0, out: 0 };
    this.#sockets.set(id, socket);
    this.#name(socket.track, `socket ${id}: ${name}`);
    this.begin(socket.track, name);
    this.counter(socket.track, `${socket.name} bytes`, { in: 0, out: 0 });
  }

  /** Bytes the board's socket `id` took in or sent out. */
  socketBytes(id: number, fromBoard: boolean, n: number): void {
    const socket = this.#sockets.get(id);
    if (!socket) return;
    if (fromBoard) socket.out += n;
    else socket.in += n;
    this.#changed.add(socket);
    this.#startTicking();
  }

  socketClosed(id: number, why?: string): void {
    const socket = this.#sockets.get(id);
    if (!socket) return;
    this.#sockets.delete(id);
    this.#changed.delete(socket);
    this.counter(socket.track, `${socket.name} bytes`, { in: socket.in, out: socket.out });
    this.end(socket.track, { in: socket.in, out: socket.out, ...(why && { why }) });
  }

  /** One delivery into XS: the heap after it and what it cost. */
  delivery(computrons: number, slots: number): void {
    const ts = nowMicros();
    this.counter(TRACK.XS, "XS heap (slots)", { slots }, ts);
    this.counter(TRACK.XS, "computrons per delivery", { computrons }, ts);
  }

  /** A frame on the CAN bus. */
  canFrame(frame: BusFrame): void {
    const id = frame.arbitration_id.toString(16).padStart(frame.is_extended_id ? 8 : 3, "0");
    const name = frame.is_error_frame ? "error frame" : `0x${id}${frame.is_remote_frame ? " RTR" : ""}`;
    this.instant(TRACK.CAN, name, { id: frame.arbitration_id, extended: frame.is_extended_id, fd: frame.is_fd, dlc: frame.dlc, data: Buffer.from(frame.data).toString("hex") });
  }

  /** Writes the last counters, ends the slices still open, and closes the array. */
  async close(): Promise<void> {
    if (this.#file.closed) return;
    if (this.#tick) this.#count();
    clearInterval(this.#tick);
    this.#tick = undefined;
    this.#at.endPending();
    const ts = nowMicros();
    for (const [tid, open] of this.#open) while (open.length) this.end(tid, undefined, ts);
    this.#flush();
    await this.#file.close(Buffer.from("\n]\n"));
  }
}

/** ESP-AT's final replies: a command's slice ends at one. */
const FINAL = /^(OK|ERROR|SEND OK|SEND FAIL|SET OK|\+CME ERROR:.*|\+MQTTPUB:(OK|FAIL))$/;
const PLUS = 0x2b;
/** A command's name: AT, ATE0 or ATE1, or AT+ and its letters, before any =, ? or parameters. */
const COMMAND = /^AT(\+[A-Z0-9_]+|E[01])?/i;

/**
 * Follows the console's AT commands from the UART's bytes: each from its line to its final
 * reply. A command whose OK is followed by the data prompt (">", as AT+CIPSEND's) goes on
 * until the reply to its data (SEND OK); in passthrough (AT+CIPSEND with no length) its slice
 * ends at the prompt and a "passthrough" slice goes on until "+++". An OK the UART does not
 * follow with the prompt within a tick (COUNTER_MS) ends its command, at the OK's time.
 */
class AtCommands {
  #line = "";
  #reply = "";
  /** The command's OK came: it ends there unless the prompt follows. */
  #okAt?: number;
  #lastOutput = 0;
  #command?: string;
  /** AT+CIPSEND with no length: passthrough follows its prompt. */
  #passthrough = false;
  /** The run of "+" bytes in passthrough: "+++" alone ends it. */
  #pluses = 0;
  /** The board takes data (after ">"), not commands: its bytes are not read for lines. */
  #data: "none" | "counted" | "passthrough" = "none";

  constructor(private readonly trace: Trace) {}

  input(bytes: Uint8Array): void {
    // Data is not read for lines: passthrough's only for "+++".
    if (this.#data === "passthrough") {
      this.#pluses = bytes.length <= 3 && bytes.every((b) => b === PLUS) ? this.#pluses + bytes.length : 0;
      if (this.#pluses === 3) {
        this.#data = "none";
        this.#pluses = 0;
        this.trace.end(TRACK.AT);
      }
      return;
    }
    if (this.#data === "counted") return;
    this.#line += Buffer.from(bytes).toString("latin1");
    let at: number;
    while ((at = this.#line.indexOf("\n")) >= 0) {
      const line = this.#line.slice(0, at).replace(/\r$/, "");
      this.#line = this.#line.slice(at + 1);
      this.#commandLine(line);
      if (this.#data !== "none") {
        this.#line = "";
        return;
      }
    }
    // A line with no end that long is not a command (ESP-AT's buffer is smaller).
    if (this.#line.length > 4096) this.#line = "";
  }

  #commandLine(line: string): void {
    const name = COMMAND.exec(line)?.[0]?.toUpperCase();
    if (!name) return;
    this.endPending();
    if (this.#command) this.trace.end(TRACK.AT, { reply: "none" });
    this.#command = name;
    this.#passthrough = line.toUpperCase() === "AT+CIPSEND";
    this.trace.begin(TRACK.AT, name, { line: line.length > 200 ? `${line.slice(0, 200)}...` : line });
  }

  /** An OK that may yet be followed by the prompt. */
  get waiting(): boolean {
    return this.#okAt !== undefined;
  }

  /** The UART has said nothing for a tick since the OK: no prompt follows, the command ended at its OK. */
  settle(now: number): void {
    if (now - this.#lastOutput >= COUNTER_MS * 1000) this.endPending();
  }

  /** The OK before no prompt: the command ended there. */
  endPending(): void {
    if (this.#okAt === undefined) return;
    this.trace.end(TRACK.AT, { reply: "OK" }, this.#okAt);
    this.#okAt = undefined;
    this.#command = undefined;
  }

  output(bytes: Uint8Array): void {
    this.#lastOutput = nowMicros();
    // With no command under way the output (+IPD, passthrough's data) is not read.
    if (!this.#command) {
      this.#reply = "";
      return;
    }
    this.#reply += Buffer.from(bytes).toString("latin1");
    let at: number;
    while ((at = this.#reply.indexOf("\n")) >= 0) {
      const line = this.#reply.slice(0, at).replace(/\r$/, "");
      this.#reply = this.#reply.slice(at + 1);
      if (line) this.#replyLine(line);
    }
    if (this.#reply === ">" && this.#okAt !== undefined) {
      this.#reply = "";
      this.#okAt = undefined;
      if (this.#passthrough) {
        // No length given: passthrough, until "+++".
        this.trace.end(TRACK.AT, { reply: "OK" });
        this.#command = undefined;
        this.#data = "passthrough";
        this.trace.begin(TRACK.AT, "passthrough");
      } else this.#data = "counted";
    } else if (this.#reply.length > 4096) this.#reply = "";
  }

  #replyLine(line: string): void {
    this.endPending();
    if (!this.#command || !FINAL.test(line)) return;
    if (line === "OK" && this.#data === "none") {
      this.#okAt = nowMicros();
      return;
    }
    this.#data = "none";
    this.#command = undefined;
    this.trace.end(TRACK.AT, { reply: line });
  }
}
