// The xsock/sim API itself: several boards in one process, lines, failures, restart and heap.
import assert from "node:assert/strict";
import { startSim } from "xsock/sim";

describe("xsock/sim", function () {
  this.timeout(20000);

  it("runs several boards side by side, each with its own UART", async () => {
    const boards = await Promise.all([startSim(), startSim({ board: "esp32/esp32s3" }), startSim({ board: "esp32/wt32_eth01" })]);
    try {
      for (const b of boards) await b.uart.expect("ready\r\n");
      const lines = boards.map((b) => b.uart.lines());
      for (const b of boards) b.uart.write("AT+GMR\r\n");
      const chips: string[] = [];
      for (const it of lines) {
        for await (const line of it) {
          if (line.startsWith("AT version:")) chips.push(/ - (ESP32\S*) - /.exec(line)![1]);
          if (line === "OK") break;
        }
      }
      assert.deepEqual(chips, ["ESP32", "ESP32-S3", "ESP32"]);
      assert.deepEqual(boards.map((b) => b.board), ["esp32/nodemcu", "esp32/esp32s3", "esp32/wt32_eth01"]);
      assert.ok(boards.every((b) => b.heap().slots > 500 && b.heap().compute > 0));
    } finally {
      await Promise.all(boards.map((b) => b.stop()));
    }
  });

  it("says what the UART sent when an expect times out, and restarts the board", async () => {
    const board = await startSim();
    try {
      await board.uart.expect("ready\r\n");
      board.uart.write("AT\r\n");
      await assert.rejects(board.uart.expect("nothing like this", { timeout: 200 }), /no "nothing like this" in the UART within 200 ms; it sent "AT\\r\\n\\r\\nOK\\r\\n"/);
      await board.restart();
      await board.uart.expect("ready\r\n");
      assert.equal(await board.stop(), 0);
    } finally {
      await board.stop();
    }
  });

  it("ends waits at once when the firmware dies, with its exit code", async () => {
    const board = await startSim({ app: "test/fixtures/crash", config: { how: "timer" } });
    await assert.rejects(board.uart.expect("never", { timeout: 5000 }), /the board stopped \(exit code 1\)/);
    assert.equal(await board.stopped, 1);
    assert.match(board.log, /firmware: uncaught exception: Error: kaboom in a timer/);
  });

  it("refuses what it cannot simulate, before booting", async () => {
    await assert.rejects(startSim({ board: "esp32/nosuch" }), /unknown board "esp32\/nosuch"/);
    await assert.rejects(startSim({ faults: ["power-cut"] }), /bad fault "power-cut"/);
    await assert.rejects(startSim({ aps: ["x:short"] }), /a WPA2 password has 8 to 64 characters/);
  });
});
