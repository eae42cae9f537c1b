// One ICMP echo with ESP-IDF's esp_ping (ping/ping_sock.h), which speaks ICMPv6 too: Moddable's
// `socket` RAW kind opens an IPv4 raw PCB (raw_new), so AT+PING to an IPv6 address takes this.
// Implemented in esp32/ping.c.

export interface PingOptions {
  /** An IPv4 or IPv6 address literal. */
  address: string;
  /** How long to wait for the reply, in ms (1 or more). */
  timeout: number;
  /** Called once, in the machine's thread: the round trip in ms, or undefined when no reply came. */
  onReply(ms: number | undefined): void;
}

export default class PingNative {
  /** Sends the echo request at once; throws RangeError for an address that is not a literal. */
  constructor(options: PingOptions);
  /** Stops waiting: onReply is not called. */
  close(): void;
}
