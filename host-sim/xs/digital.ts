// ECMA-419 `embedded:io/digital`, as Moddable implements it (modules/io/digital): a GPIO pin, in
// or out, and onReadable on a rising or falling edge, delivered on a later turn (the ESP32's
// ISR posts to the XS machine; edges until then come as one call). The simulator wires a pin to
// the part the board file puts there (an MCP2515's INT).
import { host, newId, off, on, tell } from "./bridge";

type Mode = number;

interface Options {
  pin: number | { pin: number; port?: unknown };
  mode: Mode;
  edge?: number;
  onReadable?: (this: Digital, triggered?: number) => void;
  format?: "number";
  target?: unknown;
}

const MODES = [0, 1, 2, 3, 8, 9];

class Digital {
  static readonly Input = 0;
  static readonly InputPullUp = 1;
  static readonly InputPullDown = 2;
  static readonly InputPullUpDown = 3;
  static readonly Output = 8;
  static readonly OutputOpenDrain = 9;
  static readonly ActiveLow = 16;
  static readonly Rising = 1;
  static readonly Falling = 2;

  readonly target: unknown;
  readonly #id = newId();
  readonly #output: boolean;
  #open = true;

  constructor(options: Options) {
    const pin = typeof options.pin === "object" ? options.pin?.pin : options.pin;
    if (!Number.isInteger(pin) || pin < 0 || pin > 48) throw new Error("invalid pin");
    if (!MODES.includes(options.mode)) throw new RangeError("invalid mode");
    this.#output = options.mode >= Digital.Output;
    const onReadable = options.onReadable;
    const edge = onReadable && !this.#output ? (options.edge ?? 0) : 0;
    if (onReadable && !this.#output && !(edge & (Digital.Rising | Digital.Falling))) throw new RangeError("invalid edges");
    if (options.format !== undefined && options.format !== "number") throw new RangeError("invalid format");
    this.target = options.target;
    if (edge) on("digital", this.#id, (triggered) => onReadable!.call(this, triggered as number));
    host("digital.open", this.#id, { pin, mode: options.mode, edge });
  }

  get format(): "number" {
    return "number";
  }
  set format(value: "number") {
    if (value !== "number") throw new RangeError("invalid format");
  }

  read(): 0 | 1 {
    this.#check();
    return host<0 | 1>("digital.read", this.#id);
  }

  write(value: number): void {
    this.#check();
    if (!this.#output) throw new Error("not an output");
    tell("digital.write", this.#id, Number(value) ? 1 : 0);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    off("digital", this.#id);
    tell("digital.close", this.#id);
  }

  #check(): void {
    if (!this.#open) throw new Error("closed");
  }
}

export default Digital;
