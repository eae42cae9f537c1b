// The simulator's firmware image: what `xsock build --sim` writes and what an OTA update
// (Moddable's `ota` module, host-sim/devices/ota.ts) writes into the board's next app partition.
// It holds the same two scripts the simulator runs, in a small container that ends with a
// SHA-256 of everything before it, as ESP-IDF's app image appends one (docs/simulator.md):
//
//   offset   size  field
//   0        1     0xE9, ESP-IDF's ESP_IMAGE_HEADER_MAGIC (esp_ota_write refuses a first byte that is not it)
//   1        7     "XSOCKFW"
//   8        4     N, the body's length, little-endian
//   12       N     the body: JSON {"format": 1, "version", "board", "bridge", "app"}
//   12 + N   32    SHA-256 of bytes 0 to 12 + N
import { createHash } from "node:crypto";
import type { Firmware, Script } from "./firmware.ts";

export const IMAGE_MAGIC = 0xe9;
const TAG = "XSOCKFW";
const HEAD = 12;
const DIGEST = 32;
const FORMAT = 1;

interface Body {
  format: number;
  version: string;
  board: string;
  bridge: string;
  app: string;
}

/** The image of a built firmware for a board. */
export function writeImage(firmware: Firmware, board: string): Buffer {
  const body: Body = { format: FORMAT, version: firmware.version, board, bridge: firmware.bridge.code, app: firmware.app.code };
  const json = Buffer.from(JSON.stringify(body));
  const head = Buffer.alloc(HEAD);
  head[0] = IMAGE_MAGIC;
  head.write(TAG, 1, "latin1");
  head.writeUInt32LE(json.length, 8);
  const signed = Buffer.concat([head, json]);
  return Buffer.concat([signed, createHash("sha256").update(signed).digest()]);
}

/** An image that does not check out: esp_ota_end's ESP_ERR_OTA_VALIDATE_FAILED. */
export class ImageError extends Error {}

/** A script read back from an image: its lines map to nothing (the image has no source map). */
const script = (code: string): Script => ({ code, source: () => undefined });

/** Checks an image as esp_ota_end does (its header, its length, its digest) and reads its firmware. */
export function readImage(image: Uint8Array, board: string): Firmware {
  const bytes = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  if (bytes.length < HEAD + DIGEST || bytes[0] !== IMAGE_MAGIC || bytes.toString("latin1", 1, 8) !== TAG) throw new ImageError("not an xsock image");
  const length = bytes.readUInt32LE(8);
  if (bytes.length !== HEAD + length + DIGEST) throw new ImageError(`the image is ${bytes.length} bytes; its header says ${HEAD + length + DIGEST}`);
  const digest = createHash("sha256").update(bytes.subarray(0, HEAD + length)).digest();
  if (!digest.equals(bytes.subarray(HEAD + length))) throw new ImageError("the image's SHA-256 does not match");
  let body: Body;
  try {
    body = JSON.parse(bytes.toString("utf8", HEAD, HEAD + length)) as Body;
  } catch {
    throw new ImageError("the image's body is not JSON");
  }
  if (body.format !== FORMAT || typeof body.bridge !== "string" || typeof body.app !== "string") throw new ImageError(`not an image of format ${FORMAT}`);
  if (body.board !== board) throw new ImageError(`the image is for ${body.board}, not ${board}`);
  return { version: String(body.version), bridge: script(body.bridge), app: script(body.app) };
}
