// `xsock sim` as a CI step: --expect-text, --fail-text and --timeout, as Wokwi's CLI has them.
import assert from "node:assert/strict";
import { runSim } from "../helpers/sim.ts";

const run = (args: string[]) => runSim(["--uart", "tcp:0", ...args], 45000);

/**
 * --timeout where a run is to reach it: it counts from the process's start, and the board says
 * ready well before it, even on a loaded machine.
 */
const TIMEOUT_MS = 8000;
/** --timeout where a run is to end before it: far longer than any boot. */
const LONG_MS = 40000;

describe("xsock sim --expect-text, --fail-text, --timeout", function () {
  this.timeout(60000);

  it("exits 0 as soon as the expected text appears", async () => {
    const start = Date.now();
    const { code, log } = await run(["--expect-text", "ready", "--timeout", String(LONG_MS)]);
    assert.equal(code, 0, log);
    assert.match(log, /expected text seen: "ready"/);
    assert.ok(Date.now() - start < LONG_MS / 2, "it does not wait for the timeout");
  });

  it("exits 42 on the timeout, showing the UART's last lines", async () => {
    const { code, log } = await run(["--expect-text", "never printed", "--timeout", String(TIMEOUT_MS)]);
    assert.equal(code, 42, log);
    assert.match(log, new RegExp(`timeout: no expected text within ${TIMEOUT_MS} ms; the UART's last lines:\\n( {2}.*\\n)* {2}ready\\n`));
  });

  it("exits 1 on a fail text, even when an expected text comes with it", async () => {
    const { code, log } = await run(["--expect-text", "ready", "--fail-text", "ready", "--timeout", String(LONG_MS)]);
    assert.equal(code, 1, log);
    assert.match(log, /fail text seen: "ready"; the UART's last lines:\n( {2}.*\n)* {2}ready\n/);
  });

  it("exits 1 when the firmware throws, before any expected text", async () => {
    const { code, log } = await run(["test/fixtures/crash", "how=timer", "--expect-text", "never printed", "--timeout", String(LONG_MS)]);
    assert.equal(code, 1, log);
    assert.match(log, /kaboom in a timer/);
    assert.match(log, /the firmware stopped; the UART's last lines:/);
  });

  it("refuses a timeout that is not a number of ms, with exit code 2", async () => {
    const { code, log } = await run(["--timeout", "soon"]);
    assert.equal(code, 2, log);
    assert.match(log, /a number of milliseconds > 0/);
  });
});
