// `xsock/ping-native` (drivers/ping/esp32/ping.c on the board, ESP-IDF's esp_ping): one ICMP or
// ICMPv6 echo to an address literal, answered by the simulator's raw sockets (network.ts).
import { host, newId, off, on, tell } from "./bridge";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** What lwIP's ipaddr_aton takes as IPv6: hex groups and colons (a dotted tail, a zone). */
const IPV6 = /^[0-9a-fA-F:]*:[0-9a-fA-F:.]*(%\w+)?$/;

class PingNative {
  readonly #id = newId();
  #open = true;

  constructor(options: { address: string; timeout: number; onReply(ms: number | undefined): void }) {
    const { address, onReply } = options;
    if (typeof address !== "string" || !(IPV4.test(address) || IPV6.test(address))) throw new RangeError("not an IP address");
    const timeout = Math.trunc(Number(options.timeout));
    if (!(timeout >= 1)) throw new RangeError("a timeout of 1 ms or more");
    on("ping", this.#id, (ms) => {
      off("ping", this.#id);
      if (!this.#open) return;
      this.#open = false;
      onReply.call(this, (ms as number | null) ?? undefined);
    });
    host("ping.echo", this.#id, address, timeout);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    off("ping", this.#id);
    tell("ping.close", this.#id);
  }
}

export default PingNative;
