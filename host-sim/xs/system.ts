// Moddable's `system` module on esp32 (modules/io/system/system.js): no exports; it sets the
// global System.
import Timer from "./timer";
import Net from "./net";
import { host } from "./bridge";

class System {
  static deepSleep(): never {
    throw new Error("deepSleep: the simulator has no deep sleep");
  }
  /** As esp_restart(): it does not return; the board boots again. */
  static restart(): never {
    host("system.restart");
    throw new Error("the board did not restart");
  }
  static resolve(name: string, callback: (name: string, address?: string) => void): void {
    Net.resolve(name, callback);
  }
  static setTimeout(callback: () => void, delay: number) {
    return Timer.set(callback, delay);
  }
  static clearTimeout(id: Timer) {
    Timer.clear(id);
  }
  static setInterval(callback: () => void, delay: number) {
    return Timer.repeat(callback, delay);
  }
  static clearInterval(id: Timer) {
    Timer.clear(id);
  }
}

(globalThis as Record<string, unknown>).System = System;
