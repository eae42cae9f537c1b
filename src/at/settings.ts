// What the console keeps in flash (NVS, through Moddable's `preference`): the Wi-Fi mode and
// AP, auto-connect, the default UART, and AT+SYSSTORE itself. Set commands save when
// AT+SYSSTORE=1 (the default); a few always save, as in ESP-AT.
import Preference from "preference";

const DOMAIN = "xsock-at";

export type Setting = string | number;

export class Settings {
  /** AT+SYSSTORE: set commands save to flash. */
  get store(): boolean {
    return this.get("sysstore", 1) === 1;
  }
  set store(on: boolean) {
    this.save("sysstore", on ? 1 : 0);
  }

  get<T extends Setting>(key: string, fallback: T): T {
    const value = Preference.get(DOMAIN, key);
    return (value === undefined ? fallback : value) as T;
  }

  /** Saves to flash, whatever AT+SYSSTORE says. */
  save(key: string, value: Setting): void {
    Preference.set(DOMAIN, key, value);
  }

  /** Saves when AT+SYSSTORE=1 (or `always`). */
  keep(key: string, value: Setting, always = false): void {
    if (always || this.store) this.save(key, value);
  }

  /** AT+RESTORE: back to factory settings. */
  clear(): void {
    for (const key of Preference.keys(DOMAIN)) Preference.delete(DOMAIN, key);
  }
}
