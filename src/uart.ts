// Moves bytes between an ECMA-419 Serial port and its user, keeping to the
// space the port says it has, so no write ever overflows its FIFO.
import Serial from "embedded:io/serial";
import Timer from "timer";

export interface UartConfig {
  port: number;
  transmit: number;
  receive: number;
  baud: number;
  /** lin only: the tty that Moddable's serial opens. */
  device?: string;
}

/** UART1 on GPIO17/16 at 115200: the console of a build with no board file. */
const DEFAULT_CONSOLE: UartConfig = { port: 1, transmit: 17, receive: 16, baud: 115200 };

/**
 * The console UART a build's config names: the board file's `console` and, on lin, the tty that
 * `mcconfig -m -p lin uart=/dev/pts/5` gives (Moddable's lin serial opens its `device`).
 */
export function consoleConfig(config: Record<string, unknown>): UartConfig {
  const uart = config.console ? (config.console as UartConfig) : DEFAULT_CONSOLE;
  return typeof config.uart === "string" && config.uart ? { ...uart, device: config.uart } : uart;
}

/** A queued write shorter than this takes the next short ones into it. */
const JOIN_BELOW = 512;
/** Bytes queued for the wire past which a producer should wait. */
const ROOM = 2048;

export class Uart {
  private serial!: Serial;
  private writable = 0;
  /** The most transmit space the port has told of: its FIFO is empty at this. */
  private capacity = 0;
  /** Whole ArrayBuffers, as lin's Serial.write takes only those; the head's first `sent` bytes are gone. */
  private queue: ArrayBuffer[] = [];
  private sent = 0;
  private queued = 0;
  private waiting: (() => void)[] = [];
  /** While paused, bytes stay in the port's FIFO (and then the line's): the reader's backpressure. */
  private paused = false;
  private unread = false;
  /** Bytes taken from the port before a reopen, not yet handed on (the reader was paused). */
  private held: Uint8Array[] = [];
  /**
   * Baud changes asked for and not yet made. Meanwhile input stays in the port's FIFO, as ESP-AT
   * reads no command between a change's OK and the change: the next command sees the new rate.
   */
  private changes = 0;
  /** Settles once the last change asked for is made: each waits for the one before. */
  private lastChange: Promise<void> = Promise.resolve();

  /**
   * @param onOverrun called when the port reports lost input (ECMA-419's onError: its receive
   * FIFO overflowed, with no flow control), once the bytes that came before the loss are read.
   */
  constructor(
    private config: UartConfig,
    private readonly onData: (bytes: Uint8Array) => void,
    private readonly onOverrun: () => void = () => {},
  ) {
    this.open();
  }

  get baud(): number {
    return this.config.baud;
  }

  /** Bytes queued for the wire and not yet handed to the port. */
  get backlog(): number {
    return this.queued;
  }

  private open(): void {
    this.writable = this.capacity = 0;
    // ECMA-419's IO class pattern has onError; Moddable's typings for Serial leave it out.
    const options: ConstructorParameters<typeof Serial>[0] & { onError?: (this: Serial, message?: string) => void } = {
      ...this.config,
      format: "buffer",
      onReadable: () => {
        if (this.holding) this.unread = true;
        else this.read();
      },
      onWritable: (bytes: number) => {
        this.writable = bytes;
        this.capacity = Math.max(this.capacity, bytes);
        this.drain();
      },
      onError: () => this.onOverrun(),
    };
    this.serial = new Serial(options);
  }

  private read(): void {
    const data = this.serial.read() as ArrayBuffer | undefined;
    if (data) this.onData(new Uint8Array(data));
  }

  /** Stops taking bytes from the port until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.release();
  }

  /** Input waits while the reader is paused or a baud change is under way. */
  private get holding(): boolean {
    return this.paused || this.changes > 0;
  }

  /** Hands on what waited: bytes a reopen took, then what the port holds. */
  private release(): void {
    this.handHeld();
    if (this.unread && !this.holding) {
      this.unread = false;
      this.read();
    }
  }

  /** Resolves once every queued byte is on the wire: the queue is empty and the FIFO has had time to drain. */
  async drained(): Promise<void> {
    const wait = (ms: number) => new Promise((resolve) => Timer.set(resolve, ms));
    while (this.queued) await wait(2);
    await wait(Math.ceil(((this.capacity - this.writable) * 10 * 1000) / this.config.baud) + 1);
  }

  /**
   * Once every queued byte is on the wire, reopens the port at another baud rate; at the same
   * one it leaves the port alone. Until then input waits (ESP-AT sends the OK, waits for it to
   * go out and changes the UART before it reads another command), and changes are made in the
   * order asked, each compared with the rate the one before left.
   */
  async setBaud(baud: number): Promise<void> {
    this.changes++;
    const before = this.lastChange;
    let made!: () => void;
    this.lastChange = new Promise((resolve) => (made = resolve));
    try {
      await before;
      if (baud !== this.config.baud) await this.reopen(baud);
    } finally {
      made();
      this.changes--;
      this.release();
    }
  }

  /**
   * A reopen resets the receive FIFO (Moddable's Serial configures the UART with ESP-IDF's
   * uart_param_config, which empties it), so what it holds is read first.
   */
  private async reopen(baud: number): Promise<void> {
    await this.drained();
    const left = this.serial.read() as ArrayBuffer | undefined;
    this.serial.close();
    this.config = { ...this.config, baud };
    this.open();
    if (left) this.held.push(new Uint8Array(left));
  }

  /** Hands on what a reopen took from the port, while the reader takes it. */
  private handHeld(): void {
    while (this.held.length && !this.holding) this.onData(this.held.shift()!);
  }

  write(bytes: Uint8Array): void {
    if (!bytes.length) return;
    // Short writes (echoes, OK) join the last queued one while it is small and not going out:
    // a burst of replies is then a few buffers, not hundreds, in the board's small heap.
    const tail = this.queue.length > (this.sent ? 1 : 0) ? this.queue[this.queue.length - 1] : undefined;
    if (tail && tail.byteLength + bytes.length <= JOIN_BELOW) {
      const joined = new Uint8Array(tail.byteLength + bytes.length);
      joined.set(new Uint8Array(tail));
      joined.set(bytes, tail.byteLength);
      this.queue[this.queue.length - 1] = joined.buffer;
    } else {
      // ArrayBuffer's slice: XS meters TypedArray's slice at two computrons a byte.
      this.queue.push((bytes.buffer as ArrayBuffer).slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
    this.queued += bytes.length;
    this.drain();
  }

  /** Resolves once fewer than `limit` bytes wait to go out: a producer's backpressure. */
  whenRoom(limit = ROOM): Promise<void> {
    if (this.queued < limit) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private drain(): void {
    while (this.queue.length && this.writable > 0) {
      const head = this.queue[0];
      const left = head.byteLength - this.sent;
      const n = Math.min(left, this.writable);
      this.serial.write(n === head.byteLength ? head : head.slice(this.sent, this.sent + n));
      this.writable -= n;
      this.queued -= n;
      if (n === left) {
        this.queue.shift();
        this.sent = 0;
      } else this.sent += n;
    }
    if (this.queued < ROOM) for (const resolve of this.waiting.splice(0)) resolve();
  }
}
