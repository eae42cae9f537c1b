// Moddable's `ota` module on esp32 (host-sim/sdk/shapes.ts: build/devices/esp32/modules/ota/ota.js),
// which @moddable/typings lacks: esp_ota_begin on the next app partition, esp_ota_write, and
// esp_ota_end with esp_ota_set_boot_partition. Its errors: "write failed", "end failed", "bad state".
declare module "ota" {
  class OTA {
    constructor();
    write(data: ArrayBufferLike | ArrayBufferView): void;
    cancel(): void;
    complete(): void;
  }
  export default OTA;
}
