// Moddable's `ota` module on esp32 (build/devices/esp32/modules/ota/ota.js and ota.c, on
// ESP-IDF's esp_ota_*): the next app partition is written, then checked and set to boot
// (host-sim/devices/ota.ts). Its errors carry ota.c's messages: "write failed", "end failed", "bad state".
import { host } from "./bridge";

/** xsmcGetBufferReadable's buffers: an ArrayBuffer, a typed array of bytes or a DataView; else a TypeError. */
function readable(data: unknown): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (data instanceof DataView) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (ArrayBuffer.isView(data) && (data as Uint8Array).BYTES_PER_ELEMENT === 1) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("invalid buffer");
}

/** As ota.c: its esp_ota handle, 0 once cancelled or completed (then complete() is a "bad state"). */
class OTA {
  #handle: number;

  constructor() {
    this.#handle = host<number>("ota.begin");
  }
  write(data: ArrayBufferLike | ArrayBufferView): void {
    host("ota.write", this.#handle, readable(data));
  }
  cancel(): void {
    if (!this.#handle) return;
    host("ota.cancel", this.#handle);
    this.#handle = 0;
  }
  complete(): void {
    if (!this.#handle) throw new Error("bad state");
    host("ota.complete", this.#handle); // "end failed" leaves the handle, as ota.c does
    this.#handle = 0;
  }
}
Object.freeze(OTA.prototype);

export default OTA;
