// AT+CWRECONNCFG (Wi-Fi_AT_Commands.rst): how often, and how many times, the station tries to
// join its AP again after losing it. The interval is CWJAP's <reconn_interval>; both are saved
// when AT+SYSSTORE=1 and applied at boot.
//
// The table and its handlers are the module's own, not closures made at boot: preloaded, they
// stay in flash and cost the board's heap nothing.
import type { CommandTable } from "./console";
import { isInt } from "./parser";
import type { Settings } from "./settings";
import type { Station } from "./wifi";

let station: Station;
let settings: Settings;

const RECONNCFG_COMMANDS: CommandTable = {
  "+CWRECONNCFG": {
    query: (at) => at.print(`+CWRECONNCFG:${station.reconnectInterval},${station.wifi?.reconnectCount ?? 0}`),
    set: (_at, [interval, count, now, ...rest]) => {
      if (rest.length || !isInt(interval, 0, 7200) || !isInt(count, 0, 1000) || (now !== undefined && !isInt(now, 0, 1))) return false;
      if (!station.wifi) return false;
      station.reconnectInterval = interval;
      station.wifi.reconnectCount = count;
      settings.keep("reconnintv", interval);
      settings.keep("reconncnt", count);
      // <reconnect_now>: only while the station has no address, as the doc says.
      if (now === 1 && !station.online && station.mode & 1 && station.ssid) void station.connect();
    },
  },
};

/** The command; the saved setting applies from now on. */
export function reconnCfgCommands(consoleStation: Station, consoleSettings: Settings): CommandTable {
  station = consoleStation;
  settings = consoleSettings;
  if (station.wifi) {
    station.reconnectInterval = settings.get("reconnintv", station.reconnectInterval);
    station.wifi.reconnectCount = settings.get("reconncnt", 0);
  }
  return RECONNCFG_COMMANDS;
}
