// ESP-AT's power commands (Basic_AT_Commands.rst): AT+GSLP (deep sleep for a time, then a boot
// with `ready`), AT+SLEEP (the sleep mode, kept and reported) and AT+SLEEPWKCFG (the light
// sleep's wake-up GPIO).
//
// The table and its handlers are the module's own, not closures made at boot: preloaded, they
// stay in flash and cost the board's heap nothing.
import { REPLIED, type CommandTable } from "./console";
import { isInt } from "./parser";

/** What the power commands need of the board. */
export interface PowerBoard {
  /** The Wi-Fi mode (AT+CWMODE): 0 none, 1 station, 2 SoftAP, 3 both. */
  wifiMode(): number;
  /** Once the UART has sent what it holds: deep sleep for ms, then a boot (0: a restart now). False where it cannot. */
  deepSleep(ms: number): boolean;
}

/** The ESP32's GPIOs (0 to 39), which the wake-up pin must be one of. */
const MAX_GPIO = 39;
/** The longest deep sleep the doc gives: 2^31 - 1 ms. */
const MAX_SLEEP_MS = 0x7fffffff;

let board: PowerBoard;
/** ESP-IDF's default power save is modem sleep (WIFI_PS_MIN_MODEM): mode 1. */
let mode = 1;

const SLEEP_COMMANDS: CommandTable = {
  "+GSLP": {
    set: (at, [ms, ...rest]) => {
      if (rest.length || !isInt(ms, 0, MAX_SLEEP_MS)) return false;
      if (!board.deepSleep(ms)) return false;
      // <time>, then OK, as the doc's response gives them (they go out before the sleep); then nothing until `ready`.
      at.print(String(ms));
      at.ok();
      return REPLIED;
    },
  },
  "+SLEEP": {
    query: (at) => at.print(`+SLEEP:${mode}`),
    set: (_at, [sleep, ...rest]) => {
      if (rest.length || !isInt(sleep, 0, 3)) return false;
      const wifi = board.wifiMode();
      // Modem sleep (1, 3) in station mode, or taken without effect with Wi-Fi off; light sleep (2) without the SoftAP.
      if ((sleep === 1 || sleep === 3) && wifi !== 0 && wifi !== 1) return false;
      if (sleep === 2 && wifi & 2) return false;
      mode = sleep;
    },
  },
  // <wakeup source> 2, GPIO, alone: 0 and 1 are reserved, not supported, as the doc says.
  "+SLEEPWKCFG": {
    set: (_at, [source, gpio, level, ...rest]) => {
      if (rest.length || source !== 2 || !isInt(gpio, 0, MAX_GPIO) || !isInt(level, 0, 1)) return false;
    },
  },
};

export function sleepCommands(powerBoard: PowerBoard): CommandTable {
  board = powerBoard;
  mode = 1;
  return SLEEP_COMMANDS;
}
