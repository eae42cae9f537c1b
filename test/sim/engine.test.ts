// The firmware runs inside XS, in an xsnap-worker child, and reaches no Node globals.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, type Stats } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSim, runXsock, startSim } from "../helpers/sim.ts";
import { UartClient } from "../helpers/uart.ts";

function childNames(pid: number): string[] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean),
  );
  return children.map((child) => readFileSync(`/proc/${child}/comm`, "utf8").trim());
}

describe("the XS engine", () => {
  it("runs the firmware in xsock's XS worker (xsnap-worker with the board's heap), a child process of xsock sim", async () => {
    const sim = await startSim();
    try {
      const uart = await UartClient.open(sim.uart);
      await uart.expect("ready\r\n");
      await uart.close();
      assert.ok(childNames(sim.proc.pid!).includes("xsock-worker"), `children: ${childNames(sim.proc.pid!).join(", ")}`);
    } finally {
      await sim.stop();
    }
  });

  it("gives the firmware no Node globals and no xsnap helpers", async () => {
    const sim = await startSim(["test/fixtures/globals"]);
    try {
      const m = await sim.waitLog(/globals: (.*)\n/);
      assert.equal(
        m[1],
        "process=undefined Buffer=undefined require=undefined setTimeout=undefined setImmediate=undefined issueCommand=undefined print=undefined module=undefined",
      );
      await sim.waitLog(/trace: function/);
    } finally {
      await sim.stop();
    }
  });

  it("stops with memory full, exit code 1, when the firmware holds more than the board's XS heap: XS's own abort", async () => {
    const { code, log } = await runSim(["test/fixtures/crash", "how=memory", "--uart", "tcp:0"]);
    assert.equal(code, 1, log);
    assert.match(log, /firmware: memory full: XS found no room in esp32\/nodemcu's heap \(4928 slots, 78848 bytes of chunks\)\n/);
  });

  it("stops with stack overflow, exit code 1, when the firmware recurses past the board's XS stack", async () => {
    const { code, log } = await runSim(["test/fixtures/crash", "how=stack", "--uart", "tcp:0"]);
    assert.equal(code, 1, log);
    assert.match(log, /firmware: stack overflow: XS's stack is 512 slots on esp32\/nodemcu \(768 with the simulator's bridge\)\n/);
  });

  it("shares the preload as the chip's flash (the board's heap is XS's clone of the loaded machine), and keeps it in the heap with XSOCK_SHARE=0", async () => {
    for (const [share, words] of [[undefined, "the preload shared as the chip's flash"], ["0", "the preload in the board's heap"]] as const) {
      const env = { ...process.env };
      if (share === undefined) delete env.XSOCK_SHARE;
      else env.XSOCK_SHARE = share;
      const { code, stdout, stderr } = await runXsock(["sim", "-v", "--uart", "tcp:0", "--expect-text", "ready", "--timeout", "30000"], { env, timeout: 40000 });
      assert.equal(code, 0, stderr);
      assert.match(stdout + stderr, new RegExp(`xs: the heap is fixed at \\d+ slots .*; ${words}\n`));
    }
  });

  for (const [how, what, line] of [
    ["boot", "uncaught exception: Error: kaboom in boot", 10],
    ["timer", "uncaught exception: Error: kaboom in a timer", 14],
    ["promise", "unhandled rejection: RangeError: rejected in a promise", 16],
  ] as const) {
    it(`ends with exit code 1 and an XS stack on an ${what.split(":")[0]} (${how})`, async () => {
      const { code, log } = await runSim(["test/fixtures/crash", `how=${how}`, "--uart", "tcp:0"]);
      assert.equal(code, 1, log);
      assert.match(log, new RegExp(`firmware: ${what.replace(/[()]/g, "\\$&")}\n`));
      assert.match(log, new RegExp(`\\(test/fixtures/crash/main\\.ts:${line}\\)`), "the stack names the TypeScript line");
    });
  }
});

/**
 * The pty at `path` is not the one `was` found: gone, or a new one at the same path. Another
 * program on the machine (another test run) may open a pty as soon as this one closes, and the
 * kernel gives it the lowest free number; the new one was made later.
 */
function gone(path: string, was: Stats): boolean {
  try {
    const now = statSync(path);
    return now.ctimeMs !== was.ctimeMs || now.birthtimeMs !== was.birthtimeMs;
  } catch {
    return true;
  }
}

describe("xsock sim's process", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`stops cleanly on ${signal}, closing the pty and the firmware's sockets`, async () => {
      const sim = await startSim(["examples/tcp-echo", "port=0"]);
      const port = Number((await sim.waitLog(/listening on (\d+)/))[1]);
      assert.ok(existsSync(sim.uart));
      const pty = statSync(sim.uart);
      assert.equal(await sim.stop(signal), 0);
      assert.ok(gone(sim.uart, pty), "the pty is gone");
      const { createConnection } = await import("node:net");
      const refused = await new Promise<boolean>((resolve) => {
        const s = createConnection(port, "127.0.0.1");
        s.on("connect", () => resolve(false));
        s.on("error", () => resolve(true));
      });
      assert.ok(refused, "the listener is closed");
    });
  }

  it("names the bad field of a board file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xsock-board-"));
    const bad = JSON.parse(readFileSync("boards/esp32/nodemcu/board.json", "utf8")) as Record<string, Record<string, unknown>>;
    bad.console.transmit = "GPIO17";
    delete bad.limits.links;
    writeFileSync(join(dir, "board.json"), JSON.stringify(bad));
    const { code, log } = await runSim(["--board", join(dir, "board.json")]);
    assert.equal(code, 2);
    assert.match(log, /console\.transmit: must be integer/);
    assert.match(log, /limits: missing field "links"/);
  });

  it("lists the boards when asked for one it does not have", async () => {
    const { code, log } = await runSim(["--board", "esp32/nosuch"]);
    assert.equal(code, 2);
    assert.match(log, /unknown board "esp32\/nosuch": the boards are esp32\/esp32s3, esp32\/esp32s3_eth, esp32\/ethernet_kit, esp32\/nodemcu, esp32\/nodemcu_enc28j60, esp32\/wt32_eth01/);
  });

  it("fails the build of an app that imports a module its manifest lacks", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xsock-app-"));
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ modules: { "*": "./main" } }));
    writeFileSync(join(dir, "main.js"), 'import fs from "node:fs";\ntrace(typeof fs);\n');
    const { code, log } = await runSim([dir]);
    assert.equal(code, 2);
    assert.match(log, /module "node:fs" is neither in the app's manifest\.json nor a platform module/);
  });
});
