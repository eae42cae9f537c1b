// The board's app partitions, for Moddable's `ota` module (build/devices/esp32/modules/ota/ota.c
// on ESP-IDF's esp_ota_*): an update writes the next app partition, esp_ota_end checks the image
// there, and esp_ota_set_boot_partition has the next restart boot it. They outlive restarts.
import type { Host } from "../host.ts";
import { PlatformError } from "../host.ts";
import type { Firmware } from "../firmware.ts";
import { IMAGE_MAGIC, ImageError, readImage } from "../ota-image.ts";

/**
 * An app partition's size with Moddable's `ota` manifest (autosplit): its ESP32 factory partition
 * (0x3F0000) less the otadata partition (0x2000), halved and rounded down to 64 KB
 * (tools/mcmanifest.js).
 */
export const APP_PARTITION_SIZE = 0x1f0000;

/** The update under way: what esp_ota_begin opened and esp_ota_write has written. */
interface Update {
  handle: number;
  written: Uint8Array[];
  size: number;
}

export function ota(host: Host, setBoot: (firmware: Firmware) => void): { close(): void } {
  let update: Update | undefined;
  let handles = 0;
  const open = (handle: number) => (update?.handle === handle ? update : undefined);
  host.handle("ota.begin", () => {
    // esp_ota_begin erases the partition as it is written (OTA_WITH_SEQUENTIAL_WRITES); one update at a time.
    update = { handle: ++handles, written: [], size: 0 };
    return update.handle;
  });
  host.handle("ota.write", (handle: number, bytes: Uint8Array) => {
    const at = open(handle);
    // esp_ota_write: ESP_ERR_INVALID_ARG without an open handle, ESP_ERR_OTA_VALIDATE_FAILED
    // for an image whose first byte is not ESP_IMAGE_HEADER_MAGIC, ESP_ERR_INVALID_SIZE past the partition.
    if (!at || (at.size === 0 && bytes.length && bytes[0] !== IMAGE_MAGIC) || at.size + bytes.length > APP_PARTITION_SIZE) {
      throw new PlatformError("write failed");
    }
    at.written.push(bytes.slice());
    at.size += bytes.length;
  });
  host.handle("ota.cancel", (handle: number) => {
    if (open(handle)) update = undefined;
  });
  host.handle("ota.complete", (handle: number) => {
    const at = open(handle);
    // esp_ota_end frees the handle whatever its result: a second end finds none (ESP_ERR_NOT_FOUND).
    if (!at) throw new PlatformError("end failed");
    update = undefined;
    let firmware: Firmware;
    try {
      firmware = readImage(Buffer.concat(at.written), host.board.id);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      host.log(`sim: ota: the image is refused: ${e.message}`);
      throw new PlatformError("end failed");
    }
    host.log(`sim: ota: ${at.size} bytes, version ${firmware.version || "(none)"}: the next boot is from it`);
    setBoot(firmware);
  });
  return { close() {} };
}
