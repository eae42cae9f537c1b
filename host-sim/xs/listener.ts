// ECMA-419 `embedded:io/socket/listener`, on a host TCP server.
import { ACCEPTED, host, newId, off, on, tell } from "./bridge";
import TCP from "./tcp";

interface Options {
  port?: number;
  address?: string;
  onReadable?: (this: Listener, requests: number) => void;
  format?: "socket/tcp";
  target?: unknown;
}

class Listener {
  readonly target: unknown;
  readonly #port: number;
  readonly #id = newId();

  constructor(options: Options) {
    this.target = options.target;
    const { onReadable } = options;
    on("listener", this.#id, (count) => void (count && onReadable?.call(this, count as number)));
    this.#port = host<number>("listener.open", this.#id, { port: options.port ?? 0, address: options.address });
  }

  get port(): number {
    return this.#port;
  }

  get format(): "socket/tcp" {
    return "socket/tcp";
  }
  set format(value: "socket/tcp") {
    if (value !== "socket/tcp") throw new RangeError("invalid format");
  }

  read(): TCP | undefined {
    const id = newId();
    return host<boolean>("listener.read", this.#id, id) ? TCP[ACCEPTED](id) : undefined;
  }

  close(): void {
    off("listener", this.#id);
    tell("listener.close", this.#id);
  }
}

export default Listener;
