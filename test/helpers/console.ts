// A fresh simulated board for each test, with its console over the pty (serialport), echo off.
import assert from "node:assert/strict";
import { startSim, type SimProcess } from "./sim.ts";
import { UartClient } from "./uart.ts";

export const JOINED = "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n";

export interface ConsoleSession {
  sim: SimProcess;
  uart: UartClient;
}

/** Each test gets a board; with `join`, it has joined the default AP, as links need. */
export function withConsole(options: { args?: string[]; join?: boolean } = {}): ConsoleSession {
  const session = {} as ConsoleSession;
  beforeEach(async () => {
    session.sim = await startSim(options.args ?? []);
    session.uart = await UartClient.open(session.sim.uart);
    await session.uart.expect("ready\r\n");
    assert.equal(await session.uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    if (options.join !== false) assert.equal(await session.uart.command('AT+CWJAP="xsock-sim",""'), JOINED);
  });
  afterEach(async () => {
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
