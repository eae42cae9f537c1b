// The ESP-AT console: assembles command lines from UART bytes, echoes them, runs commands,
// and answers OK, ERROR or `busy p...`. Pure logic: the UART is behind `write`.
import { isInt, parseCommand, type Command, type CommandKind, type Param } from "./parser";
import { bufferOf } from "./bytes";
import { decodeLatin1, encodeLatin1 } from "xsock/latin1";

/**
 * A command's handler: false or a thrown error means ERROR; REPLIED means the handler wrote its
 * own final reply (CIPSEND's SEND OK); anything else means OK.
 */
export const REPLIED = "replied";
type Result = boolean | void | typeof REPLIED;
/** `command` is the line as parsed: its name, kind and parameters. */
export type Handler = (at: AtConsole, params: Param[], command: Command) => Result | Promise<Result>;
/** `textFields`: the set form takes its parameters as text (parseFields), for hex ids and data. */
export type CommandSpec = Partial<Record<CommandKind, Handler>> & { textFields?: boolean };
export type CommandTable = Record<string, CommandSpec>;

/** A command that is 0 or 1: `?` prints it, `=<0|1>` sets it. */
export function onOff(name: string, read: (at: AtConsole) => boolean, write: (at: AtConsole, on: boolean) => void): CommandSpec {
  return {
    query: (at) => at.print(`${name}:${read(at) ? 1 : 0}`),
    set: (at, [on, ...rest]) => {
      if (rest.length || !isInt(on, 0, 1)) return false;
      write(at, on === 1);
    },
  };
}

/** A command line longer than this gets ERROR. */
export const MAX_LINE = 256;

/** The time the console keeps for `+++`: the board gives it Moddable's Timer. */
export interface Clock {
  now(): number;
  /** Calls fn after ms; returns a cancel. */
  after(ms: number, fn: () => void): () => void;
}

const systemClock: Clock = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const g = globalThis as unknown as { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(t: unknown): void };
    const t = g.setTimeout(fn, ms);
    return () => g.clearTimeout(t);
  },
};

/** ESP-AT's error codes (AT+SYSLOG=1 prints `ERR CODE:0x<code>` before ERROR): category 1, a subcategory. */
export const ErrorCode = {
  noTerminator: 0x01020000,
  noAt: 0x01030000,
  lengthMismatch: 0x01040000,
  parseFail: 0x01080000,
  unsupported: 0x01090000,
  execFail: 0x010a0000,
} as const;

/** Unsolicited output held while a payload comes in, past which its producers wait. */
export const HOLD_ROOM = 2048;

/**
 * After a receive overrun the console drops its input until the UART has been quiet this
 * long (the rest of what the host was sending when bytes were lost), then answers.
 */
export const OVERRUN_QUIET_MS = 50;

/** The console's report of a receive overrun (ESP-AT has none), before the ERROR or SEND FAIL it causes. */
export const OVERRUN_URC = "+UART_OVERRUN";

/** `+++` leaves passthrough when it comes alone: this much silence before, between and after. */
export const PLUS_GUARD_MS = 20;

export class AtConsole {
  echo = true;
  /** AT+SYSLOG: an `ERR CODE:` line before each ERROR. */
  syslog = false;
  /** AT+SYSMSGFILTER: what the host gets of each message the console sends (null: none of it); echo is not filtered. */
  outputFilter?: (bytes: Uint8Array) => Uint8Array | null;
  /** The command line so far, one character a byte, up to MAX_LINE + 1. */
  private line = "";
  private overlong = false;
  /** The table's names by their first letter (namesByLetter), made once the table is whole (ready()). */
  private names?: string[];
  private busy = false;
  /**
   * A command is taking raw bytes (CIPSEND): where they go, and how many more. With `escapes`
   * (CIPSENDEX), `\0` ends the data early and a backslash takes the next byte as it is.
   */
  private data?: { buffer: Uint8Array; filled: number; taken: number; escapes?: { pending: boolean }; done: (bytes: Uint8Array) => void; fail: () => void };
  /** Unsolicited lines held while a command takes raw bytes: none lands inside a payload. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  /** Producers of unsolicited output waiting for the held lines to go out. */
  private waiting: (() => void)[] = [];
  /** Passthrough (CIPMODE=1): every byte goes to the link, until `+++`. */
  private passthrough?: { sink(bytes: Uint8Array): void; exit(): void; pluses: number; last: number; cancel?: () => void; overrun?: boolean };
  /** Bytes were lost: input is dropped until the UART goes quiet; `cancel` stops the quiet timer. */
  private overran?: { cancel: () => void };
  /** Another protocol has the UART (SLCAN): every byte goes to it, and the console says nothing. */
  private handedOver?: (bytes: Uint8Array) => void;

  constructor(
    private readonly write: (bytes: Uint8Array) => void,
    private readonly commands: CommandTable,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Sends every byte from the UART to `sink` until `+++` (then `exit` is called). */
  enterPassthrough(sink: (bytes: Uint8Array) => void, exit: () => void): void {
    this.passthrough = { sink, exit, pluses: 0, last: this.clock.now() };
  }

  leavePassthrough(): void {
    const pt = this.passthrough;
    if (!pt) return;
    pt.cancel?.();
    this.passthrough = undefined;
    pt.exit();
    if (pt.overrun) this.print(OVERRUN_URC); // in passthrough a report would land in the link's data
  }

  /**
   * The UART lost input (its receive FIFO overflowed, without flow control) after the bytes
   * input() has had: those stand, and what was under way when the loss came is damaged. In
   * passthrough the loss is reported when it ends. Otherwise the console drops input until
   * the host stops sending, then prints `+UART_OVERRUN` and answers the damaged line `ERROR`
   * (`busy p...` while a command runs), or a CIPSEND payload `SEND FAIL`, sending none of it.
   */
  overrun(): void {
    if (this.handedOver) return; // SLCAN's own commands fail on what was lost: BEL
    if (this.passthrough) {
      this.passthrough.overrun = true;
      return;
    }
    this.overran?.cancel();
    this.overran = { cancel: this.clock.after(OVERRUN_QUIET_MS, () => this.endOverrun()) };
  }

  private endOverrun(): void {
    this.overran = undefined;
    this.line = "";
    this.overlong = false;
    const data = this.data;
    this.data = undefined;
    this.releaseHeld();
    this.print(OVERRUN_URC);
    if (data) data.fail();
    else if (this.busy) this.send("busy p...\r\n");
    else this.error(ErrorCode.noTerminator);
  }

  get inPassthrough(): boolean {
    return this.passthrough !== undefined;
  }

  /** In passthrough, `+++` counts only alone: guard times of silence around it, none inside. */
  private passthroughInput(pt: NonNullable<AtConsole["passthrough"]>, bytes: Uint8Array): void {
    const now = this.clock.now();
    const quiet = now - pt.last >= PLUS_GUARD_MS;
    pt.cancel?.();
    pt.cancel = undefined;
    const allPlus = bytes.every((b) => b === 0x2b);
    if (allPlus && pt.pluses + bytes.length <= 3 && (pt.pluses > 0 ? !quiet : quiet)) {
      pt.pluses += bytes.length;
      pt.last = now;
      if (pt.pluses === 3) pt.cancel = this.clock.after(PLUS_GUARD_MS, () => this.leavePassthrough());
      return;
    }
    if (pt.pluses) pt.sink(Uint8Array.from({ length: pt.pluses }, () => 0x2b));
    pt.pluses = 0;
    pt.last = now;
    pt.sink(bytes);
  }

  /**
   * Gives the UART to another protocol until the board restarts: every byte from now on goes to
   * `input`, and the console's own output (replies, +IPD, Wi-Fi messages) stops. Returns the
   * new owner's way out to the UART.
   */
  handOver(input: (bytes: Uint8Array) => void): (bytes: Uint8Array) => void {
    this.handedOver = input;
    return (bytes) => this.write(bytes);
  }

  /** Gives bytes to the protocol that has the UART, if one has: true when it took them. */
  private passOn(bytes: Uint8Array): boolean {
    const to = this.handedOver;
    if (to && bytes.length) to(bytes);
    return to !== undefined;
  }

  /** Bytes of unsolicited output held back while a payload comes in. */
  get heldOutput(): number {
    return this.heldBytes;
  }

  /** Prints `\r\nready\r\n`, as ESP-AT does at boot; the command table is whole by then. */
  ready(): void {
    this.names ??= namesByLetter(Object.keys(this.commands));
    this.send("\r\nready\r\n");
  }

  /** Prints one line of a reply, ended with CR-LF. */
  print(line: string): void {
    this.send(`${line}\r\n`);
  }

  send(text: string): void {
    if (this.handedOver) return;
    const bytes = this.outputFilter ? this.outputFilter(encodeLatin1(text)) : encodeLatin1(text);
    if (bytes) this.write(bytes);
  }

  /** Output the host did not ask for (+IPD, CLOSED, ...): held while a payload is coming in. */
  unsolicited(message: Uint8Array): void {
    if (this.handedOver) return;
    const bytes = this.outputFilter ? this.outputFilter(message) : message;
    if (!bytes) return;
    if (!this.data) return this.write(bytes);
    this.held.push(bytes);
    this.heldBytes += bytes.length;
  }

  /** Writes the unsolicited output held while a payload came in, and lets its producers go on. */
  private releaseHeld(): void {
    for (const held of this.held.splice(0)) this.write(held);
    this.heldBytes = 0;
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  /**
   * Resolves once fewer than `limit` bytes of unsolicited output are held back: a producer
   * (a link's receive loop) waits here, so a payload coming in slowly cannot pile up output.
   */
  whenRoom(limit = HOLD_ROOM): Promise<void> {
    if (this.heldBytes < limit) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /**
   * Prints the `>` prompt on a line of its own and takes the next `length` raw bytes, with no
   * echo and no parsing. With `escapes` (CIPSENDEX), `\0` ends them early, and `\x` is x.
   * Rejects with an `Overrun` when the UART loses bytes of them.
   */
  receiveData(length: number, escapes = false): Promise<Uint8Array> {
    this.send("\r\n>");
    return new Promise((done, reject) => {
      const fail = () => reject(new Error("Overrun: the UART lost bytes of the payload"));
      this.data = { buffer: new Uint8Array(length), filled: 0, taken: 0, escapes: escapes ? { pending: false } : undefined, done, fail };
    });
  }

  /**
   * `OK`, then the `>` prompt and the next `length` raw bytes (receiveData); undefined when the
   * UART lost bytes of them, for the command to give its own failure reply.
   */
  async payload(length: number, escapes = false): Promise<Uint8Array | undefined> {
    this.ok();
    try {
      return await this.receiveData(length, escapes);
    } catch {
      return undefined;
    }
  }

  /** Takes payload bytes; returns how many of them it used. */
  private takeData(data: NonNullable<AtConsole["data"]>, bytes: Uint8Array): number {
    const room = data.buffer.length - data.taken;
    if (!data.escapes) {
      const n = Math.min(bytes.length, room);
      // A payload that comes in one piece is copied whole (TypedArray's set costs XS two computrons a byte).
      if (n === data.buffer.length) data.buffer = new Uint8Array(bufferOf(bytes.subarray(0, n)));
      else data.buffer.set(bytes.subarray(0, n), data.filled);
      data.filled += n;
      data.taken += n;
      return n;
    }
    const esc = data.escapes;
    let i = 0;
    for (; i < bytes.length && data.taken < data.buffer.length; i++) {
      const byte = bytes[i];
      data.taken++;
      if (esc.pending) {
        esc.pending = false;
        if (byte === 0x30) {
          data.taken = data.buffer.length; // `\0`: the end
          i++;
          break;
        }
        data.buffer[data.filled++] = byte;
      } else if (byte === 0x5c) esc.pending = true;
      else data.buffer[data.filled++] = byte;
    }
    return i;
  }

  /**
   * Takes bytes from the UART. A line ends at LF (a CR before it is dropped), as ESP-AT's
   * lines end in CR-LF. Each line is echoed before it runs, so ATE0 stops the echo after itself.
   */
  input(bytes: Uint8Array): void {
    if (this.passOn(bytes)) return;
    if (this.passthrough) return this.passthroughInput(this.passthrough, bytes);
    if (this.overran) return this.overrun(); // dropped, and the quiet starts again
    const data = this.data;
    if (data) {
      const n = this.takeData(data, bytes);
      if (data.taken < data.buffer.length) return;
      this.data = undefined;
      data.done(data.buffer.subarray(0, data.filled));
      this.releaseHeld();
      // Bytes past the payload, while its command still runs: ESP-AT answers them `busy p...`
      // and drops them (its TCP-IP examples: "the system will reply busy p..., and send the first n bytes").
      if (n < bytes.length) this.send("busy p...\r\n");
      return;
    }
    let echoed = 0;
    // A run up to the next LF at a time: XS meters a loop's every step, a byte's about 30 computrons.
    for (let i = 0; i < bytes.length; ) {
      const lf = bytes.indexOf(0x0a, i);
      const end = lf < 0 ? bytes.length : lf;
      const room = MAX_LINE + 1 - this.line.length;
      if (end - i > room) this.overlong = true;
      if (room > 0 && end > i) this.line += decodeLatin1(bytes.subarray(i, Math.min(end, i + room)));
      if (lf < 0) break;
      i = lf + 1;
      if (this.echo) this.write(bytes.subarray(echoed, i));
      echoed = i;
      if (this.line.endsWith("\r")) this.line = this.line.slice(0, -1);
      if (this.line.length || this.overlong) this.endLine();
      if (this.passOn(bytes.subarray(i))) return; // the command gave the UART away
      // The command took a `>` prompt, or passthrough: what came after its line is its data, as
      // ESP-AT keeps bytes a host sends before the prompt and takes them once it is printed.
      if (i < bytes.length && (this.data || this.passthrough)) return this.input(bytes.subarray(i));
    }
    if (this.echo && echoed < bytes.length) this.write(bytes.subarray(echoed));
  }

  private endLine(): void {
    const text = this.line;
    const overlong = this.overlong || this.line.length > MAX_LINE;
    this.line = "";
    this.overlong = false;
    if (this.busy) {
      this.send("busy p...\r\n");
      return;
    }
    if (overlong) {
      this.error(ErrorCode.lengthMismatch);
      return;
    }
    this.run(text);
  }

  private run(text: string): void {
    let spec: CommandSpec | undefined;
    const command = parseCommand(text, (name) => (spec = this.entry(name))?.textFields === true);
    if (!command) return this.error(/^AT/.test(text) ? ErrorCode.parseFail : ErrorCode.noAt);
    if (command.kind !== "set") spec = this.entry(command.name); // parseCommand asks for a set's alone
    const handler = spec?.[command.kind];
    if (!handler) return this.error(ErrorCode.unsupported);
    let result: ReturnType<Handler>;
    try {
      result = handler(this, command.params, command);
    } catch {
      this.error();
      return;
    }
    if (result instanceof Promise) {
      this.busy = true;
      result.then(
        (ok) => this.finish(ok),
        () => this.finish(false),
      );
    } else this.finish(result);
  }

  /**
   * A command's entry, looked up only once the name is known: XS keeps every string used as a
   * property name for good (fxAt makes it a key), so a host's unknown names, or line noise, would
   * fill the heap a name at a time until `memory full`.
   */
  private entry(name: string): CommandSpec | undefined {
    this.names ??= namesByLetter(Object.keys(this.commands));
    return this.names[letterOf(name)].includes(`|${name}|`) ? this.commands[name] : undefined;
  }

  private finish(result: Result): void {
    this.busy = false;
    if (result === false) this.error();
    else if (result !== REPLIED) this.ok();
  }

  ok(): void {
    this.send("\r\nOK\r\n");
  }

  error(code: number = ErrorCode.execFail): void {
    if (this.syslog) this.send(`ERR CODE:0x${code.toString(16).padStart(8, "0")}\r\n`);
    this.send("\r\nERROR\r\n");
  }
}

/** 1 to 26 for a name's first letter after any `+` (A to Z), else 0. */
function letterOf(name: string): number {
  const c = name.charCodeAt(name.charCodeAt(0) === 0x2b ? 1 : 0);
  return c >= 0x41 && c <= 0x5a ? c - 0x40 : 0;
}

/**
 * The names in 27 strings, `|+GMR|+GSLP|` and so on, by letterOf: a lookup searches one of them,
 * as a search costs XS a computron for each character that matches.
 */
function namesByLetter(names: string[]): string[] {
  const byLetter: string[] = new Array<string>(27).fill("|");
  for (const name of names) byLetter[letterOf(name)] += `${name}|`;
  return byLetter;
}

// One character a byte, as the console speaks 8-bit ASCII: its commands' modules take them from here.
export { decodeLatin1, encodeLatin1 };
