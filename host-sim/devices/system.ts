// The board itself: restart (Moddable's `system`) and deep sleep (`xsock/deepsleep-native`), its clock (`time`), its flash (`preference`, which outlives a
// restart, as NVS does), and XS's own figures (`instrumentation`).
import type { Host } from "../host.ts";
import { PlatformError } from "../host.ts";

/** Bytes a slot takes in XS on the ESP32 (32-bit). */
export const SLOT_BYTES = 16;

type Value = string | number | boolean | Uint8Array;

/** NVS: preferences by domain and key. The simulator keeps it across restarts. */
export type Flash = Map<string, Map<string, Value>>;

export interface SystemFacts {
  /** Live slots the firmware holds, after the last delivery. */
  slots(): number;
  /** Restarts the board: a new XS machine boots the same firmware, after sleepMs (deep sleep) when given. */
  restart(sleepMs?: number): void;
}

/**
 * Instrumentation's names on a dual-core ESP32 in a debug build, in Moddable's order
 * (modules/base/instrumentation/modInstrumentation.c): map() gives the index from 1.
 */
const FIGURES = [
  "Pixels Drawn", "Frames Drawn", "Network Bytes Read", "Network Bytes Written", "Network Sockets", "Timers", "Files",
  "Poco Display List Used", "Piu Command List Used", "SPI Flash Erases", "Turns", "System Free Memory", "CPU 0", "CPU 1",
  "XS Slot Heap Used", "XS Chunk Heap Used", "XS Keys Used", "XS Garbage Collection Count", "XS Modules Loaded", "XS Stack Used", "XS Promises Settled",
] as const;

/** The board's RTC: its clock's offset from the host's, in ms. It outlives restarts. */
export interface Rtc {
  offset: number;
}

export function system(host: Host, flash: Flash, rtc: Rtc, facts: SystemFacts & { sockets(): number }): { close(): void } {
  // The call never returns: the XS machine that made it is gone.
  host.handle("system.restart", () => {
    facts.restart();
    return new Promise(() => {});
  });
  // Deep sleep: the board goes as at a restart (its sockets close), and boots after ms.
  host.handle("system.deepSleep", (ms: number) => {
    facts.restart(ms);
    return new Promise(() => {});
  });
  host.handle("clock.get", () => rtc.offset);
  host.handle("clock.set", (offset: number) => {
    rtc.offset = offset;
  });
  host.handle("instrumentation.names", () => FIGURES);
  host.handle("instrumentation.get", (name: string) => {
    switch (name) {
      case "XS Slot Heap Used":
        return facts.slots() * SLOT_BYTES;
      case "Network Sockets":
        return facts.sockets();
      default:
        return 0; // as Moddable's, for a figure nothing counts: xsnap does not report it
    }
  });

  const domain = (name: string, create = false) => {
    let d = flash.get(name);
    if (!d && create) flash.set(name, (d = new Map()));
    return d;
  };
  host.handle("preference.set", (name: string, key: string, value: Value) => {
    if (!name || !key || name.length > 15 || key.length > 15) throw new PlatformError(`bad preference "${name}"/"${key}": 1 to 15 characters each, as NVS takes them`);
    // Moddable's documented limit on the ESP32 (files.md, Preference): values of up to 4000 bytes.
    const size = typeof value === "string" ? Buffer.byteLength(value) + 1 : value instanceof Uint8Array ? value.length : 0;
    if (size > 4000) throw new PlatformError(`preference "${name}"/"${key}" is ${size} bytes: 4000 at most on the ESP32`);
    domain(name, true)!.set(key, value);
  });
  host.handle("preference.get", (name: string, key: string) => domain(name)?.get(key));
  host.handle("preference.delete", (name: string, key: string) => void domain(name)?.delete(key));
  host.handle("preference.keys", (name: string) => [...(domain(name)?.keys() ?? [])]);
  return { close() {} };
}
