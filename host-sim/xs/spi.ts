// ECMA-419 `embedded:io/spi`, as Moddable implements it on the ESP32 (modules/io/spi): chip
// select stays low from the first transfer until flush(true). The simulator routes it by pins
// to the part the board file wires there (an MCP2515); a bus with nothing on it reads all ones.
import { host, newId, tell, toArrayBuffer, toBytes } from "./bridge";

type Buffer = ArrayBufferLike | ArrayBufferView;

interface Options {
  clock: number;
  out?: number;
  in?: number;
  select?: number;
  active?: 0 | 1;
  hz: number;
  mode?: number;
  port?: number;
  format?: "buffer";
  target?: unknown;
}

/** ESP-IDF's SPI hosts: SPI1_HOST (0), SPI2_HOST (1), SPI3_HOST (2). */
const PORTS = [0, 1, 2];

function pin(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 48) throw new RangeError(`invalid ${name}`);
  return value as number;
}

class SPI {
  readonly target: unknown;
  readonly #id = newId();
  #open = true;

  constructor(options: Options) {
    const clock = pin(options.clock, "clock");
    if (clock === undefined) throw new Error("invalid clock");
    if (!Number.isInteger(options.hz) || options.hz < 1 || options.hz > 40_000_000) throw new RangeError("invalid hz");
    const out = pin(options.out, "out");
    const input = pin(options.in, "in");
    if (out === undefined && input === undefined) throw new Error("in or out required");
    const select = pin(options.select, "select");
    if (options.active !== undefined && options.active !== 0 && options.active !== 1) throw new RangeError("invalid active");
    const mode = options.mode ?? 0;
    if (!Number.isInteger(mode) || mode & ~3) throw new RangeError("invalid mode");
    if (options.port === undefined) throw new Error("invalid port");
    if (!PORTS.includes(options.port)) throw new RangeError("invalid port");
    if (options.format !== undefined && options.format !== "buffer") throw new RangeError("invalid format");
    this.target = options.target;
    host("spi.open", this.#id, { clock, out, in: input, select, active: options.active ?? 0, hz: options.hz, mode, port: options.port });
  }

  get format(): "buffer" {
    return "buffer";
  }
  set format(value: "buffer") {
    if (value !== "buffer") throw new RangeError("invalid format");
  }

  /** Clocks out zeros (or the buffer's bytes) and returns what came in. */
  read(what: number | Buffer): ArrayBuffer | undefined {
    if (typeof what === "number") {
      if (!Number.isInteger(what) || what <= 0 || what > 65535) throw new RangeError("unsupported byteLength");
      return toArrayBuffer(this.#exchange(new Uint8Array(what)));
    }
    this.transfer(what);
    return undefined;
  }

  write(buffer: Buffer): void {
    const bytes = this.#bytes(buffer);
    tell("spi.write", this.#id, bytes.slice());
  }

  /** Sends the buffer's bytes and puts what came back in their place. */
  transfer(buffer: Buffer): void {
    const bytes = this.#bytes(buffer);
    bytes.set(this.#exchange(bytes));
  }

  /** Moddable's transform (bit order, inversion) is for displays: the simulator's SPI has none. */
  set transform(_value: unknown) {
    throw new Error("SPI transform: not in the simulator");
  }

  /** Waits for what was written; with `deselect`, raises chip select. */
  flush(deselect?: boolean): void {
    this.#check();
    if (deselect) tell("spi.deselect", this.#id);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    tell("spi.close", this.#id);
  }

  #exchange(bytes: Uint8Array): Uint8Array {
    return host<Uint8Array>("spi.transfer", this.#id, bytes.slice());
  }

  #bytes(buffer: Buffer): Uint8Array {
    this.#check();
    const bytes = toBytes(buffer);
    if (bytes.length > 65535) throw new RangeError("unsupported byteLength");
    return bytes;
  }

  #check(): void {
    if (!this.#open) throw new Error("closed");
  }
}

export default SPI;
