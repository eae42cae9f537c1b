// `embedded:io/socket/tcp/tls`, Moddable's TLSSocket (examples/io/tcp/tlssocket): a class of its
// own around a TCP socket, whose connection the simulator makes with node:tls. As Moddable's, it
// needs `TCP: { io }`, calls the callbacks with `this` as its own record of them (not the
// socket, so there is no `target`), and gives onWritable its count less 96, TLS's overhead.
import TCP, { type Options, type Secure } from "./tcp";

type TlsOptions = Options & { host?: string; secure?: Secure; TCP: { io: typeof TCP } };

class TLSSocket {
  #socket: TCP;

  constructor(options: TlsOptions) {
    if (typeof options.TCP?.io !== "function") throw new TypeError("TLSSocket: options.TCP.io is not a constructor");
    const callbacks = { onReadable: options.onReadable, onWritable: options.onWritable, onError: options.onError } as {
      onReadable?: (count: number) => void;
      onWritable?: (count: number) => void;
      onError?: () => void;
    };
    this.#socket = new TCP({
      ...options,
      secure: options.secure ?? {},
      onReadable: (count) => callbacks.onReadable?.(count),
      onWritable: (count) => void (count > 96 && callbacks.onWritable?.(count - 96)),
      onError: () => callbacks.onError?.(),
    });
  }

  close(): void {
    this.#socket.close();
  }

  read(what?: number | ArrayBufferLike | ArrayBufferView): number | ArrayBuffer | undefined {
    return this.#socket.read(what);
  }

  write(value: ArrayBufferLike | ArrayBufferView): void {
    this.#socket.write(value);
  }

  get format() {
    return this.#socket.format;
  }
  set format(value) {
    this.#socket.format = value;
  }
}

export default TLSSocket;
