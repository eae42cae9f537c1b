// Moddable's `ethernet` module (modules/network/ethernet), on the simulator's Ethernet port.
import { host, newId, off, on } from "./bridge";

type Message = "connect" | "gotIP" | "lostIP" | "disconnect";

class Ethernet {
  static readonly gotIP = "gotIP";
  static readonly lostIP = "lostIP";
  static readonly connected = "connect";
  static readonly disconnected = "disconnect";

  readonly #id = newId();

  #onNotify?: (message: Message) => void;

  /**
   * As on the board, `new Ethernet(onNotify)`: a monitor of the link and address. As Moddable's,
   * one argument is the callback; with two, the first is a dictionary it does not read.
   */
  constructor(...args: [onNotify?: (message: Message) => void] | [dictionary: object, onNotify?: (message: Message) => void]) {
    on("ethernet", this.#id, (message) => this.#onNotify?.(message as Message));
    host("ethernet.monitor", this.#id);
    if (args.length === 1) this.build(args[0] as (message: Message) => void);
  }

  build(onNotify?: (message: Message) => void): void {
    if (onNotify) this.onNotify = onNotify;
  }

  set onNotify(callback: (message: Message) => void) {
    this.#onNotify = callback;
  }

  close(): void {
    off("ethernet", this.#id);
    host("ethernet.unmonitor", this.#id);
  }

  static start(): void {
    host("ethernet.start");
  }

  static useStaticIP(address: string, netmask: string, gateway: string): void {
    host("ethernet.useStaticIP", address, netmask, gateway);
  }

  static useDHCP(): void {
    host("ethernet.useDHCP");
  }
}

export default Ethernet;
