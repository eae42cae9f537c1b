// Moddable's `socket` module, for what the board uses it for here: RAW IP sockets (ICMP), and
// UDP for Moddable's `sntp` (which extends Socket). Other TCP and UDP go through the ECMA-419
// modules (embedded:io/socket/*).
import { host, newId, off, on, tell, toArrayBuffer, toBytes } from "./bridge";

type Callback = (message: number, value?: number, address?: string, port?: number) => void;

export class Socket {
  static readonly connected = 1;
  static readonly readable = 2;
  static readonly writable = 3;
  static readonly error: number = -2;
  static readonly disconnected = -1;

  readonly #id = newId();
  readonly #kind: "RAW" | "UDP";
  /** The packet being read, as Moddable hands one packet at a time to the callback. */
  #packet: Uint8Array = new Uint8Array(0);
  #closed = false;

  constructor(dictionary: { kind?: string; protocol?: number; port?: number }) {
    if (dictionary.kind === "RAW") {
      on("raw", this.#id, (bytes, address) => this.#deliver(bytes as Uint8Array, address as string));
      host("raw.open", this.#id, { protocol: dictionary.protocol ?? 0 });
    } else if (dictionary.kind === "UDP") {
      on("udp", this.#id, (what) => {
        if (what !== "readable") return;
        // The callback may close the socket (Moddable's sntp does, once it has the time).
        for (let got; !this.#closed && (got = host<{ data: Uint8Array; address: string; port: number } | null>("udp.read", this.#id)); ) this.#deliver(got.data, got.address, got.port);
      });
      host("udp.open", this.#id, { port: dictionary.port ?? 0 });
    } else throw new Error(`the simulator's socket module has RAW and UDP sockets only (kind ${String(dictionary.kind)}): use embedded:io/socket`);
    this.#kind = dictionary.kind;
  }

  #deliver(bytes: Uint8Array, address: string, port?: number): void {
    this.#packet = bytes;
    // Set on the instance (ping), or a subclass's method (Moddable's sntp).
    (this as { callback?: Callback }).callback?.(Socket.readable, this.#packet.length, address, port);
    this.#packet = new Uint8Array(0);
  }

  /** read(ArrayBuffer, n), read(String, n), read(Number), or read(null, n) to skip n bytes; read() the bytes left. */
  read(type?: unknown, count?: number): ArrayBuffer | string | number | undefined {
    if (type === undefined) return this.#packet.length;
    const n = Math.min(count ?? this.#packet.length, this.#packet.length);
    const bytes = this.#packet.subarray(0, type === Number ? 1 : n);
    this.#packet = this.#packet.subarray(bytes.length);
    if (type === ArrayBuffer) return toArrayBuffer(bytes);
    if (type === String) return String.fromCharCode(...bytes);
    if (type === Number) return bytes[0];
    return undefined;
  }

  /** RAW: write(address, data); UDP: write(address, port, data). */
  write(address: string, ...rest: unknown[]): void {
    if (this.#kind === "UDP") tell("udp.write", this.#id, toBytes(rest[1] as ArrayBufferLike).slice(), address, rest[0] as number);
    else tell("raw.write", this.#id, address, toBytes(rest[0] as ArrayBufferLike).slice());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    off(this.#kind === "UDP" ? "udp" : "raw", this.#id);
    tell(this.#kind === "UDP" ? "udp.close" : "raw.close", this.#id);
  }

  get(name: string): undefined {
    void name; // Moddable's answers REMOTE_IP for TCP; these sockets have none
    return undefined;
  }

  suspend(): void {
    throw new Error("the simulator's socket module cannot suspend");
  }
}

export class Listener {
  constructor() {
    throw new Error("the simulator's socket module has no Listener: use embedded:io/socket/listener");
  }
}

export default Object.freeze({ Socket, Listener });
