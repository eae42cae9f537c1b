// Basic AT commands: AT, ATE0, ATE1, AT+GMR.
import type { AtConsole, CommandTable } from "./console";
import { AT_VERSION, BUILD_DATE, XSOCK_VERSION } from "../version";

export interface DeviceInfo {
  /** The chip as ESP-AT names it in AT+GMR: ESP32, ESP32-S3, ... */
  chip: string;
  /** The board id, the Moddable target name. */
  board: string;
}

export function basicCommands(device: DeviceInfo): CommandTable {
  return {
    "": { execute: () => {} },
    E0: { execute: (at: AtConsole) => void (at.echo = false) },
    E1: { execute: (at: AtConsole) => void (at.echo = true) },
    "+GMR": {
      execute: (at: AtConsole) => {
        at.print(`AT version:${AT_VERSION}(xsock-${XSOCK_VERSION} - ${device.chip} - ${BUILD_DATE})`);
        at.print(`SDK version:xsock ${XSOCK_VERSION} (Moddable XS)`);
        at.print(`compile time(xsock):${BUILD_DATE}`);
        at.print(`Bin version:${AT_VERSION}(${device.board})`);
      },
    },
  };
}
