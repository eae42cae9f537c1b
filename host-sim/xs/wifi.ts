// Moddable's `wifi` module, on the simulator's access points.
import { host, newId, off, on } from "./bridge";

type Message = "connect" | "gotIP" | "lostIP" | "disconnect" | "station_connect" | "station_disconnect";
interface Options {
  ssid: string;
  password?: string;
  bssid?: ArrayBuffer;
}
interface ScanItem {
  ssid: string;
  authentication: string;
  rssi: number;
  bssid: ArrayBuffer;
  channel: number;
}

class WiFi {
  static readonly gotIP = "gotIP";
  static readonly lostIP = "lostIP";
  static readonly connected = "connect";
  static readonly disconnected = "disconnect";
  static readonly station_connect = "station_connect";
  static readonly station_disconnect = "station_disconnect";
  static readonly Mode = Object.freeze({ off: -5, none: 0, station: 1, accessPoint: 2 } as const);

  readonly #id = newId();
  #onNotify?: (message: Message, reason?: number) => void;

  /** `disconnect` comes with a reason, as on the ESP32: -1 when the handshake failed (a wrong password), else 0. */
  constructor(options?: Options, callback?: (message: Message, reason?: number) => void) {
    on("wifi", this.#id, (message, reason) => {
      if (message === "disconnect") this.#onNotify?.(message, (reason as number | undefined) ?? 0);
      else this.#onNotify?.(message as Message);
    });
    host("wifi.monitor", this.#id);
    this.build(options, callback);
  }

  build(options?: Options, callback?: (message: Message, reason?: number) => void): void {
    if (options) WiFi.connect(options);
    if (callback) this.onNotify = callback;
  }

  set onNotify(callback: (message: Message, reason?: number) => void) {
    this.#onNotify = callback;
  }

  /** Moddable's deprecated static close. */
  static close(): never {
    throw new Error("use WiFi.disconnect()");
  }

  close(): void {
    off("wifi", this.#id);
    host("wifi.unmonitor", this.#id);
  }

  static get mode(): number {
    return host<number>("wifi.mode");
  }
  static set mode(value: number) {
    host("wifi.mode", value);
  }

  /** As on the board, connect() with no options disconnects. */
  static connect(options?: Options): void {
    if (!options) return WiFi.disconnect();
    if (options.bssid !== undefined && options.bssid.byteLength !== 6) throw new Error("bssid must be 6 bytes");
    host("wifi.connect", { ssid: options.ssid, password: options.password, bssid: options.bssid && new Uint8Array(options.bssid) });
  }

  static disconnect(): void {
    host("wifi.disconnect");
  }

  static scan(options: { hidden?: boolean; channel?: number }, callback: (item: ScanItem | null) => void): void {
    const id = newId();
    on("scan", id, (item) => {
      const found = item as (Omit<ScanItem, "bssid"> & { bssid: Uint8Array }) | null;
      if (!found) off("scan", id);
      callback(found ? { ...found, bssid: found.bssid.slice().buffer } : null);
    });
    host("wifi.scan", id, options ?? {});
  }

  /** As on the ESP32: throws on a bad SSID, password or channel; `station` keeps the station beside it. */
  static accessPoint(options: { ssid: string; password?: string; channel?: number; hidden?: boolean; max?: number; station?: boolean }): void {
    const given = Object.fromEntries(Object.entries(options).filter(([key]) => ["ssid", "password", "channel", "hidden", "max", "station"].includes(key)));
    host("wifi.accessPoint", given);
  }
}

export default WiFi;
