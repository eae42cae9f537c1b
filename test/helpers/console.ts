// A fresh board for each test, with its console over serialport, echo off: a simulated board
// (the xsock/sim API) on a pty, or the real one on TEST_PORT, which AT+RESTORE brings back to
// its defaults.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startSim, type SimBoard, type StartOptions } from "xsock/sim";
import { AP, BOARD_BAUD, BOARD_PORT, JOIN } from "./target.ts";
import { UartClient } from "./uart.ts";

/** How long a boot may take: a board restarts slower than the simulator, and the simulator boots slower on a loaded machine. */
export const BOOT_MS = 15000;

export const JOINED = "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n";

export interface ConsoleSession {
  /** The simulator, unless the suites run on a board. */
  sim?: SimBoard;
  uart: UartClient;
  /** The board's address, once it has joined the AP. */
  ip: string;
}

/**
 * A board that has just booted, its console open and its `ready` still to come: a new
 * simulator, or the board on TEST_PORT after AT+RESTORE (which forgets what tests saved).
 */
export async function openBoard(options: StartOptions = {}): Promise<{ sim?: SimBoard; uart: UartClient }> {
  if (!BOARD_PORT) {
    const sim = await startSim({ ...options, uart: "pty" });
    return { sim, uart: await UartClient.open(sim.uart.path) };
  }
  if (!AP.ssid) throw new Error("TEST_SSID names the AP the board joins (xsock test --ssid)");
  const uart = await UartClient.open(BOARD_PORT, BOARD_BAUD);
  await uart.write("AT+RESTORE\r\n");
  await uart.expect(/OK\r\n/, 5000);
  return { uart };
}

/**
 * Each test gets a board; with `join`, it has joined the AP, as links need. Simulator
 * options (`sim`) make a suite the simulator's own: on a board it is skipped.
 */
export function withConsole(options: { sim?: StartOptions; join?: boolean } = {}): ConsoleSession {
  const session = {} as ConsoleSession;
  beforeEach(async function () {
    if (BOARD_PORT && options.sim) this.skip();
    Object.assign(session, await openBoard(options.sim));
    await session.uart.expect("ready\r\n", BOOT_MS);
    assert.equal(await session.uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    if (options.join === false) return;
    assert.equal(await session.uart.command(JOIN, 20000), JOINED);
    session.ip = /\+CIFSR:STAIP,"([^"]+)"/.exec(await session.uart.command("AT+CIFSR"))![1];
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed" && session.sim) console.log(`--- simulator log ---\n${session.sim.log.slice(-3000)}`);
    await session.uart?.close();
    await session.sim?.stop();
    session.sim = undefined;
  });
  return session;
}

export const until = async (check: () => boolean, what: string, ms = 10000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/**
 * Puts the console in passthrough to a peer (AT+CIPMODE=1, CIPSTART, CIPSEND) and moves 64 KB of
 * random bytes each way at once; resolves with both once every byte has arrived (`uart.pending`
 * then holds the peer's), the link still in passthrough.
 */
export async function passthrough64k(
  uart: UartClient,
  p: { port: number; conns: { write(b: Buffer): unknown }[]; heard: () => Buffer },
  host: string,
  ms = 20000,
): Promise<{ up: Buffer; down: Buffer }> {
  assert.equal(await uart.command("AT+CIPMODE=1"), "\r\nOK\r\n");
  assert.equal(await uart.command(`AT+CIPSTART="TCP","${host}",${p.port}`), "CONNECT\r\n\r\nOK\r\n");
  await uart.write("AT+CIPSEND\r\n");
  assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
  const up = randomBytes(64 * 1024);
  const down = randomBytes(64 * 1024);
  await until(() => p.conns.length === 1, "the connection");
  p.conns[0].write(down);
  for (let at = 0; at < up.length; at += 4096) await uart.write(up.subarray(at, at + 4096));
  await until(() => p.heard().length >= up.length, "64 KB at the peer", ms);
  await until(() => uart.pending.length >= down.length, "64 KB on the UART", ms);
  return { up, down };
}

/**
 * Leaves passthrough as ESP-AT asks: silence, `+++` alone, then a second before the next command.
 * Nothing shows that passthrough has ended (the guard time is 20 ms; the rest is room for a loaded
 * machine, where the board may see `+++` late, and a command within its guard time would make it data).
 */
export async function leavePassthrough(uart: UartClient): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
  await uart.write("+++");
  await new Promise((r) => setTimeout(r, 1000));
}
