// A serial port whose far end goes away: the simulator's pty, hung up by the kernel when the
// simulator stops, must close the port however the hang-up and serialport's reads interleave.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { openPort } from "../../host-sim/serial/link.ts";
import { openUartLine } from "../../host-sim/uart-line.ts";
import { until } from "../helpers/console.ts";

describe("a serial port on the simulator's pty", function () {
  this.timeout(20000);

  it("closes when the pty hung up before the port read again (a read of 0 bytes)", async () => {
    const line = await openUartLine("pty", () => {});
    // Nothing reads yet: the port's first read comes after the hang-up.
    const port = await openPort(line.path, 115200);
    line.close();
    await until(() => !existsSync(line.path), "the pty gone");
    const closed = new Promise<Error | null>((resolve) => port.once("close", resolve));
    port.on("error", () => {});
    port.on("data", () => {});
    const outcome = await Promise.race([closed, new Promise<"spinning">((r) => setTimeout(() => r("spinning"), 5000))]);
    if (port.isOpen) port.destroy();
    assert.notEqual(outcome, "spinning", "the port kept reading 0 bytes and never closed");
    assert.match(String(outcome), /hung up/);
  });
});
