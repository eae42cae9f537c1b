// Moddable's `socket` module, for what the board uses it for here: RAW IP sockets (ICMP).
// TCP and UDP go through the ECMA-419 modules (embedded:io/socket/*).
import { host, newId, off, on, tell, toArrayBuffer, toBytes } from "./bridge";

type Callback = (message: number, value?: number, address?: string) => void;

export class Socket {
  static readonly connected = 1;
  static readonly readable = 2;
  static readonly writable = 3;
  static readonly error = -2;
  static readonly disconnected = -1;

  callback?: Callback;
  readonly #id = newId();
  /** The packet being read, as Moddable hands one packet at a time to the callback. */
  #packet: Uint8Array = new Uint8Array(0);

  constructor(dictionary: { kind?: string; protocol?: number }) {
    if (dictionary.kind !== "RAW") throw new Error(`the simulator's socket module has RAW sockets only (kind ${String(dictionary.kind)}): use embedded:io/socket`);
    on("raw", this.#id, (bytes, address) => {
      this.#packet = bytes as Uint8Array;
      this.callback?.(Socket.readable, this.#packet.length, address as string);
      this.#packet = new Uint8Array(0);
    });
    host("raw.open", this.#id, { protocol: dictionary.protocol ?? 0 });
  }

  /** read(ArrayBuffer, n), read(String, n), read(Number), or read(null, n) to skip n bytes. */
  read(type: unknown, count?: number): ArrayBuffer | string | number | undefined {
    const n = Math.min(count ?? this.#packet.length, this.#packet.length);
    const bytes = this.#packet.subarray(0, type === Number ? 1 : n);
    this.#packet = this.#packet.subarray(bytes.length);
    if (type === ArrayBuffer) return toArrayBuffer(bytes);
    if (type === String) return String.fromCharCode(...bytes);
    if (type === Number) return bytes[0];
    return undefined;
  }

  write(address: string, data: ArrayBufferLike | ArrayBufferView): void {
    tell("raw.write", this.#id, address, toBytes(data).slice());
  }

  close(): void {
    off("raw", this.#id);
    tell("raw.close", this.#id);
  }
}

export class Listener {
  constructor() {
    throw new Error("the simulator's socket module has no Listener: use embedded:io/socket/listener");
  }
}

export default Object.freeze({ Socket, Listener });
