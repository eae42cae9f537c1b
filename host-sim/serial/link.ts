// A serial port that stays open: when the port goes away (a board unplugged, a USB bridge
// that re-enumerates on reset, a simulator restarted under the same --uart-link), it says so
// and opens the port again as soon as it is back.
import { existsSync, read } from "node:fs";
import { promisify } from "node:util";
import type { SerialPort } from "serialport";
import { TextWaiters } from "../text-waiters.ts";

export type LinkEvent =
  | { type: "data"; bytes: Buffer }
  /** The port went away; the link waits for it to come back. */
  | { type: "lost"; reason: string }
  | { type: "reopened" }
  /** close() was called. */
  | { type: "closed" };

const readAsync = promisify(read);

/** How often a lost port is looked for. */
const RETRY_MS = 250;

export class SerialLink {
  private port: SerialPort;
  private closed = false;
  private listeners = new Set<(event: LinkEvent) => void>();
  private readonly received: TextWaiters;
  private retry?: NodeJS.Timeout;

  private constructor(
    readonly path: string,
    readonly baudRate: number,
    port: SerialPort,
  ) {
    this.received = new TextWaiters(path);
    this.port = this.adopt(port);
  }

  /** Opens the port; fails with serialport's error when it cannot. */
  static async open(path: string, baudRate: number): Promise<SerialLink> {
    return new SerialLink(path, baudRate, await openPort(path, baudRate));
  }

  get connected(): boolean {
    return this.port.isOpen;
  }

  /** Calls the listener with each event; returns what stops it. */
  subscribe(listener: (event: LinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes and waits until the bytes have left (the port's flow control holds them back). */
  write(bytes: string | Uint8Array): Promise<void> {
    if (!this.port.isOpen) return Promise.reject(new Error(`${this.path} is not connected`));
    return new Promise((resolve, reject) => this.port.write(bytes, (e) => (e ? reject(e) : this.port.drain((d) => (d ? reject(d) : resolve())))));
  }

  /**
   * Waits for a pattern in what the port sends from now (or since the last match), and
   * returns that text up to the match's end.
   */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string> {
    return this.received.expect(pattern, timeoutMs);
  }

  /** Forgets what has come so far: the next waitFor() looks at what comes next. */
  discard(): void {
    this.received.pending = "";
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.emit({ type: "closed" });
    if (this.port.isOpen) await new Promise<void>((r) => this.port.close(() => r()));
  }

  private emit(event: LinkEvent): void {
    for (const l of [...this.listeners]) l(event);
  }

  private adopt(port: SerialPort): SerialPort {
    port.on("data", (bytes: Buffer) => {
      this.received.add(bytes.toString("latin1"));
      this.emit({ type: "data", bytes });
    });
    port.on("error", () => {}); // a close follows
    port.on("close", (e?: Error) => {
      if (this.closed || port !== this.port) return;
      this.emit({ type: "lost", reason: e?.message ?? "the port closed" });
      this.reopen();
    });
    return port;
  }

  private reopen(): void {
    this.retry = setTimeout(async () => {
      if (this.closed) return;
      try {
        if (!existsSync(this.path)) throw new Error("not there yet");
        const port = await openPort(this.path, this.baudRate);
        if (this.closed) return void port.close();
        this.port = this.adopt(port);
        this.emit({ type: "reopened" });
      } catch {
        this.reopen();
      }
    }, RETRY_MS);
  }
}

export async function openPort(path: string, baudRate: number): Promise<SerialPort> {
  const { SerialPort } = await import("serialport");
  const port = await new Promise<SerialPort>((resolve, reject) => {
    const port: SerialPort = new SerialPort({ path, baudRate }, (e) => (e ? reject(e) : resolve(port)));
  });
  if (process.platform !== "win32") await closeOnHangup(port);
  return port;
}

/**
 * serialport reads again at once when a read gives 0 bytes. A pty whose master closed (a
 * simulator that stopped) is hung up by the kernel, and then reads 0 bytes for ever: when that
 * came before serialport's poll saw the hang-up, the port spun and never closed. Here a read
 * of 0 bytes is the port going away.
 */
async function closeOnHangup(port: SerialPort): Promise<void> {
  const { unixRead } = await import("@serialport/bindings-cpp/dist/unix-read.js");
  const binding = port.port as Parameters<typeof unixRead>[0]["binding"] | undefined;
  if (!binding) return;
  const readOrHangUp: typeof read.__promisify__ = async (...args: Parameters<typeof read.__promisify__>) => {
    const result = await readAsync(...args);
    if (result.bytesRead === 0) throw Object.assign(new Error("the port hung up"), { disconnect: true });
    return result;
  };
  binding.read = (buffer, offset, length) => unixRead({ binding, buffer, offset, length, fsReadAsync: readOrHangUp });
}
