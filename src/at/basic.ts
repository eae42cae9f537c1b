// Basic AT commands: AT, ATE0, ATE1, AT+GMR, AT+CMD?, AT+RST, AT+RESTORE, AT+SYSRAM,
// AT+SYSSTORE, AT+UART_CUR and AT+UART_DEF.
import { onOff, type AtConsole, type CommandTable } from "./console";
import { isInt, type Param } from "./parser";
import type { Settings } from "./settings";
import { AT_VERSION, BUILD_DATE, XSOCK_VERSION } from "../version";

export interface DeviceInfo {
  /** The chip as ESP-AT names it in AT+GMR: ESP32, ESP32-S3, ... */
  chip: string;
  /** The board id, the Moddable target name. */
  board: string;
  /** The firmware's version, when the build's config names one (`version=...`); else xsock's. */
  version?: string;
}

/** What the basic commands need of the board. */
export interface Board {
  /** Restarts once the UART has sent what it holds (the OK); false where the platform cannot restart. */
  restart(): boolean;
  /** Free bytes of XS's heap now. */
  freeHeap(): number;
  /** XS's heap, in bytes. */
  heapSize: number;
  /** The console UART's baud rate, and a change of it (after OK has gone out). */
  baud: number;
  /** The board's own console baud rate, before any AT+UART_DEF. */
  defaultBaud: number;
  setBaud(baud: number): void;
}

/** +UART_CUR's fields: xsock's UART is 8 data bits, 1 stop bit, no parity. */
export interface UartSetting {
  baud: number;
  flow: number;
}

/** Parses `<baud>,<databits>,<stopbits>,<parity>,<flow control>`; only 8N1 framing. */
function uartSetting(params: Param[]): UartSetting | undefined {
  const [baud, data, stop, parity, flow, ...rest] = params;
  if (rest.length || !isInt(baud, 80, 5000000) || data !== 8 || stop !== 1 || parity !== 0 || !isInt(flow, 0, 3)) return undefined;
  return { baud, flow };
}

/**
 * AT+RFPOWER as ESP-AT documents it for a chip: `wifi` maps a set value (40 to 84) to the one
 * `?` then reports, and `ble` is the BLE powers' [lowest, highest, default]. The ESP32 has
 * eight Wi-Fi levels and BLE 0 to 7; the ESP32-C3 (and, by ESP-IDF's ranges, the S3) report
 * the value set, BLE 0 to 15.
 */
export function rfPowerRange(chip: string): { wifi: (set: number) => number; ble: [number, number, number] } {
  if (chip === "ESP32") {
    // [40,43] reads 34; from 44 up, the highest of these at or below the value set.
    const levels = [78, 72, 66, 60, 56, 52, 44];
    return { wifi: (set) => levels.find((level) => set >= level) ?? 34, ble: [0, 7, 5] };
  }
  return { wifi: (set) => set, ble: [0, 15, 15] };
}

export function basicCommands(device: DeviceInfo, board: Board, settings: Settings, table: CommandTable): CommandTable {
  let flow = settings.get<number>("uartflow", 0);
  let lowest = Infinity;
  const radio = rfPowerRange(device.chip);
  let rfPower = [radio.wifi(84), radio.ble[2], radio.ble[2], radio.ble[2]];
  const describe = (name: string, at: AtConsole, baud: number, f: number) => at.print(`${name}:${baud},8,1,0,${f}`);
  return {
    "": { execute: () => {} },
    E0: { execute: (at: AtConsole) => void (at.echo = false) },
    E1: { execute: (at: AtConsole) => void (at.echo = true) },
    "+GMR": {
      execute: (at: AtConsole) => {
        at.print(`AT version:${AT_VERSION}(xsock-${device.version ?? XSOCK_VERSION} - ${device.chip} - ${BUILD_DATE})`);
        at.print(`SDK version:xsock ${XSOCK_VERSION} (Moddable XS)`);
        at.print(`compile time(xsock):${BUILD_DATE}`);
        at.print(`Bin version:xsock-${device.version ?? XSOCK_VERSION}(${device.board})`);
      },
    },
    "+CMD": {
      query: (at: AtConsole) => {
        Object.keys(table).forEach((name, i) => {
          const spec = table[name];
          const has = (kind: keyof typeof spec) => (spec[kind] ? 1 : 0);
          at.print(`+CMD:${i},"AT${name}",${has("test")},${has("query")},${has("set")},${has("execute")}`);
        });
      },
    },
    "+RST": { execute: () => board.restart() },
    "+RESTORE": {
      execute: () => {
        settings.clear();
        return board.restart();
      },
    },
    "+SYSRAM": {
      query: (at: AtConsole) => {
        const free = board.freeHeap();
        lowest = Math.min(lowest, free);
        at.print(`+SYSRAM:${free},${lowest}`);
      },
      // <caps>: ESP-IDF's MALLOC_CAP_* bits, checked, not applied: XS's heap answers for them all.
      set: (at: AtConsole, [caps, ...rest]: Param[]) => {
        if (rest.length || !isInt(caps, 1, 0xffffffff)) return false;
        const free = board.freeHeap();
        lowest = Math.min(lowest, free);
        at.print(`+SYSRAM:${free},${free},${lowest},${board.heapSize}`);
      },
    },
    "+SYSLOG": onOff("+SYSLOG", (at) => at.syslog, (at, on) => void (at.syslog = on)),
    // Transmit power in 0.25 dBm, then the three BLE powers, as the board's chip has them. Kept and reported.
    "+RFPOWER": {
      query: (at: AtConsole) => at.print(`+RFPOWER:${rfPower.join(",")}`),
      set: (_at: AtConsole, params: Param[]) => {
        const [wifi, ...ble] = params;
        if (params.length > 4 || !isInt(wifi, 40, 84) || !ble.every((p) => p === undefined || isInt(p, radio.ble[0], radio.ble[1]))) return false;
        rfPower = [radio.wifi(wifi), ...rfPower.slice(1).map((old, i) => (ble[i] as number | undefined) ?? old)];
      },
    },
    "+SYSSTORE": onOff("+SYSSTORE", () => settings.store, (_at, on) => void (settings.store = on)),
    "+UART_CUR": {
      query: (at: AtConsole) => describe("+UART_CUR", at, board.baud, flow),
      set: (_at: AtConsole, params: Param[]) => {
        const setting = uartSetting(params);
        if (!setting) return false;
        flow = setting.flow;
        board.setBaud(setting.baud);
      },
    },
    "+UART_DEF": {
      query: (at: AtConsole) => describe("+UART_DEF", at, settings.get("uartbaud", board.defaultBaud), settings.get("uartflow", 0)),
      set: (_at: AtConsole, params: Param[]) => {
        const setting = uartSetting(params);
        if (!setting) return false;
        settings.save("uartbaud", setting.baud); // always saved, whatever AT+SYSSTORE says
        settings.save("uartflow", setting.flow);
        flow = setting.flow;
        board.setBaud(setting.baud);
      },
    },
  };
}
