// The console's board commands over the pty: RST and RESTORE (the simulator restarts the
// firmware), SYSSTORE and what flash keeps across a restart, UART_CUR on the line's pacing,
// SYSRAM? and CMD?.
import assert from "node:assert/strict";
import { JOINED, withConsole } from "../helpers/console.ts";
import type { UartClient } from "../helpers/uart.ts";
import { simOnly } from "../helpers/target.ts";

/** AT+RST: OK, then the board boots again: `ready`, and echo is back on. */
async function restart(uart: UartClient, command = "AT+RST"): Promise<string> {
  assert.equal(await uart.command(command), "\r\nOK\r\n");
  await uart.expect("\r\nready\r\n");
  assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n", "echo is on after a restart");
  return uart.command("AT+CWJAP?");
}

describe("console board commands", function () {
  before(function () {
    simOnly(this); // the simulator's flash, pacing and heap figures
  });
  this.timeout(20000);
  const session = withConsole({ join: false });

  it("restarts on AT+RST, and auto-joins the AP that flash keeps (SYSSTORE, CWAUTOCONN)", async () => {
    const { uart } = session;
    assert.equal(await uart.command("AT+SYSSTORE?"), "+SYSSTORE:1\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+SYSSTORE=0"), "\r\nOK\r\n");
    assert.equal(await uart.command('AT+CWJAP="xsock-sim",""'), JOINED);
    assert.equal(await restart(uart), "No AP\r\n\r\nOK\r\n", "SYSSTORE=0: the AP was not saved");
    assert.equal(await uart.command("AT+SYSSTORE?"), "+SYSSTORE:0\r\n\r\nOK\r\n", "SYSSTORE itself is kept");

    assert.equal(await uart.command("AT+SYSSTORE=1"), "\r\nOK\r\n");
    assert.equal(await uart.command('AT+CWJAP="xsock-sim",""'), JOINED);
    assert.equal(await uart.command("AT+RST"), "\r\nOK\r\n");
    // The saved AP is joined at boot, announced after ready.
    assert.equal(await uart.expect("WIFI GOT IP\r\n"), "\r\nready\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n");
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CWAUTOCONN?"), "+CWAUTOCONN:1\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CWAUTOCONN=0"), "\r\nOK\r\n");
    assert.equal(await restart(uart), "No AP\r\n\r\nOK\r\n", "CWAUTOCONN=0: no join at boot");
    assert.equal(await uart.command("AT+CWJAP"), JOINED, "the saved AP is still there to join");

    // The AT 1.x spellings: _CUR is not saved, _DEF is.
    assert.equal(await uart.command("AT+CWAUTOCONN=1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+RESTORE"), "\r\nOK\r\n");
    await uart.expect("\r\nready\r\n");
    assert.equal(await uart.command("AT+CWJAP_CUR?"), "AT+CWJAP_CUR?\r\nNo AP\r\n\r\nOK\r\n", "RESTORE forgets the AP");
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    assert.equal(await uart.command('AT+CWJAP_CUR="xsock-sim",""'), JOINED);
    assert.equal(await restart(uart), "No AP\r\n\r\nOK\r\n");
    assert.equal(await uart.command('AT+CWJAP_DEF="xsock-sim",""'), JOINED);
    assert.equal(await uart.command("AT+RST"), "\r\nOK\r\n");
    await uart.expect("WIFI GOT IP\r\n");
  });

  it("switches the line's baud with UART_CUR: the simulator paces at it", async () => {
    const { uart } = session;
    assert.equal(await uart.command("AT+UART_CUR?"), "+UART_CUR:115200,8,1,0,0\r\n\r\nOK\r\n");
    for (const bad of ["AT+UART_CUR=79,8,1,0,0", "AT+UART_CUR=9600,7,1,0,0", "AT+UART_CUR=9600,8,2,0,0", "AT+UART_CUR=9600,8,1,1,0", "AT+UART_CUR=9600,8,1,0,4", "AT+UART_CUR=9600"])
      assert.equal(await uart.command(bad), "\r\nERROR\r\n", bad);
    // The console reads the next command only once the line runs at the new rate.
    assert.equal(await uart.command("AT+UART_CUR=9600,8,1,0,3"), "\r\nOK\r\n");
    // AT+CMD? answers about 1.7 KB: at 9600 baud (960 bytes a second), well over a second.
    const start = Date.now();
    const list = await uart.command("AT+CMD?", 10000);
    const seconds = (Date.now() - start) / 1000;
    const floor = (list.length * 10) / 9600;
    assert.ok(seconds >= floor * 0.9, `${list.length} bytes took ${seconds} s; 9600 baud needs ${floor.toFixed(2)} s`);
    assert.equal(await uart.command("AT+UART_CUR?"), "+UART_CUR:9600,8,1,0,3\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+UART_DEF?"), "+UART_DEF:115200,8,1,0,0\r\n\r\nOK\r\n", "CUR is not saved");
  });

  it("reports XS's free heap with SYSRAM? and every command with CMD?", async () => {
    const { uart } = session;
    const ram = /^\+SYSRAM:(\d+),(\d+)\r\n\r\nOK\r\n$/.exec(await uart.command("AT+SYSRAM?"));
    assert.ok(ram, "+SYSRAM:<free>,<lowest>");
    const [free, lowest] = [Number(ram[1]), Number(ram[2])];
    const board = 4928 * 16 + 78848; // esp32/nodemcu's XS heap and chunk, in bytes
    assert.ok(free > 0 && free < board && lowest <= free, `free ${free}, lowest ${lowest}`);
    const again = /^\+SYSRAM:(\d+),(\d+)/.exec(await uart.command("AT+SYSRAM?"))!;
    assert.ok(Number(again[2]) <= lowest, "the lowest only goes down");

    const commands = [...(await uart.command("AT+CMD?")).matchAll(/\+CMD:(\d+),"(AT[^"]*)",([01]),([01]),([01]),([01])\r\n/g)];
    const names = commands.map((m) => m[2]);
    for (const name of ["AT", "ATE0", "AT+GMR", "AT+RST", "AT+SYSRAM", "AT+UART_CUR", "AT+SYSSTORE", "AT+CWMODE", "AT+CWJAP", "AT+CWJAP_CUR", "AT+CWJAP_DEF", "AT+CWQAP", "AT+CWLAP", "AT+CWAUTOCONN", "AT+CIPSTA", "AT+CIFSR", "AT+CIPMUX", "AT+CIPSTART", "AT+CIPSEND", "AT+CIPSENDEX", "AT+CIPCLOSE", "AT+CIPSTATUS", "AT+CIPDOMAIN", "AT+PING", "AT+CIPSERVER", "AT+CIPMODE", "AT+CIPRECVDATA"])
      assert.ok(names.includes(name), `${name} in AT+CMD?`);
    assert.deepEqual(commands.map((m) => Number(m[1])), [...commands.keys()], "indexes count from 0");
    const cwjap = commands.find((m) => m[2] === "AT+CWJAP")!;
    assert.deepEqual(cwjap.slice(3), ["0", "1", "1", "1"], "CWJAP: query, set and execute");
  });
});
