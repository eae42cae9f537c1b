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

  describe("boards of one firmware", () => {
    const SNAPSHOT = "xs: the machine starts from the snapshot of the firmware's preload";
    const fixed = (log: string) => /xs: the heap is fixed at .*/.exec(log)?.[0];

    it("start, after the first, from a snapshot of its machine after the preload, with the same heap and the same replies", async () => {
      // A config of this test's own: no other test in this process has built this firmware.
      const config = { snapshotTest: "heap" };
      const first = await startSim({ config, verbose: true });
      const second = await startSim({ config, verbose: true });
      try {
        for (const b of [first, second]) await b.uart.expect("ready\r\n");
        assert.ok(!first.log.includes(SNAPSHOT), first.log);
        assert.ok(second.log.includes(SNAPSHOT), second.log);
        assert.ok(fixed(first.log), first.log);
        assert.equal(fixed(second.log), fixed(first.log));
        const heaps = [(await first.collect()).slots, (await second.collect()).slots];
        assert.equal(heaps[1], heaps[0]);
        for (const b of [first, second]) b.uart.write("AT+GMR\r\n");
        const replies = await Promise.all([first, second].map((b) => b.uart.expect("\r\nOK\r\n")));
        assert.equal(replies[1], replies[0]);
      } finally {
        await Promise.all([first.stop(), second.stop()]);
      }
    });

    for (const [how, message] of [
      ["memory", /firmware: memory full: XS found no room in esp32\/nodemcu's heap \(4928 slots, 78848 bytes of chunks\)\n/],
      ["stack", /firmware: stack overflow: XS's stack is 512 slots on esp32\/nodemcu \(768 with the simulator's bridge\)\n/],
    ] as const) {
      it(`stop with XS's own ${how === "memory" ? "memory full" : "stack overflow"} when started from the snapshot, as the first does`, async () => {
        for (const snapshot of [false, true]) {
          const board = await startSim({ app: "test/fixtures/crash", config: { how, snapshotTest: how }, verbose: true });
          assert.equal(await board.stopped, 1, board.log);
          assert.equal(board.log.includes(SNAPSHOT), snapshot, board.log);
          assert.match(board.log, message);
        }
      });
    }

    it("count their uptime from their own boot, not from the snapshot's", async () => {
      const first = await startSim({ app: "test/fixtures/uptime", verbose: true });
      await first.waitLog(/uptime: \d+ ms/);
      await first.stop();
      // The snapshot is older than this when the second board boots from it.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const second = await startSim({ app: "test/fixtures/uptime", verbose: true });
      try {
        const ms = Number((await second.waitLog(/uptime: (\d+) ms/))[1]);
        assert.ok(second.log.includes(SNAPSHOT), second.log);
        assert.ok(ms < 1000, `uptime ${ms} ms at the app's start`);
      } finally {
        await second.stop();
      }
    });
  });

  it("refuses what it cannot simulate, before booting", async () => {
    await assert.rejects(startSim({ board: "esp32/nosuch" }), /unknown board "esp32\/nosuch"/);
    await assert.rejects(startSim({ faults: ["power-cut"] }), /bad fault "power-cut"/);
    await assert.rejects(startSim({ aps: ["x:short"] }), /a WPA2 password has 8 to 64 characters/);
  });
});
