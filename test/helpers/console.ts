// A fresh simulated board for each test (the xsock/sim API), with its console on a pty that a
// serialport client drives, echo off.
import assert from "node:assert/strict";
import { startSim, type SimBoard, type StartOptions } from "xsock/sim";
import { UartClient } from "./uart.ts";

export const JOINED = "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n";

export interface ConsoleSession {
  sim: SimBoard;
  uart: UartClient;
}

/** Each test gets a board; with `join`, it has joined the default AP, as links need. */
export function withConsole(options: { sim?: StartOptions; join?: boolean } = {}): ConsoleSession {
  const session = {} as ConsoleSession;
  beforeEach(async () => {
    session.sim = await startSim({ ...options.sim, uart: "pty" });
    session.uart = await UartClient.open(session.sim.uart.path);
    await session.uart.expect("ready\r\n");
    assert.equal(await session.uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    if (options.join !== false) assert.equal(await session.uart.command('AT+CWJAP="xsock-sim",""'), JOINED);
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed") console.log(`--- simulator log ---\n${session.sim.log.slice(-3000)}`);
    await session.uart.close();
    await session.sim.stop();
  });
  return session;
}

export const until = async (check: () => boolean, what: string, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
