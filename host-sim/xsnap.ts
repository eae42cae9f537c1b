// Drives an xsnap-worker (Moddable XS, built by @agoric/xsnap) over its netstring pipes:
// fd 3 carries commands to XS, fd 4 carries replies and issueCommand queries from XS.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { PACKAGE_ROOT } from "./package-root.ts";
import { layout } from "./xs/codec.ts";

/** What XS reports after each delivery. */
export interface Meter {
  /** Computrons spent on the delivery. */
  compute: number;
  /** Heap slots in use afterwards. */
  currentHeapCount: number;
  /** Bytes XS has reserved for chunks and slots. */
  allocate: number;
}

export interface Delivery {
  reply: Uint8Array;
  meter: Meter;
}

/**
 * Answers an `issueCommand` from the firmware. XS waits for the answer, so an
 * asynchronous one (a listen, a bind) still looks synchronous to the firmware. It returns the
 * answer's value, or a promise of it; the value goes to XS as codec's encode() lays it out.
 */
export type QueryHandler = (message: Uint8Array) => unknown;

/** The room XS's heap has beyond what is live, once fixed. */
export interface HeapRoom {
  slots: number;
  chunkBytes: number;
  /** What was live when the heap was fixed: the bridge and the preloaded modules. */
  liveSlots: number;
  liveChunkBytes: number;
  /** The preload is shared as the chip's flash: the board's collections skip it (xsock-worker.c). */
  shared: boolean;
}

/**
 * xsock's own worker (host-sim/worker), built at npm install: it creates each machine small and
 * growing, until fixHeap() gives it the board's room. Undefined when it could not be built.
 */
export function boardWorkerPath(): string | undefined {
  const dir = join(PACKAGE_ROOT, "host-sim/worker");
  const bin = join(dir, "build/xsock-worker");
  if (!existsSync(bin)) return undefined;
  // As host-sim/worker/build.js decides: a checkout's pull can bring a source the old worker does not match.
  const built = statSync(bin).mtimeMs;
  if (["xsock-worker.c", "build.js"].some((f) => statSync(join(dir, f)).mtimeMs > built))
    throw new Error("xsock's XS worker is older than its source (host-sim/worker/xsock-worker.c): run `npm install` to build it again");
  return bin;
}

export function xsnapWorkerPath(): string {
  const pkg = createRequire(import.meta.url).resolve("@agoric/xsnap/package.json");
  const bin = join(dirname(pkg), "xsnap-native/xsnap/build/bin/lin/release/xsnap-worker");
  if (!existsSync(bin)) {
    // @agoric/xsnap's makefile cannot take a path with a space: its install fails there.
    const space = pkg.includes(" ") ? `; it cannot be built under a path with a space (${dirname(pkg)}): move the project` : "";
    throw new Error(
      "the XS engine is not built: run `npm rebuild @agoric/xsnap` " +
        `(it needs make and a C compiler, and npm must allow its install script: npm install-scripts approve @agoric/xsnap)${space}`,
    );
  }
  return bin;
}

/** Splits a byte stream into netstrings (`<len>:<bytes>,`). */
export class NetstringReader {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly onMessage: (message: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const colon = this.pending.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.pending.subarray(0, colon).toString("latin1"));
      if (!Number.isSafeInteger(length) || length < 0) throw new Error("xsnap: bad netstring length");
      const end = colon + 1 + length;
      if (this.pending.length <= end) return;
      if (this.pending[end] !== 0x2c) throw new Error("xsnap: netstring without its comma");
      const message = this.pending.subarray(colon + 1, end);
      this.pending = this.pending.subarray(end + 1);
      this.onMessage(message);
    }
  }
}

/** One netstring of the parts, built in one buffer: a delivery's bytes are copied once. */
export function netstring(...parts: Uint8Array[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  const head = `${length}:`;
  const out = Buffer.allocUnsafe(head.length + length + 1);
  let at = out.write(head, 0, "latin1");
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  out[at] = 0x2c; // ,
  return out;
}

/**
 * One netstring of `kind` and the value as codec's encode() lays it out, built in one buffer:
 * the same bytes as netstring(kind, encode(value)), without encode's buffer to copy from.
 */
export function netstringOf(kind: number, value: unknown): Buffer {
  const { header, json, parts } = layout(value);
  const jsonLength = Buffer.byteLength(json);
  let length = 5 + jsonLength;
  for (const part of parts) length += part.length;
  const head = `${length}:`;
  const out = Buffer.allocUnsafe(head.length + length + 1);
  let at = out.write(head, 0, "latin1");
  out[at] = kind;
  at = out.writeUInt32LE((jsonLength | header) >>> 0, at + 1);
  at += out.write(json, at);
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  out[at] = 0x2c; // ,
  return out;
}

const DELIVER = Buffer.from("?");

interface Pending {
  /** Makes the netstring when its turn comes. */
  command?: () => Buffer;
  /** Or gives the value of an event, for handleCommand, when its turn comes. */
  event?: () => unknown;
  /** A delivery to handleCommand, whose reply goes to onReply too. */
  delivery: boolean;
  resolve(d: Delivery): void;
  reject(e: Error): void;
}

/**
 * One XS machine in a child process. Deliveries are serialized: XS runs one at a
 * time, and each runs until its promise jobs are done.
 */
export class XsnapWorker {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  private readonly toXs: Writable;
  /** Commands waiting for their turn, oldest first. */
  private readonly queue: Pending[] = [];
  /** The command XS is running: the next goes in when its reply is in. */
  private running: Pending | undefined;
  /** The machine has the board's heap once fixHeap() is done (xsock's worker); else the simulator counts. */
  readonly boardSized: boolean;

  /**
   * @param onQuery answers the firmware's issueCommand calls
   * @param onReply takes each delivery's reply (handleCommand's) as it arrives, before the next delivery goes in
   * @param stack the machine's stack in slots (the board's), with xsock's worker
   * @param snapshot a snapshot file (writeSnapshot's) the machine starts from, instead of empty
   */
  constructor(
    name: string,
    private readonly onQuery: QueryHandler,
    private readonly onReply: (reply: Uint8Array) => void = () => {},
    stack?: number,
    snapshot?: string,
  ) {
    const board = stack === undefined ? undefined : boardWorkerPath();
    this.boardSized = board !== undefined;
    // -l 0: no per-delivery computron limit; firmware runs as long as it needs.
    const args = [name, "-l", "0", "-i", "10000000", ...(snapshot === undefined ? [] : ["-r", snapshot])];
    this.process = spawn(board ?? xsnapWorkerPath(), args, {
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      env: board ? { ...process.env, XSOCK_XS_STACK: String(stack) } : process.env,
    });
    const stdio = this.process.stdio as unknown as [null, Readable, Readable, Writable, Readable];
    this.toXs = stdio[3];
    this.toXs.on("error", () => {});
    const reader = new NetstringReader((m) => this.onMessage(m));
    stdio[4].on("data", (chunk: Buffer) => reader.push(chunk));
    this.exited = new Promise((resolve) => {
      this.process.once("exit", (code, signal) => {
        const why = new Error(`XS worker exited (${signal ?? `code ${code}`})`);
        const failed = this.running ? [this.running, ...this.queue.splice(0)] : this.queue.splice(0);
        this.running = undefined;
        resolve(code);
        // After those who wait for the exit have heard why (a stack overflow, memory full).
        queueMicrotask(() => {
          for (const p of failed) p.reject(why);
        });
      });
    });
  }

  /** stdout and stderr of the worker (XS `print` and its own reports). */
  get output(): [Readable, Readable] {
    const stdio = this.process.stdio as unknown as [null, Readable, Readable];
    return [stdio[1], stdio[2]];
  }

  /** Evaluates a script at global scope. */
  evaluate(code: string): Promise<Delivery> {
    return this.send(() => netstring(Buffer.from(`e${code}`)));
  }

  /** Runs a script file at global scope; XS stacks then name its lines. */
  execute(path: string): Promise<Delivery> {
    return this.send(() => netstring(Buffer.from(`s${path}`)));
  }

  /**
   * Calls the firmware's global `handleCommand` with the message. A function is called for the
   * message when its turn comes, so what it says is current when XS reads it.
   */
  deliver(message: Uint8Array | (() => Uint8Array)): Promise<Delivery> {
    return this.send(() => netstring(DELIVER, typeof message === "function" ? message() : message), true);
  }

  /**
   * deliver() without a promise: `done` or `failed` is called as the reply comes in, before the
   * next command goes to XS. The simulator's events take this way, one per delivery, so a
   * round trip costs no promise jobs.
   */
  post(message: () => unknown, done: (d: Delivery) => void, failed: (e: Error) => void): void {
    this.enqueue({ event: message, delivery: true, resolve: done, reject: failed });
  }

  /**
   * Gives the heap this much room beyond what is live now, after a collection, and stops it
   * growing: past it, XS aborts with "memory full", as on the board. xsock's worker only.
   */
  async fixHeap(slots: number, chunkBytes: number): Promise<HeapRoom> {
    const { reply } = await this.evaluate(
      `new TextEncoder().encode(JSON.stringify(xsockFixHeap(${Math.floor(slots)}, ${Math.floor(chunkBytes)}))).buffer`,
    );
    let figures = JSON.parse(Buffer.from(reply).toString()) as number[];
    // The worker shares the preload and clones the board's machine before its next command.
    const shared = figures.length === 0;
    if (shared)
      figures = JSON.parse(Buffer.from((await this.evaluate(`new TextEncoder().encode(JSON.stringify(xsockHeapFigures())).buffer`)).reply).toString()) as number[];
    const [roomSlots, roomChunks, liveSlots, liveChunkBytes] = figures;
    return { slots: roomSlots, chunkBytes: roomChunks, liveSlots, liveChunkBytes, shared };
  }

  /** Writes the machine, after a collection, to a file that another worker can start from. */
  async writeSnapshot(path: string): Promise<void> {
    await this.send(() => netstring(Buffer.from(`w${path}`)));
  }

  /** close() was called: the machine's end, and its deliveries' failures, are expected. */
  closed = false;

  close(): void {
    this.closed = true;
    this.toXs.end();
    setTimeout(() => this.process.kill("SIGKILL"), 1000).unref();
  }

  /** `command` makes the netstring when its turn comes. */
  private send(command: () => Buffer, delivery = false): Promise<Delivery> {
    return new Promise<Delivery>((resolve, reject) => this.enqueue({ command, delivery, resolve, reject }));
  }

  private enqueue(pending: Pending): void {
    this.queue.push(pending);
    if (!this.running) this.next();
  }

  /** Writes the oldest waiting command, unless XS is running one. */
  private next(): void {
    while (!this.running && this.queue.length) {
      const pending = this.queue.shift()!;
      if (this.process.exitCode !== null || this.process.signalCode !== null) {
        pending.reject(new Error("XS worker is not running"));
        continue;
      }
      let command: Buffer;
      try {
        command = pending.event ? netstringOf(0x3f /* ? */, pending.event()) : pending.command!();
      } catch (e) {
        pending.reject(e as Error);
        continue;
      }
      this.running = pending;
      this.toXs.write(command);
    }
  }

  private onMessage(message: Buffer): void {
    const kind = message[0];
    if (kind === 0x3f /* ? */) {
      const answer = this.onQuery(message.subarray(1));
      if (answer instanceof Promise) void answer.then((a) => this.toXs.write(netstringOf(0x2f /* / */, a)));
      else this.toXs.write(netstringOf(0x2f /* / */, answer));
      return;
    }
    const pending = this.running;
    if (!pending) return;
    // Still running while its reply is handled: what that posts waits behind what waited already.
    try {
      if (kind === 0x2e /* . */) {
        const sep = message.indexOf(1);
        // The meter is ASCII JSON from the worker: no UTF-8 decoding.
        const meter = sep > 0 ? (JSON.parse(message.toString("latin1", 1, sep)) as Meter) : { compute: 0, currentHeapCount: 0, allocate: 0 };
        const reply = message.subarray(sep > 0 ? sep + 1 : 1);
        if (pending.delivery) this.onReply(reply);
        pending.resolve({ reply, meter });
      } else {
        pending.reject(new Error(message.subarray(1).toString() || "XS reported an error"));
      }
    } finally {
      this.running = undefined;
      this.next();
    }
  }
}
