// esp-at's Basic AT Commands page (docs/en/AT_Command_Set/Basic_AT_Commands.rst): each example
// and response template of a command the console claims in AT+CMD?, replayed over the pty. Each
// test is named after the doc section, and checks the exact reply. (AT+RFPOWER's tables are in
// at-doc-tcpip.test.ts.)
import assert from "node:assert/strict";
import { BOOT_MS, withConsole } from "../helpers/console.ts";
import { simOnly } from "../helpers/target.ts";
import type { UartClient } from "../helpers/uart.ts";

const OK = "\r\nOK\r\n";
const ERROR = "\r\nERROR\r\n";

describe("esp-at Basic AT Commands, as documented", function () {
  this.timeout(60000);
  const session = withConsole({ join: false });
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  /** Sends a command whose OK comes before the board restarts, and waits for its ready. */
  const restarting = async (line: string) => {
    await uart.write(`${line}\r\n`);
    assert.equal(await uart.expect("ready\r\n", BOOT_MS), `${OK}\r\nready\r\n`);
  };

  it("AT: Test AT Startup", async () => {
    assert.equal(await uart.command("AT"), OK);
  });

  it("AT+RST: Restart a Module", async () => {
    await restarting("AT+RST");
    assert.equal(await uart.command("AT"), `AT\r\n${OK}`, "echo is on again after the restart");
  });

  it("AT+GMR: Check Version Information", async () => {
    // <AT version info>, <SDK version info>, <compile time>, Bin version:<Bin version>(<module_name>), the Bin version 32 bytes at most.
    const reply = await uart.command("AT+GMR");
    const m = /^AT version:\d+\.\d+\.\d+\.\d+\([^\r\n]* - ESP32 - [^\r\n]+\)\r\nSDK version:[^\r\n]+\r\ncompile time\([^)\r\n]+\):[^\r\n]+\r\nBin version:([^(\r\n]+)\(([^)\r\n]+)\)\r\n\r\nOK\r\n$/.exec(reply);
    assert.ok(m, reply);
    assert.ok(m[1].length <= 32, m[1]);
  });

  it("AT+CMD: List all AT commands and types supported in current firmware", async () => {
    const reply = await uart.command("AT+CMD?");
    assert.ok(reply.endsWith(`\r\n${OK}`), reply);
    const lines = reply.slice(0, -OK.length - 2).split("\r\n");
    lines.forEach((line, i) => assert.match(line, new RegExp(`^\\+CMD:${i},"AT[^"]*",[01],[01],[01],[01]$`)));
    assert.ok(lines.includes('+CMD:0,"AT",0,0,0,1'), "AT: execute only");
  });

  it("ATE: Configure AT Commands Echoing", async () => {
    // The session turned echo off: ATE1 is not echoed, the next command is.
    assert.equal(await uart.command("ATE1"), OK);
    assert.equal(await uart.command("AT"), `AT\r\n${OK}`);
    assert.equal(await uart.command("ATE0"), `ATE0\r\n${OK}`);
    assert.equal(await uart.command("AT"), OK);
  });

  it("AT+RESTORE: Restore Factory Default Settings", async function () {
    simOnly(this); // it forgets the board's saved AP
    assert.equal(await uart.command("AT+CWMODE=3"), OK);
    assert.equal(await uart.command("AT+SYSMSG=2"), OK);
    await restarting("AT+RESTORE");
    assert.equal(await uart.command("ATE0"), `ATE0\r\n${OK}`);
    assert.equal(await uart.command("AT+CWMODE?"), `+CWMODE:1\r\n${OK}`);
    assert.equal(await uart.command("AT+SYSMSG?"), `+SYSMSG:0\r\n${OK}`);
  });

  it("AT+UART_CUR: Current UART Configuration, Not Saved in Flash", async () => {
    assert.equal(await uart.command("AT+UART_CUR=115200,8,1,0,3"), OK);
    assert.equal(await uart.command("AT+UART_CUR?"), `+UART_CUR:115200,8,1,0,3\r\n${OK}`);
    assert.equal(await uart.command("AT+UART_DEF?"), `+UART_DEF:115200,8,1,0,0\r\n${OK}`, "not saved");
  });

  it("AT+UART_DEF: Default UART Configuration, Saved in Flash", async () => {
    assert.equal(await uart.command("AT+UART_DEF=115200,8,1,0,3"), OK);
    assert.equal(await uart.command("AT+UART_DEF?"), `+UART_DEF:115200,8,1,0,3\r\n${OK}`);
    await restarting("AT+RST");
    assert.equal(await uart.command("ATE0"), `ATE0\r\n${OK}`);
    assert.equal(await uart.command("AT+UART_DEF?"), `+UART_DEF:115200,8,1,0,3\r\n${OK}`, "saved");
    assert.equal(await uart.command("AT+UART_DEF=115200,8,1,0,0"), OK);
  });

  it("AT+SYSRAM: Query the Heap Memory Status", async () => {
    const m = /^\+SYSRAM:(\d+),(\d+)\r\n\r\nOK\r\n$/.exec(await uart.command("AT+SYSRAM?"));
    assert.ok(m);
    assert.ok(Number(m[2]) <= Number(m[1]), "<minimum heap size> is at most what is free");
    assert.ok(Number(m[2]) > 0);
  });

  it("AT+SYSMSG: Query or Set System Prompt Information", async () => {
    assert.equal(await uart.command("AT+SYSMSG?"), `+SYSMSG:0\r\n${OK}`);
    assert.equal(await uart.command("AT+SYSMSG=2"), OK);
    assert.equal(await uart.command("AT+SYSMSG?"), `+SYSMSG:2\r\n${OK}`);
    assert.equal(await uart.command("AT+SYSMSG=4"), OK);
    assert.equal(await uart.command("AT+SYSMSG?"), `+SYSMSG:4\r\n${OK}`);
  });

  it("AT+SYSLOG: Enable or Disable the AT Error Code Prompt", async () => {
    assert.equal(await uart.command("AT+SYSLOG?"), `+SYSLOG:0\r\n${OK}`);
    assert.equal(await uart.command("AT+SYSLOG=1"), OK);
    assert.equal(await uart.command("AT+SYSLOG?"), `+SYSLOG:1\r\n${OK}`);
    assert.equal(await uart.command("AT+FAKE"), `ERR CODE:0x01090000\r\n${ERROR}`);
    assert.equal(await uart.command("AT+SYSLOG=0"), OK);
    assert.equal(await uart.command("AT+FAKE"), ERROR);
  });

});

describe("esp-at Basic AT Commands, as documented: AT+SYSSTORE", function () {
  this.timeout(60000);
  // The page's AP: "test", password "1234567890".
  const session = withConsole({ join: false, sim: { aps: ["test:1234567890"] } });

  const restart = async (uart: UartClient) => {
    await uart.write("AT+RST\r\n");
    assert.equal(await uart.expect("ready\r\n", BOOT_MS), `${OK}\r\nready\r\n`);
    assert.equal(await uart.command("ATE0"), `ATE0\r\n${OK}`);
  };

  it("AT+SYSSTORE: Query or Set Parameter Store Mode, Examples", async () => {
    const { uart } = session;
    const joined = `WIFI CONNECTED\r\nWIFI GOT IP\r\n${OK}`;
    assert.equal(await uart.command("AT+SYSSTORE?"), `+SYSSTORE:1\r\n${OK}`);
    assert.equal(await uart.command("AT+CWMODE=3"), OK, "stored: the mode the next steps must not change in flash");
    assert.equal(await uart.command("AT+SYSSTORE=0"), OK);
    assert.equal(await uart.command("AT+SYSSTORE?"), `+SYSSTORE:0\r\n${OK}`);
    assert.equal(await uart.command("AT+CWMODE=1"), OK); // Not stored into flash
    assert.equal(await uart.command('AT+CWJAP="test","1234567890"', 20000), joined); // Not stored into flash
    assert.equal(await uart.command("AT+CWMODE?"), `+CWMODE:1\r\n${OK}`, "queries read RAM");
    await restart(uart);
    assert.equal(await uart.command("AT+CWMODE?"), `+CWMODE:3\r\n${OK}`);
    assert.equal(await uart.command("AT+CWSTATE?"), `+CWSTATE:0,""\r\n${OK}`, "no AP in flash: no join at power-on");

    assert.equal(await uart.command("AT+SYSSTORE=1"), OK);
    assert.equal(await uart.command("AT+CWMODE=1"), OK);
    assert.equal(await uart.command("AT+CWMODE=3"), OK); // Stored into flash
    assert.equal(await uart.command('AT+CWJAP="test","1234567890"', 20000), joined); // Stored into flash
    await uart.write("AT+RST\r\n");
    assert.equal(await uart.expect("WIFI GOT IP\r\n", BOOT_MS), `${OK}\r\nready\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n`, "it joins the stored AP at power-on");
    assert.equal(await uart.command("AT+CWMODE?"), `AT+CWMODE?\r\n+CWMODE:3\r\n${OK}`);
  });
});
