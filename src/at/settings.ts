// What the console keeps in flash (NVS, through Moddable's `preference`): the Wi-Fi mode and
// AP, auto-connect, the default UART, and AT+SYSSTORE itself. Set commands save when
// AT+SYSSTORE=1 (the default); a few always save, as in ESP-AT.
import Preference from "preference";

const DOMAIN = "xsock-at";

export type Setting = string | number;

export class Settings {
  /** A `_CUR` or `_DEF` spelling in progress: it decides instead of AT+SYSSTORE. */
  private override?: boolean;
  /** What set commands changed since boot: queries read it, as ESP-AT's read RAM. */
  private readonly ram = new Map<string, Setting>();

  /** AT+SYSSTORE: set commands save to flash. */
  get store(): boolean {
    return this.override ?? this.get("sysstore", 1) === 1;
  }
  set store(on: boolean) {
    this.save("sysstore", on ? 1 : 0);
  }

  /** The value now: set since boot, or else from flash, or else the fallback. */
  get<T extends Setting>(key: string, fallback: T): T {
    const value = this.ram.get(key) ?? Preference.get(DOMAIN, key);
    return (value === undefined ? fallback : value) as T;
  }

  /** Sets and saves to flash, whatever AT+SYSSTORE says. */
  save(key: string, value: Setting): void {
    this.ram.set(key, value);
    Preference.set(DOMAIN, key, value);
  }

  /** Sets, and saves when AT+SYSSTORE=1. */
  keep(key: string, value: Setting): void {
    if (this.store) this.save(key, value);
    else this.ram.set(key, value);
  }

  /** Runs a command as if AT+SYSSTORE were `save`. */
  storing<T>(save: boolean, fn: () => T): T {
    this.override = save;
    try {
      return fn();
    } finally {
      this.override = undefined;
    }
  }

  /** AT+RESTORE: back to factory settings. */
  clear(): void {
    for (const key of Preference.keys(DOMAIN)) Preference.delete(DOMAIN, key);
  }
}
