// Runs inside XS. The one path between the firmware's platform modules and the simulator:
// calls go out with xsnap's synchronous issueCommand, events come in through handleCommand.
import { decode, encode } from "./codec";
export { preloading } from "./preload";

type Global = typeof globalThis & Record<string, unknown>;
const global = globalThis as Global;
const issueCommand = global.issueCommand as (message: ArrayBuffer) => ArrayBuffer;
const collectGarbage = global.gc as () => void;

// xsnap builds XS without two of the board's built-ins (it is CESU-8): put them back.
if (!("fromArrayBuffer" in String)) {
  const decoder = new (global.TextDecoder as new () => { decode(bytes: Uint8Array): string })();
  Object.defineProperty(String, "fromArrayBuffer", { value: (buffer: ArrayBuffer) => decoder.decode(new Uint8Array(buffer)), writable: true, configurable: true });
}
if (!("fromString" in ArrayBuffer)) {
  const encoder = new (global.TextEncoder as new () => { encode(text: string): Uint8Array })();
  Object.defineProperty(ArrayBuffer, "fromString", { value: (text: string) => toArrayBuffer(encoder.encode(text)), writable: true, configurable: true });
}

// The firmware sees Moddable's globals only: xsnap's own helpers are removed.
for (const name of ["issueCommand", "print", "setImmediate", "gc", "currentMeterLimit", "resetMeter", "performance"])
  delete global[name];

function bytes(value: unknown): ArrayBuffer {
  const u8 = encode(value);
  return u8.buffer as ArrayBuffer;
}

/** An error raised by the simulator on the firmware's behalf, as the board's platform raises it. */
export class HostError extends Error {
  constructor(message: string, readonly errno?: number, readonly code?: string) {
    super(message);
  }
}

/**
 * Commands that need no answer, in order, each as two items, its op and its arguments: they go
 * with the next call, or when the delivery ends.
 */
let outbox: unknown[] = [];

/** Tells the simulator something that needs no answer (a write, a close, a timer), without a round trip. */
export function tell(op: string, ...args: unknown[]): void {
  outbox.push(op, args); // not [op, ...args]: XS counts a spread as an iterator's calls
}

/** Calls the simulator; returns its answer or throws its error. What tell() queued goes first. */
export function host<T = unknown>(op: string, ...args: unknown[]): T {
  const told = outbox;
  outbox = [];
  const answer = decode(new Uint8Array(issueCommand(bytes([told, op, args])))) as [boolean, unknown];
  if (answer[0]) return answer[1] as T;
  const e = answer[1] as { message: string; errno?: number; code?: string };
  throw new HostError(e.message, e.errno, e.code);
}

/** Copies bytes into a fresh ArrayBuffer, the form Moddable's read() returns. */
export function toArrayBuffer(u8: Uint8Array): ArrayBuffer {
  return (u8.buffer as ArrayBuffer).slice(u8.byteOffset, u8.byteOffset + u8.byteLength) as ArrayBuffer;
}

/** Views any ECMA-419 Buffer (or a single byte) as bytes. */
export function toBytes(value: number | ArrayBufferLike | ArrayBufferView): Uint8Array {
  if (typeof value === "number") return Uint8Array.of(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value);
}

export type ByteFormat = "number" | "buffer";

export function checkFormat(value: ByteFormat): ByteFormat {
  if (value !== "number" && value !== "buffer") throw new RangeError("invalid format");
  return value;
}

/**
 * ECMA-419 read() of a byte stream, through the simulator's `op`: into a buffer (returns
 * the count), one byte (format "number"), or an ArrayBuffer of up to `what` bytes.
 */
export function readStream(op: string, id: number, format: ByteFormat, what?: number | ArrayBufferLike | ArrayBufferView): number | ArrayBuffer | undefined {
  if (typeof what === "object") {
    const into = toBytes(what);
    const got = host<Uint8Array | null>(op, id, into.length);
    if (got) into.set(got);
    return got ? got.length : 0;
  }
  const got = host<Uint8Array | null>(op, id, format === "number" ? 1 : (what ?? 0x7fffffff));
  if (!got) return undefined;
  return format === "number" ? got[0] : toArrayBuffer(got);
}

/** Writes are joined while the joined bytes stay under this: short replies, not bulk data. */
const JOIN_BELOW = 4096;

/**
 * ECMA-419 write() of a byte stream: no more than the `space` the last writable event gave,
 * sent without a round trip. Returns the space left.
 */
export function writeStream(op: string, id: number, value: number | ArrayBufferLike | ArrayBufferView, space: number): number {
  const bytes = value instanceof Uint8Array ? value : toBytes(value);
  if (bytes.length > space) throw new HostError(`write of ${bytes.length} bytes overflows the buffer (${space} free)`, 11, "EAGAIN");
  // Writes to the same stream in one delivery join the last one told: the outbox lives in the
  // board's XS heap until the delivery ends, and on the chip the bytes are in the driver's FIFO,
  // not the heap (a burst of 200 replies was 200 entries, enough for memory full).
  const n = outbox.length;
  const last = n >= 2 && outbox[n - 2] === op ? (outbox[n - 1] as [number, Uint8Array]) : undefined;
  if (last && last[0] === id && last[1].length + bytes.length <= JOIN_BELOW) {
    const joined = new Uint8Array(last[1].length + bytes.length);
    joined.set(last[1]);
    joined.set(bytes, last[1].length);
    last[1] = joined;
  } else tell(op, id, new Uint8Array(toArrayBuffer(bytes))); // a copy, as the chip's driver takes one; ArrayBuffer's slice is XS's cheapest
  return space - bytes.length;
}

// The board's clock, as the ESP32's system time: it starts at 0 (1970) when the board first
// powers on, and keeps going through a restart (the RTC). Date reads it; Moddable's
// `time` module sets it (Time.set). The simulator holds its offset from the host's clock.
const HostDate = Date;
const hostNow = HostDate.now;
let clockOffset: number | undefined;
let bootedAt = hostNow();
/** ms since this boot, as modMilliseconds(): a clock that Time.set does not move. */
export const uptime = (): number => hostNow() - bootedAt;

/** The board boots: its clocks start now, not when the machine it starts from was snapshotted. */
export function booting(): void {
  bootedAt = hostNow();
  clockOffset = undefined;
}
const boardNow = () => hostNow() + (clockOffset ??= host<number>("clock.get"));

/** Sets the board's clock to `seconds` since 1970, as ESP-IDF's settimeofday does. */
export function setBoardTime(seconds: number): void {
  clockOffset = seconds * 1000 - hostNow();
  tell("clock.set", clockOffset);
}

HostDate.now = boardNow;
global.Date = new Proxy(HostDate, {
  construct: (target, args, newTarget) => Reflect.construct(target, args.length ? args : [boardNow()], newTarget) as object,
  apply: () => new HostDate(boardNow()).toString(),
});

type EventHandler = (...args: unknown[]) => void;
/** TCP's static that wraps a connection a Listener accepted: a symbol, so TCP shows no such static or export. */
export const ACCEPTED = Symbol("accepted");
/** A host object's proxy takes its events in this method: no closure per object. */
export const EVENT = Symbol("event");
export type EventTarget = { [EVENT](...args: unknown[]): void };
/** Ids are unique across kinds; id 0 is the boot sequence's, found by kind. */
// An ordinary object, not a Map: the worker shares the preloaded machine with the board's (as the
// chip's flash), and XS aliases an ordinary object in the board's heap when it changes, while a
// preloaded Map would change in place, out of the board's collections' reach.
const handlers: Record<string | number, EventHandler | EventTarget | undefined> = Object.create(null) as Record<string | number, EventHandler | EventTarget | undefined>;
let lastId = 0;

/** A fresh id for a host object (timer, socket, ...). */
export function newId(): number {
  return ++lastId;
}

export function on(kind: string, id: number, handler: EventHandler | EventTarget): void {
  handlers[id || kind] = handler;
}

export function off(kind: string, id: number): void {
  delete handlers[id || kind];
}

/** Reports an exception nobody caught; the simulator logs it with its stack and stops. */
export function fatal(kind: string, e: unknown): void {
  const err = e as { message?: unknown; stack?: unknown };
  const message = e instanceof Error ? `${e.name}: ${String(err.message)}` : String(e);
  host("fatal", kind, message, typeof err?.stack === "string" ? err.stack : "");
}

/**
 * The delivery's reply carries what tell() queued during it. xsnap reads the reply's `result`
 * once the delivery's promise jobs have run, so a getter sees all of them.
 */
const reply = {
  get result(): ArrayBuffer | undefined {
    const told = outbox;
    outbox = [];
    return told.length ? bytes(told) : undefined;
  },
};

global.handleCommand = (message: ArrayBuffer): typeof reply => {
  // [collect, kind, id, ...up to two arguments], read by index: XS counts destructuring and
  // spread as an iterator's calls.
  const event = decode(new Uint8Array(message)) as [number, string, number, unknown?, unknown?];
  // The simulator has XS collect when the heap is past the board's room, as XS does on the chip.
  if (event[0]) collectGarbage();
  try {
    const handler = handlers[event[2] || event[1]];
    if (typeof handler === "function") handler(event[3], event[4]);
    else handler?.[EVENT](event[3], event[4]);
  } catch (e) {
    fatal("uncaught exception", e);
  }
  return reply;
};

// XS reports an unhandled rejection through console.error.
global.console = {
  error: (_what: unknown, reason: unknown) => fatal("unhandled rejection", reason),
};

function traceText(parts: unknown[]): string {
  return parts.map((p) => (typeof p === "string" ? p : String(p))).join("");
}
const trace = (...parts: unknown[]) => tell("trace", traceText(parts));
trace.left = trace.center = trace.right = (log: unknown) => tell("trace", traceText([log]));
global.trace = trace;
