// AT+CWCOUNTRY (Wi-Fi_AT_Commands.rst): the country code and the channels the radio may use.
// Moddable's `wifi` module has no country setting (ESP-IDF's esp_wifi_set_country), so the
// console applies the channels itself: AT+CWLAP lists only APs on them, and the SoftAP starts only
// on one of them. Not saved, as in ESP-AT.
//
// The table and its handlers are the module's own, not closures made at boot: preloaded, they
// stay in flash and cost the board's heap nothing.
import type { CommandTable } from "./console";
import { isInt } from "./parser";

/** ESP-AT's factory setting (factory_param_data.csv): "CN", channels 1 to 13. */
let policy = 0;
let code = "CN";
let start = 1;
let count = 13;

/** Whether the country's channels include this one. */
export const allowedChannel = (channel: number): boolean => channel >= start && channel < start + count;

const COUNTRY_COMMANDS: CommandTable = {
  "+CWCOUNTRY": {
    query: (at) => at.print(`+CWCOUNTRY:${policy},"${code}",${start},${count}`),
    set: (_at, [newPolicy, newCode, newStart, newCount, ...rest]) => {
      if (rest.length || !isInt(newPolicy, 0, 1) || typeof newCode !== "string" || !/^[0-9A-Za-z]{1,3}$/.test(newCode)) return false;
      if (!isInt(newStart, 1, 14) || !isInt(newCount, 1, 15 - newStart)) return false;
      [policy, code, start, count] = [newPolicy, newCode, newStart, newCount];
    },
  },
};

export function countryCommands(): CommandTable {
  [policy, code, start, count] = [0, "CN", 1, 13];
  return COUNTRY_COMMANDS;
}
