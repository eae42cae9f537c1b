// ESP-AT's AT+CIPSTAMAC and AT+CIPAPMAC: the station's and the SoftAP's MAC, queried and set
// (esp_wifi_set_mac, through the Wi-Fi driver), saved to flash when AT+SYSSTORE=1 and applied
// again at boot.
import type { CommandSpec, CommandTable } from "./console";
import { isMac } from "./parser";
import type { Settings } from "./settings";
import type { WifiControl } from "xsock/wifi-control";

export interface MacInterfaces {
  /** The station's MAC as the driver reports it. */
  readonly mac: string;
  readonly wifi?: WifiControl;
}

type Side = "station" | "softAp";
const KEYS: Record<Side, string> = { station: "stamac", softAp: "apmac" };

/**
 * What the Wi-Fi doc's notes allow: not all zeros or all ones, bit 0 of the first byte clear
 * (not a multicast address), and not the other interface's MAC.
 */
function allowed(mac: string, other: string): boolean {
  return mac !== "00:00:00:00:00:00" && mac !== "ff:ff:ff:ff:ff:ff" && !(parseInt(mac.slice(0, 2), 16) & 1) && mac !== other;
}

/** At boot: the MACs flash holds, on the interfaces the Wi-Fi mode has. */
export function applySavedMacs(netif: MacInterfaces, settings: Settings): void {
  for (const side of ["station", "softAp"] as const) {
    const mac = settings.get(KEYS[side], "");
    if (mac) netif.wifi?.setMac(side, mac);
  }
}

/** `softApMac` is the SoftAP's MAC now (its interface's, or the one it will have). */
export function macCommands(netif: MacInterfaces, settings: Settings, softApMac: () => string): CommandTable {
  const read = (side: Side) => (side === "station" ? netif.mac : softApMac());
  const command = (side: Side, name: string): CommandSpec => ({
    query: (at) => at.print(`${name}:"${read(side)}"`),
    set: (_at, [mac, ...rest]) => {
      if (rest.length || !isMac(mac)) return false;
      const lower = mac.toLowerCase();
      if (!allowed(lower, read(side === "station" ? "softAp" : "station")) || !netif.wifi?.setMac(side, lower)) return false;
      settings.keep(KEYS[side], lower);
    },
  });
  return { "+CIPSTAMAC": command("station", "+CIPSTAMAC"), "+CIPAPMAC": command("softAp", "+CIPAPMAC") };
}
