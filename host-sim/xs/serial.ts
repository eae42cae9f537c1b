// ECMA-419 `embedded:io/serial`, on the simulator's UART (a pty, stdio or TCP).
import { checkFormat, host, newId, off, on, readStream, tell, writeStream, type ByteFormat } from "./bridge";

type Format = ByteFormat;
type Callback = (this: Serial, bytes: number) => void;
type ErrorCallback = (this: Serial, message: string) => void;

interface Options {
  port: number;
  baud: number;
  receive?: number;
  transmit?: number;
  onReadable?: Callback;
  onWritable?: Callback;
  /** A receive overrun (the simulator's UART without flow control): bytes after those read so far were lost. The port stays open. */
  onError?: ErrorCallback;
  format?: Format;
  target?: unknown;
}

class Serial {
  readonly resolution = 8;
  readonly target: unknown;
  #format: Format;
  readonly #id = newId();
  /** Transmit space, as the last writable event gave it, less what has been written since. */
  #writable = 0;

  constructor(options: Options) {
    this.#format = options.format ?? "buffer";
    this.target = options.target;
    const { onReadable, onWritable, onError } = options;
    on("serial", this.#id, (what, count) => {
      if (what === "readable") {
        if (count) onReadable?.call(this, count as number); // 0: the firmware has read it all already
      } else if (what === "error") onError?.call(this, count as string);
      else {
        this.#writable = count as number;
        onWritable?.call(this, count as number);
      }
    });
    host("serial.open", this.#id, { port: options.port, baud: options.baud, receive: options.receive, transmit: options.transmit });
  }

  get format(): Format {
    return this.#format;
  }
  set format(value: Format) {
    this.#format = checkFormat(value);
  }

  read(what?: number | ArrayBufferLike | ArrayBufferView): number | ArrayBuffer | undefined {
    return readStream("serial.read", this.#id, this.#format, what);
  }

  write(value: number | ArrayBufferLike | ArrayBufferView): void {
    // esp32's serial.c: a byte in format "number", a buffer in "buffer", nothing else.
    if ((this.#format === "number") !== (typeof value === "number")) throw new TypeError(this.#format === "number" ? "expected a number" : "expected a buffer");
    this.#writable = writeStream("serial.write", this.#id, value, this.#writable);
  }

  close(): void {
    off("serial", this.#id);
    tell("serial.close", this.#id);
  }
}

export default Serial;
