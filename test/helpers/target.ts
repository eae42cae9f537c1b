// Where the console suites run: on `xsock sim` (the default), or on a real board whose
// console UART is the serial port TEST_PORT names (`xsock test --port PORT` sets it).
import { networkInterfaces } from "node:os";

/** The board's serial port, when the suites run on a board. */
export const BOARD_PORT = process.env.TEST_PORT || undefined;
export const BOARD_BAUD = Number(process.env.TEST_BAUD || 115200);

/** The first IPv4 address of this machine that is not loopback: where a board on the LAN reaches it. */
function lanAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
}

/** This machine's address as the board reaches it: loopback for the simulator, TEST_HOST_IP (or the LAN address) for a board. */
export const PEER_HOST = process.env.TEST_HOST_IP || (BOARD_PORT ? (lanAddress() ?? "127.0.0.1") : "127.0.0.1");
/** Where the tests' peers listen: every interface when a board must reach them. */
export const BIND_HOST = BOARD_PORT ? "0.0.0.0" : "127.0.0.1";

/** The AP the board joins: the simulator's open AP, or TEST_SSID and TEST_PASSWORD. */
export const AP = BOARD_PORT ? { ssid: process.env.TEST_SSID ?? "", password: process.env.TEST_PASSWORD ?? "" } : { ssid: "xsock-sim", password: "" };
export const JOIN = `AT+CWJAP="${AP.ssid}","${AP.password}"`;

/** Skips what only the simulator can do (its APs, options, log, timing) when the suites run on a board. */
export function simOnly(ctx: Mocha.Context): void {
  if (BOARD_PORT) ctx.skip();
}

/** A regular expression that matches the text as it is. */
export const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
