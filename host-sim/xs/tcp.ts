// ECMA-419 `embedded:io/socket/tcp`, on a host TCP socket.
import { checkFormat, host, newId, off, on, readStream, toBytes, type ByteFormat } from "./bridge";

type Format = ByteFormat;
type Options = ({ address: string; port: number } | { host: string; port: number } | { from: TCP }) & {
  nodelay?: boolean;
  onReadable?: (this: TCP, bytes: number) => void;
  onWritable?: (this: TCP, bytes: number) => void;
  onError?: (this: TCP, message?: string) => void;
  format?: Format;
  target?: unknown;
};

const adopted = Symbol("adopted");

class TCP {
  readonly target: unknown;
  #format: Format;
  #id: number;

  constructor(options: Options | { [adopted]: number }) {
    if (adopted in options) {
      this.#id = options[adopted];
      this.#format = "buffer";
      return;
    }
    this.#format = options.format ?? "buffer";
    this.target = options.target;
    const { onReadable, onWritable, onError } = options;
    const listen = (id: number) =>
      on("tcp", id, (what, arg) => {
        if (what === "readable") {
          if (arg) onReadable?.call(this, arg as number); // 0: the firmware has read it all already
        }
        else if (what === "writable") onWritable?.call(this, arg as number);
        else onError?.call(this, arg as string);
      });
    if ("from" in options) {
      this.#id = options.from.#id;
      options.from.#id = 0;
      listen(this.#id);
      host("tcp.adopt", this.#id, { nodelay: options.nodelay ?? false });
    } else {
      this.#id = newId();
      listen(this.#id);
      const to = "address" in options ? options.address : options.host;
      host("tcp.connect", this.#id, { host: to, port: options.port, nodelay: options.nodelay ?? false });
    }
  }

  /** For Listener: wraps an accepted connection that no callbacks watch yet. */
  static accepted(id: number): TCP {
    return new TCP({ [adopted]: id });
  }

  get remoteAddress(): string | undefined {
    return host<{ remoteAddress?: string }>("tcp.info", this.#id).remoteAddress;
  }
  get remotePort(): number | undefined {
    return host<{ remotePort?: number }>("tcp.info", this.#id).remotePort;
  }

  get format(): Format {
    return this.#format;
  }
  set format(value: Format) {
    this.#format = checkFormat(value);
  }

  read(what?: number | ArrayBufferLike | ArrayBufferView): number | ArrayBuffer | undefined {
    return readStream("tcp.read", this.#id, this.#format, what);
  }

  write(value: number | ArrayBufferLike | ArrayBufferView): void {
    host("tcp.write", this.#id, toBytes(value));
  }

  close(): void {
    if (!this.#id) return;
    off("tcp", this.#id);
    host("tcp.close", this.#id);
    this.#id = 0;
  }
}

export default TCP;
