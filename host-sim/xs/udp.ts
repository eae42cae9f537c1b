// ECMA-419 `embedded:io/socket/udp`, on a host datagram socket.
import { host, newId, off, on, tell, toArrayBuffer, toBytes } from "./bridge";

interface Options {
  port?: number;
  address?: string;
  multicast?: string;
  timeToLive?: number;
  onReadable?: (this: UDP, packets: number) => void;
  onError?: (this: UDP) => void;
  format?: "buffer";
  target?: unknown;
}

type Packet = ArrayBuffer & { address: string; port: number };

class UDP {
  readonly target: unknown;
  readonly #id = newId();

  constructor(options: Options) {
    this.target = options.target;
    const { onReadable, onError } = options;
    on("udp", this.#id, (what, count) => {
      if (what === "readable") {
        if (count) onReadable?.call(this, count as number); // 0: the firmware has read them all already
      }
      else onError?.call(this);
    });
    host("udp.open", this.#id, {
      port: options.port ?? 0,
      address: options.address,
      multicast: options.multicast,
      timeToLive: options.timeToLive,
    });
  }

  get format(): "buffer" {
    return "buffer";
  }
  set format(value: "buffer") {
    if (value !== "buffer") throw new RangeError("invalid format");
  }

  write(buffer: ArrayBufferLike | ArrayBufferView, address: string, port: number): void {
    tell("udp.write", this.#id, toBytes(buffer).slice(), address, port);
  }

  /** Joins a multicast group. */
  add(address: string): void {
    host("udp.add", this.#id, address);
  }

  /** Leaves a multicast group. */
  remove(address: string): void {
    host("udp.remove", this.#id, address);
  }

  read(): Packet | undefined {
    const got = host<{ data: Uint8Array; address: string; port: number } | null>("udp.read", this.#id);
    if (!got) return undefined;
    const packet = toArrayBuffer(got.data) as Packet;
    packet.address = got.address;
    packet.port = got.port;
    return packet;
  }

  close(): void {
    off("udp", this.#id);
    tell("udp.close", this.#id);
  }
}

export default UDP;
