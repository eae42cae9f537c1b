// `embedded:io/socket/tcp/tls`, Moddable's TLSSocket: a TCP socket whose connection the
// simulator makes with node:tls.
import TCP, { type Options } from "./tcp";

class TLSSocket extends TCP {
  constructor(options: Options & { host: string; secure: NonNullable<Options["secure"]> }) {
    super({ ...options, secure: options.secure ?? {} });
  }
}

export default TLSSocket;
