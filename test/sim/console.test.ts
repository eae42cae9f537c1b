// The default firmware's console, driven over its pty (or TEST_PORT's board) with serialport.
import assert from "node:assert/strict";
import type { SimBoard } from "xsock/sim";
import { BOOT_MS, openBoard } from "../helpers/console.ts";
import { startSim } from "../helpers/sim.ts";
import { simOnly } from "../helpers/target.ts";
import { UartClient } from "../helpers/uart.ts";

describe("console on a pty (serialport)", () => {
  let sim: SimBoard | undefined;
  let uart: UartClient;
  let boot: string;

  before(async () => {
    ({ sim, uart } = await openBoard());
    boot = await uart.expect("\r\nready\r\n", BOOT_MS);
  });
  after(async () => {
    await uart?.close();
    await sim?.stop();
  });

  it("prints ready at boot", async () => {
    assert.equal(boot, "\r\nready\r\n");
  });

  it("answers AT with OK, echoing the command", async () => {
    assert.equal(await uart.command("AT"), "AT\r\n\r\nOK\r\n");
  });

  it("reports its version in AT+GMR as ESP-AT does", async () => {
    const reply = await uart.command("AT+GMR");
    assert.match(reply, /^AT\+GMR\r\nAT version:3\.2\.0\.0\([^)]* - ESP32 - [^)]*\)\r\nSDK version:.*\r\ncompile time\(.*\):.*\r\nBin version:.*\r\n\r\nOK\r\n$/);
  });

  it("answers ERROR to a command it does not have, and to a line that is not a command", async () => {
    assert.equal(await uart.command("AT+NOSUCH"), "AT+NOSUCH\r\n\r\nERROR\r\n");
    assert.equal(await uart.command("hello"), "hello\r\n\r\nERROR\r\n");
    assert.equal(await uart.command("AT+GMR=1"), "AT+GMR=1\r\n\r\nERROR\r\n");
  });

  it("answers ERROR to a line longer than 256 bytes, and carries on", async () => {
    const long = `AT+${"X".repeat(300)}`;
    assert.match(await uart.command(long), /\r\nERROR\r\n$/);
    assert.equal(await uart.command("AT"), "AT\r\n\r\nOK\r\n");
  });

  it("takes several commands in one write, in order", async () => {
    await uart.write("AT\r\nAT+NOSUCH\r\nAT\r\n");
    assert.equal(await uart.expect(/(OK|ERROR)\r\n.*(OK|ERROR)\r\n.*(OK|ERROR)\r\n/s), "AT\r\n\r\nOK\r\nAT+NOSUCH\r\n\r\nERROR\r\nAT\r\n\r\nOK\r\n");
  });

  it("stops echoing after ATE0 and starts again after ATE1", async () => {
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT"), "\r\nOK\r\n");
    assert.equal(await uart.command("ATE1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT"), "AT\r\n\r\nOK\r\n");
  });
});

describe("console on other boards", () => {
  it("names the ESP32-S3 in AT+GMR on esp32/esp32s3", async function () {
    simOnly(this);
    const sim = await startSim(["--board", "esp32/esp32s3"]);
    const uart = await UartClient.open(sim.uart);
    try {
      await uart.expect("ready\r\n");
      assert.match(await uart.command("AT+GMR"), / - ESP32-S3 - .*\r\nBin version:xsock-[0-9.]+\(esp32\/esp32s3\)/s);
    } finally {
      await uart.close();
      await sim.stop();
    }
  });
});
