// Moves bytes between an ECMA-419 Serial port and its user, keeping to the
// space the port says it has, so no write ever overflows its FIFO.
import Serial from "embedded:io/serial";

export interface UartConfig {
  port: number;
  transmit: number;
  receive: number;
  baud: number;
}

/** Bytes queued for the wire past which a producer should wait. */
const ROOM = 2048;

export class Uart {
  private readonly serial: Serial;
  private writable = 0;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private waiting: (() => void)[] = [];

  constructor(config: UartConfig, onData: (bytes: Uint8Array) => void) {
    this.serial = new Serial({
      ...config,
      format: "buffer",
      onReadable: () => {
        const data = this.serial.read() as ArrayBuffer | undefined;
        if (data) onData(new Uint8Array(data));
      },
      onWritable: (bytes: number) => {
        this.writable = bytes;
        this.drain();
      },
    });
  }

  write(bytes: Uint8Array): void {
    if (!bytes.length) return;
    this.queue.push(bytes.slice());
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
      const n = Math.min(head.length, this.writable);
      this.serial.write(n === head.length ? head : head.subarray(0, n));
      this.writable -= n;
      this.queued -= n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
    if (this.queued < ROOM) for (const resolve of this.waiting.splice(0)) resolve();
  }
}
