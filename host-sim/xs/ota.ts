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

class OTA {
  readonly #handle: number;
  #open = true;

  constructor() {
    this.#handle = host<number>("ota.begin");
  }
  write(data: ArrayBufferLike | ArrayBufferView): void {
    const bytes = readable(data);
    host("ota.write", this.#open ? this.#handle : 0, bytes);
  }
  cancel(): void {
    if (!this.#open) return;
    this.#open = false;
    host("ota.cancel", this.#handle);
  }
  complete(): void {
    if (!this.#open) throw new Error("bad state");
    this.#open = false;
    host("ota.complete", this.#handle);
  }
}
Object.freeze(OTA.prototype);

export default OTA;
