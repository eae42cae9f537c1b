// `embedded:io/socket/tcp/tls` for mcconfig's type check: the SDK declares it under another
// module name, so its build would find only the JavaScript.
import type TCP from "embedded:io/socket/tcp";

type TCPOptions = ConstructorParameters<typeof TCP>[0];

export default class TLSSocket extends TCP {
  constructor(options: TCPOptions & { host: string; secure: Record<string, unknown> });
}
