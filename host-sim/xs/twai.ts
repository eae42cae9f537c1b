// `xsock/can/twai-native` (drivers/can/twai/esp32/twai.c on the board), on the simulator's
// TWAI controller. Each alert delivery brings the frames the receive queue held as it went in;
// read() hands them out as twai_receive does, without a round trip.
import type { TwaiNativeOptions } from "xsock/can/twai-native";
import { EVENT, host, newId, off, on, tell, toBytes, type EventTarget } from "./bridge";

const CAN_MTU = 16;

class TwaiNative implements EventTarget {
  readonly #id = newId();
  readonly #onAlert: (alerts: number) => void;
  /** Frames delivered and not read yet, packed, from #next on. */
  #frames = new Uint8Array(0);
  #next = 0;
  #open = true;

  constructor(options: TwaiNativeOptions) {
    if (typeof options?.onAlert !== "function") throw new TypeError("TWAI needs an onAlert function");
    this.#onAlert = options.onAlert;
    const { transmit, receive, bitrate, mode, code, mask, txQueue, rxQueue } = options;
    host("twai.open", this.#id, { transmit, receive, bitrate, mode, code, mask, txQueue, rxQueue });
    on("twai", this.#id, this);
  }

  [EVENT](delivery: unknown): void {
    const [alerts, frames] = delivery as [number, Uint8Array];
    if (!this.#open) return;
    if (frames.length) {
      const left = this.#frames.subarray(this.#next);
      const all = new Uint8Array(left.length + frames.length);
      all.set(left);
      all.set(frames, left.length);
      this.#frames = all;
      this.#next = 0;
    }
    this.#onAlert(alerts);
  }

  write(frame: ArrayBuffer): boolean {
    this.#check();
    return host<boolean>("twai.write", this.#id, toBytes(frame).slice());
  }

  read(into: ArrayBuffer): boolean {
    this.#check();
    const bytes = toBytes(into);
    if (bytes.length < CAN_MTU) throw new RangeError("a frame needs 16 bytes");
    if (this.#next >= this.#frames.length) return false;
    bytes.set(this.#frames.subarray(this.#next, this.#next + CAN_MTU));
    this.#next += CAN_MTU;
    return true;
  }

  status(): number[] {
    this.#check();
    return host<number[]>("twai.status", this.#id);
  }

  start(): void {
    this.#check();
    host("twai.start", this.#id);
  }

  recover(): void {
    this.#check();
    host("twai.recover", this.#id);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    off("twai", this.#id);
    tell("twai.close", this.#id);
  }

  #check(): void {
    if (!this.#open) throw new Error("TWAI closed");
  }
}

export default TwaiNative;
