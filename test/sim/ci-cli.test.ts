// `xsock sim` as a CI step: --expect-text, --fail-text and --timeout, as Wokwi's CLI has them.
import assert from "node:assert/strict";
import { runSim } from "../helpers/sim.ts";

const run = (args: string[]) => runSim(["--uart", "tcp:0", ...args], 15000);

describe("xsock sim --expect-text, --fail-text, --timeout", function () {
  this.timeout(20000);

  it("exits 0 as soon as the expected text appears", async () => {
    const start = Date.now();
    const { code, log } = await run(["--expect-text", "ready", "--timeout", "10000"]);
    assert.equal(code, 0, log);
    assert.match(log, /expected text seen: "ready"/);
    assert.ok(Date.now() - start < 5000, "it does not wait for the timeout");
  });

  it("exits 42 on the timeout, showing the UART's last lines", async () => {
    const { code, log } = await run(["--expect-text", "never printed", "--timeout", "800"]);
    assert.equal(code, 42, log);
    assert.match(log, /timeout: no expected text within 800 ms; the UART's last lines:\n( {2}.*\n)* {2}ready\n/);
  });

  it("exits 1 on a fail text, even when an expected text comes with it", async () => {
    const { code, log } = await run(["--expect-text", "ready", "--fail-text", "ready", "--timeout", "5000"]);
    assert.equal(code, 1, log);
    assert.match(log, /fail text seen: "ready"; the UART's last lines:\n( {2}.*\n)* {2}ready\n/);
  });

  it("exits 1 when the firmware throws, before any expected text", async () => {
    const { code, log } = await run(["test/fixtures/crash", "how=timer", "--expect-text", "never printed", "--timeout", "5000"]);
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
