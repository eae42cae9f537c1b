// `xsock sim --uart-link` and `--json`: a stable name for the pty, and events for scripts.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { JOINED } from "../helpers/console.ts";
import { ROOT, runSim, startSim, XSOCK } from "../helpers/sim.ts";
import { UartClient } from "../helpers/uart.ts";

describe("xsock sim --uart-link and --json", function () {
  this.timeout(20000);
  let dir: string;
  beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), "xsock-sim-"))));

  it("links PATH to the pty, replaces a link a former run left, and removes it at exit", async () => {
    const link = join(dir, "esp32");
    symlinkSync("/dev/pts/no-such-pty", link);
    const sim = await startSim(["--uart-link", link]);
    assert.equal(readlinkSync(link), sim.uart);
    assert.match(sim.log, new RegExp(`uart connected to pseudotty: ${sim.uart} \\(linked from ${link}\\)`));
    const uart = await UartClient.open(link);
    assert.equal(await uart.expect("ready\r\n"), "\r\nready\r\n");
    await uart.close();
    assert.equal(await sim.stop(), 0);
    assert.equal(existsSync(link), false);
  });

  it("refuses a PATH that is a file, and a UART that is not a pty, with exit code 2", async () => {
    const file = join(dir, "notes.txt");
    writeFileSync(file, "keep me");
    const taken = await runSim(["--uart-link", file]);
    assert.equal(taken.code, 2, taken.log);
    assert.match(taken.log, /--uart-link .*notes\.txt: a file that is not a symlink is there already/);
    const tcp = await runSim(["--uart", "tcp:0", "--uart-link", join(dir, "x")]);
    assert.equal(tcp.code, 2, tcp.log);
    assert.match(tcp.log, /^xsock sim: --uart-link needs the UART on a pty/m);
    const json = await runSim(["--uart", "stdio", "--json"]);
    assert.equal(json.code, 2, json.log);
  });

  it("prints one JSON event a line: uart, boot, Wi-Fi changes, exit", async () => {
    const proc = spawn(process.execPath, [XSOCK, "sim", "--json"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const events: Record<string, unknown>[] = [];
    const waiters = new Set<() => void>();
    createInterface({ input: proc.stdout }).on("line", (line) => {
      events.push(JSON.parse(line) as Record<string, unknown>);
      for (const w of [...waiters]) w();
    });
    const next = (event: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${event} event; got ${JSON.stringify(events)}`)), 5000);
        const check = () => {
          const found = events.find((e) => e.event === event && !taken.has(e));
          if (!found) return;
          taken.add(found);
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    const taken = new Set<Record<string, unknown>>();
    const exited = new Promise<number | null>((r) => proc.on("exit", r));
    const uartEvent = await next("uart");
    assert.match(String(uartEvent.path), /^\/dev\/pts\/\d+$/, "--json puts the UART on a pty");
    assert.deepEqual(await next("boot"), { event: "boot", boot: 1 });
    const uart = await UartClient.open(String(uartEvent.path));
    await uart.expect("ready\r\n");
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    assert.equal(await uart.command('AT+CWJAP="nowhere",""', 5000), "+CWJAP:3\r\n\r\nERROR\r\n");
    assert.deepEqual(await next("wifi"), { event: "wifi", state: "join failed", ssid: "nowhere", reason: "no such AP" });
    assert.equal(await uart.command('AT+CWJAP="xsock-sim",""'), JOINED);
    assert.deepEqual(await next("wifi"), { event: "wifi", state: "connected", ssid: "xsock-sim" });
    assert.deepEqual(await next("wifi"), { event: "wifi", state: "got ip", ip: "127.0.0.1" });
    assert.equal(await uart.command("AT+RST"), "\r\nOK\r\n");
    assert.deepEqual(await next("wifi"), { event: "wifi", state: "disconnected" });
    assert.deepEqual(await next("boot"), { event: "boot", boot: 2 });
    // The AP that flash keeps is joined again at boot.
    assert.deepEqual(await next("wifi"), { event: "wifi", state: "connected", ssid: "xsock-sim" });
    assert.deepEqual(await next("wifi"), { event: "wifi", state: "got ip", ip: "127.0.0.1" });
    await uart.close();
    proc.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.deepEqual(events.at(-1), { event: "exit", code: 0 });
    assert.deepEqual(
      events.map((e) => e.event),
      ["uart", "boot", "wifi", "wifi", "wifi", "wifi", "boot", "wifi", "wifi", "wifi", "exit"],
      "nothing else on stdout",
    );
  });
});
