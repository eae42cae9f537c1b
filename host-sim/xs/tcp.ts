// ECMA-419 `embedded:io/socket/tcp`, on a host TCP socket.
import { ACCEPTED, checkFormat, EVENT, host, newId, off, on, tell, toArrayBuffer, toBytes, writeStream, type ByteFormat } from "./bridge";

type Format = ByteFormat;
type Der = ArrayBufferLike | ArrayBufferView;
/**
 * TLSSocket's `secure`, as Moddable's SSLSession (modules/crypt/ssl) reads it: the name for SNI
 * and the certificate check, a CA, ALPN (one protocol or a list, strings or buffers), and a
 * client certificate with its PKCS#8 key (DER), sent when the server asks for one.
 */
export interface Secure {
  verify?: boolean;
  certificate?: Der;
  serverName?: string;
  applicationLayerProtocolNegotiation?: string | Der | (string | Der)[];
  clientCertificates?: Der[];
  clientKey?: Der;
}
export type Options = ({ address: string; port: number; host?: string } | { host: string; port: number } | { from: TCP }) & {
  secure?: Secure;
  nodelay?: boolean;
  onReadable?: (this: TCP, bytes: number) => void;
  onWritable?: (this: TCP, bytes: number) => void;
  onError?: (this: TCP, message?: string) => void;
  format?: Format;
  target?: unknown;
};

const adopted = Symbol("adopted");
const EMPTY = new Uint8Array(0);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

class TCP {
  readonly target: unknown;
  #format: Format;
  #id: number;
  #onReadable?: Options["onReadable"];
  #onWritable?: Options["onWritable"];
  #onError?: Options["onError"];
  /** Send space, as the last writable event gave it, less what has been written since. */
  #writable = 0;
  /** Bytes the readable event brought along (the first few KB), not yet read. */
  #cache: Uint8Array = EMPTY;
  /** Bytes the simulator still holds, as the last readable event said. */
  #more = 0;

  constructor(options: Options | { [adopted]: number }) {
    if (adopted in options) {
      this.#id = options[adopted];
      this.#format = "buffer";
      return;
    }
    this.#format = options.format ?? "buffer";
    this.target = options.target;
    this.#onReadable = options.onReadable;
    this.#onWritable = options.onWritable;
    this.#onError = options.onError;
    if ("from" in options) {
      this.#id = options.from.#id;
      options.from.#id = 0;
      on("tcp", this.#id, this);
      host("tcp.adopt", this.#id, { nodelay: options.nodelay ?? false });
    } else {
      // Moddable's lwIP tcp.c reads the address into 32 bytes: a longer one (an IPv6 address
      // of over 31 characters) throws, as xsmcToStringBuffer does.
      if ("address" in options && String(options.address).length > 31) throw new RangeError("cannot buffer string");
      this.#id = newId();
      on("tcp", this.#id, this);
      const to = "address" in options ? options.address : options.host;
      const secure = options.secure;
      const alpn = secure?.applicationLayerProtocolNegotiation;
      const tls = secure && {
        servername: secure.serverName ?? options.host ?? to,
        verify: secure.verify !== false,
        ca: secure.certificate && toBytes(secure.certificate),
        alpn: alpn === undefined ? undefined : (Array.isArray(alpn) ? alpn : [alpn]).map((p) => (typeof p === "string" ? p : toBytes(p))),
        // SSLSession sends the first certificate, signed with the key (ssl_cert.js's getKey).
        cert: secure.clientCertificates?.[0] && toBytes(secure.clientCertificates[0]),
        key: secure.clientKey && toBytes(secure.clientKey),
      };
      host("tcp.connect", this.#id, { host: to, port: options.port, nodelay: options.nodelay ?? false, tls });
    }
  }

  [EVENT](what: unknown, arg: unknown): void {
    if (what === "readable") {
      const { bytes, more } = arg as { bytes: Uint8Array | null; more: number };
      if (bytes) this.#cache = this.#cache.length ? concat(this.#cache, bytes) : bytes;
      this.#more = more;
      const count = this.#cache.length + more;
      if (count) this.#onReadable?.call(this, count); // 0: the firmware has read it all already
    } else if (what === "writable") {
      this.#writable = arg as number;
      this.#onWritable?.call(this, arg as number);
    } else this.#onError?.call(this, arg as string);
  }

  /** For Listener: wraps an accepted connection that no callbacks watch yet. */
  static [ACCEPTED](id: number): TCP {
    return new TCP({ [adopted]: id });
  }

  /** The peer's address does not change: asked once, then kept. */
  #remoteAddress?: string;
  #remotePort?: number;
  static #askPeer(self: TCP): void {
    if (self.#remoteAddress) return;
    const info = host<{ remoteAddress?: string; remotePort?: number }>("tcp.info", self.#id);
    self.#remoteAddress = info.remoteAddress;
    self.#remotePort = info.remotePort;
  }
  get remoteAddress(): string | undefined {
    TCP.#askPeer(this);
    return this.#remoteAddress;
  }
  get remotePort(): number | undefined {
    TCP.#askPeer(this);
    return this.#remotePort;
  }

  get format(): Format {
    return this.#format;
  }
  set format(value: Format) {
    this.#format = checkFormat(value);
  }

  read(what?: number | ArrayBufferLike | ArrayBufferView): number | ArrayBuffer | undefined {
    const available = this.#cache.length + this.#more;
    if (!available) return undefined;
    const into = typeof what === "object" ? toBytes(what) : undefined;
    // As lwIP's tcp.c: a count, or a buffer, of more than is there (or of nothing) is refused.
    if (this.#format === "buffer" && what !== undefined) {
      const requested = into ? into.length : Number(what);
      if (!(requested > 0 && requested <= available)) throw new Error("invalid");
    }
    const want = into ? into.length : this.#format === "number" ? 1 : typeof what === "number" ? what : 0x7fffffff;
    const got = TCP.#take(this, want);
    if (into) {
      into.set(got);
      return got.length;
    }
    if (!got.length) return undefined;
    return this.#format === "number" ? got[0] : toArrayBuffer(got);
  }

  /**
   * Up to `want` bytes: from what the event brought first, then from the simulator. Static, as
   * XS gives every instance a slot for each private instance method.
   */
  static #take(self: TCP, want: number): Uint8Array {
    const cache = self.#cache;
    let got = cache;
    if (want < cache.length) {
      got = cache.subarray(0, want);
      self.#cache = cache.subarray(want);
    } else self.#cache = EMPTY;
    if (got.length) tell("tcp.consumed", self.#id, got.length);
    if (got.length === want || self.#more <= 0) return got;
    const rest = host<Uint8Array | null>("tcp.read", self.#id, want - got.length) ?? EMPTY;
    self.#more = Math.max(0, self.#more - rest.length);
    return got.length ? concat(got, rest) : rest;
  }

  write(value: number | ArrayBufferLike | ArrayBufferView): void {
    this.#writable = writeStream("tcp.write", this.#id, value, this.#writable);
  }

  close(): void {
    if (!this.#id) return;
    off("tcp", this.#id);
    tell("tcp.close", this.#id);
    this.#id = 0;
  }
}

export default TCP;
