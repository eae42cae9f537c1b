// Moddable's `time` module (modules/base/time/time.js, esp/modTime.c): it sets the board's clock,
// which Date reads. The time zone and DST offsets are kept (on the board XS's local time adds
// them; the simulator's Date does not).
import { setBoardTime, uptime } from "./bridge";

let timezone = 0;
let dst = 0;

class Time {
  /** Seconds since 1970, as modSetTime takes them (xsmcToUnsigned). */
  static set(value: number): void {
    setBoardTime(Number(value) >>> 0);
  }
  static get timezone(): number {
    return timezone;
  }
  static set timezone(seconds: number) {
    timezone = Number(seconds) | 0;
  }
  static get dst(): number {
    return dst;
  }
  static set dst(seconds: number) {
    dst = Number(seconds) | 0;
  }
  static get ticks(): number {
    return uptime() | 0; // modMilliseconds()
  }
  static delta(start: number, end?: number): number {
    return ((end === undefined ? Time.ticks : Number(end) >>> 0) - (Number(start) >>> 0)) | 0;
  }
}

export default Time;
