// A host that opens the pty after the board has booted. The boot's output waits for a client
// that opens and reads; a client that writes first never sees it, as on a board whose output
// before the host opened the port is gone. lwesp (MaJerle/lwesp) opens the port and sends
// AT+RST at once, then AT+RESTORE on the first `ready`: that `ready` must be the reset's.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { startSim, type SimBoard } from "xsock/sim";
import { BOOT_MS } from "../helpers/console.ts";
import { UartClient } from "../helpers/uart.ts";

/** Debian's python3: its standard library opens the pty as a C program does, without serialport. */
const PYTHON = "/usr/bin/python3";

/** A board on a pty that has booted and changed a setting kept in flash, with no client on the pty yet. */
async function bootedBoard(): Promise<SimBoard> {
  const sim = await startSim({ uart: "pty" });
  await sim.uart.expect("ready\r\n", { timeout: BOOT_MS });
  // Through the API's own end of the line: the echo and OK wait on the pty with the `ready`.
  sim.uart.write("AT+CWMODE=2\r\n");
  assert.equal(await sim.uart.expect("OK\r\n"), "AT+CWMODE=2\r\n\r\nOK\r\n");
  return sim;
}

describe("a host opening the pty after boot", function () {
  this.timeout(60000);
  let sim: SimBoard | undefined;
  let uart: UartClient | undefined;
  afterEach(async function () {
    if (this.currentTest?.state === "failed" && sim) console.log(`--- simulator log ---\n${sim.log.slice(-3000)}`);
    await uart?.close();
    await sim?.stop();
    uart = sim = undefined;
  });

  it("lwesp: open, AT+RST at once, AT+RESTORE on the reset's ready; both happen", async () => {
    sim = await bootedBoard();
    uart = await UartClient.open(sim.uart.path);
    await uart.write("AT+RST\r\n");
    // Nothing from before the open: the first bytes are the reset's echo and OK, then its ready.
    assert.equal(await uart.expect("ready\r\n", BOOT_MS), "AT+RST\r\n\r\nOK\r\n\r\nready\r\n");
    await uart.write("AT+RESTORE\r\n");
    assert.equal(await uart.expect("ready\r\n", BOOT_MS), "AT+RESTORE\r\n\r\nOK\r\n\r\nready\r\n");
    // The restore reached a board that had booted: the mode is back to its default.
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CWMODE?"), "+CWMODE:1\r\n\r\nOK\r\n");
  });

  it("a reset alone keeps what flash holds (the check above tells a lost AT+RESTORE)", async () => {
    sim = await bootedBoard();
    uart = await UartClient.open(sim.uart.path);
    await uart.write("AT+RST\r\n");
    assert.equal(await uart.expect("ready\r\n", BOOT_MS), "AT+RST\r\n\r\nOK\r\n\r\nready\r\n");
    assert.equal(await uart.command("AT+CWMODE?"), "AT+CWMODE?\r\n+CWMODE:2\r\n\r\nOK\r\n");
  });

  it("a client that opens late and only reads still gets the boot's output", async () => {
    sim = await bootedBoard();
    uart = await UartClient.open(sim.uart.path);
    assert.equal(await uart.expect("OK\r\n"), "\r\nready\r\nAT+CWMODE=2\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT"), "AT\r\n\r\nOK\r\n");
  });

  it("a client on the bare tty as lwesp's POSIX port opens it (open, raw, tcflush, write) does not read the boot's output", async () => {
    sim = await bootedBoard();
    const script = [
      "import os, select, sys, termios, tty",
      "fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)",
      "tty.setraw(fd)",
      "termios.tcflush(fd, termios.TCIOFLUSH)",
      "os.write(fd, b'AT+RST\\r\\n')",
      "got = b''",
      "while not got.endswith(b'ready\\r\\n'):",
      "    if not select.select([fd], [], [], 15)[0]: break",
      "    got += os.read(fd, 4096)",
      "print(repr(got))",
    ].join("\n");
    const child = spawn(PYTHON, ["-c", script, sim.uart.path], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    assert.equal(code, 0, err);
    assert.equal(out, "b'AT+RST\\r\\n\\r\\nOK\\r\\n\\r\\nready\\r\\n'\n");
  });
});
