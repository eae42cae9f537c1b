// Moddable's `sntp` module (modules/network/sntp: sntp.js, and modsntp.c's two natives in
// JavaScript): an SNTP client on the `socket` module's UDP. It asks `host` on port 123 every 5 s,
// 5 times; the callback hears SNTP.time with the seconds since 1970, SNTP.retry, or SNTP.error
// with a message, and may then return another host to ask.
import Net from "./net";
import { Socket } from "./socket";
import Timer from "./timer";

type Callback = (message: number, value?: number | string) => string | void;

/** xs_sntp_packet: 48 bytes, version 4, mode 3 (client). */
function packet(): ArrayBuffer {
  const bytes = new Uint8Array(48);
  bytes[0] = (4 << 3) | 3;
  return bytes.buffer;
}

/** xs_sntp_toNumber: a big-endian NTP seconds field as Unix time (int32, as modsntp.c has it). */
function toNumber(b0: number, b1: number, b2: number, b3: number): number {
  return ((((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0) - 2208988800) | 0;
}

class SNTP extends Socket {
  #callback: Callback;
  #retry = 0;
  #timer: Timer | undefined;
  #address: string | undefined;

  constructor(dictionary: { host: string }, callback: Callback) {
    super({ kind: "UDP" });
    this.#callback = callback;
    this.#timer = Timer.repeat(() => {
      if (!--this.#retry) return this.failed("no response from SNTP server");
      this.write();
      this.#callback(SNTP.retry);
    }, 5000);
    this.start(dictionary.host);
  }
  start(host: string): void {
    this.#retry = 5;
    Net.resolve(host, (_host, address) => {
      if (!this.#timer) return; // resolution completed after SNTP closed
      if (address) {
        this.#address = address;
        this.write();
        Timer.schedule(this.#timer, 5000, 5000);
      } else this.failed("cannot resolve " + host);
    });
  }
  failed(message: string): void {
    if (this.read()) this.read(null); // clear unread data from current packet
    const host = this.#callback(SNTP.error, message);
    if (host) {
      Timer.schedule(this.#timer!, 5000, 5000);
      this.start(host);
    } else this.close();
  }
  override write(): void {
    if (!this.#address) return;
    try {
      super.write(this.#address, 123, packet());
    } catch {
      // as Moddable's: a failed UDP write waits for the retry
    }
  }
  override close(): void {
    if (this.#timer) Timer.clear(this.#timer);
    this.#timer = undefined;
    super.close();
  }
  callback(message: number, value?: number): string | void {
    if (Socket.readable !== message) return;
    if (48 !== value) this.failed("unexpected SNTP packet length");
    else if (4 !== (7 & (this.read(Number) as number))) this.failed("unexpected SNTP packet first byte"); // NTP server mode
    else if (0 === this.read(Number)) {
      this.read(null); // Kiss-o'-Death: discarded
      return;
    } else {
      this.read(null, 38);
      const time = toNumber(this.read(Number) as number, this.read(Number) as number, this.read(Number) as number, this.read(Number) as number);
      this.close();
      return this.#callback(SNTP.time, time);
    }
  }

  static readonly time = 1;
  static readonly retry = 2;
  static override readonly error = -1;
}

export default SNTP;
