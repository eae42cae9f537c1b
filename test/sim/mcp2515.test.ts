// An ESP32 board with an MCP2515 module on VSPI (test/fixtures/boards/nodemcu-mcp2515.json): the
// driver runs on XS over the simulator's SPI and GPIO, against the register-level model of the
// chip on the board's CAN bus. The firmware is the CAN echo of test/fixtures/can-echo (can0
// through xsock/can): each frame comes back with its identifier plus one.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startSim, type BusFrame, type SimBoard } from "xsock/sim";
import { python, SYSTEM_PYTHON } from "../helpers/python.ts";
import { hasPythonCan, testBus } from "../helpers/python-can.ts";

const BOARD = fileURLToPath(new URL("../fixtures/boards/nodemcu-mcp2515.json", import.meta.url));
const APP = "test/fixtures/can-echo";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("an MCP2515 board in the simulator", function () {
  this.timeout(60000);
  let sim: SimBoard | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it("gives the firmware embedded:io/spi and embedded:io/digital wired to the chip", async () => {
    sim = await startSim({ board: BOARD, app: "test/fixtures/gpio" });
    const [, passed, failed] = await sim.waitLog(/checks: (\d+) passed, (\d+) failed/, { timeout: 20000 });
    assert.deepEqual(
      sim.log.split("\n").filter((l) => l.startsWith("FAIL")),
      [],
    );
    assert.deepEqual([Number(passed), Number(failed)], [6, 0]);
  });

  it("runs the driver on XS: its bitrates on an 8 MHz crystal, and what it refuses", async () => {
    sim = await startSim({ board: BOARD, app: APP, config: { checks: true } });
    await sim.waitLog(/echo: ready/, { timeout: 20000 });
    assert.match(sim.log, /driver: mcp2515 fd false bitrates 25000,50000,100000,125000,250000,500000\n/);
    for (const bitrate of [25000, 50000, 100000, 125000, 250000, 500000]) assert.match(sim.log, new RegExp(`start ${bitrate}: ok\n`));
    assert.match(sim.log, /start 2000000: EINVAL can0 \(mcp2515\) runs at 25000, 50000, 100000, 125000, 250000, 500000 bit\/s, not 2000000/);
    assert.match(sim.log, /send fd: EOPNOTSUPP can0 \(mcp2515\) does not carry CAN FD frames/);
    assert.match(sim.log, /can0: up at 500000 bit\/s, normal/);
  });

  it("echoes standard, extended and remote frames, in the order they came", async () => {
    sim = await startSim({ board: BOARD, app: APP });
    await sim.waitLog(/echo: ready/, { timeout: 20000 });
    sim.can.send({ arbitration_id: 0x123, is_extended_id: false, data: [1, 2, 3] });
    const std = await sim.can.expect({ arbitration_id: 0x124 }, { timeout: 5000 });
    assert.deepEqual([std.is_extended_id, [...std.data]], [false, [1, 2, 3]]);
    sim.can.send({ arbitration_id: 0x1abcdef0, data: [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4] });
    const ext = await sim.can.expect({ arbitration_id: 0x1abcdef1 }, { timeout: 5000 });
    assert.deepEqual([ext.is_extended_id, [...ext.data]], [true, [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]]);
    sim.can.send({ arbitration_id: 0x55, is_extended_id: false, is_remote_frame: true, dlc: 6 });
    const rtr = await sim.can.expect({ arbitration_id: 0x56 }, { timeout: 5000 });
    assert.deepEqual([rtr.is_remote_frame, rtr.dlc], [true, 6]);
    // A frame every 2 ms (about what a busy 500 kbit/s bus carries, and about what this board
    // keeps up with): the echoes keep their order, and a frame lost to a full chip is reported.
    for (let i = 0; i < 40; i++) {
      sim.can.send({ arbitration_id: 0x400 + 2 * i, is_extended_id: false, data: [i] });
      await sleep(2);
    }
    const echoes: number[] = [];
    for (;;) {
      const echo: BusFrame | undefined = await sim.can.expect((f: BusFrame) => f.arbitration_id >= 0x400 && f.arbitration_id < 0x500, { timeout: 1000 }).catch(() => undefined);
      if (!echo) break;
      assert.equal(echo.arbitration_id, 0x401 + 2 * echo.data[0], "each echo carries its frame's number");
      echoes.push(echo.data[0]);
      if (echo.data[0] === 39) break;
    }
    assert.ok(echoes.length >= 20, `most frames come back (${echoes.length} of 40)`);
    assert.deepEqual(echoes, [...echoes].sort((a, b) => a - b), "in the order they were sent");
    if (echoes.length < 40) assert.match(sim.log, /error 4 0001000000000000\n/, `${40 - echoes.length} lost, and the overflow reported`);
  });

  it("loses a burst that both receive buffers cannot hold, and says so (CAN_ERR_CRTL_RX_OVERFLOW)", async () => {
    sim = await startSim({ board: BOARD, app: APP });
    await sim.waitLog(/echo: ready/, { timeout: 20000 });
    // Ten frames back to back: 1.1 ms of bus time at 500 kbit/s, where the driver takes an
    // interrupt and SPI reads per frame. How many it drains during the burst depends on the
    // machine's timing; that some are lost, and reported, does not.
    const BURST = 10;
    for (let i = 0; i < BURST; i++) sim.can.send({ arbitration_id: 0x10 + 2 * i, is_extended_id: false, data: [i] });
    await sim.waitLog(/error 4 0001000000000000\n/, { timeout: 5000 });
    const first = await sim.can.expect({ arbitration_id: 0x11 }, { timeout: 5000 });
    const second = await sim.can.expect({ arbitration_id: 0x13 }, { timeout: 5000 });
    assert.deepEqual([first.data[0], second.data[0]], [0, 1], "RXB0, then RXB1 by rollover");
    await sleep(200);
    const echoed = sim.can.frames.map((f) => f.data[0]);
    assert.ok(echoed.length < BURST, `some of the burst was lost (${echoed.length} of ${BURST} came back)`);
    assert.deepEqual(echoed, [...echoed].sort((a, b) => a - b), "what came back kept its order");
  });

  it("takes a bus-off fault as Linux reports it, and is back on the bus once the fault is over", async () => {
    sim = await startSim({ board: BOARD, app: APP });
    await sim.waitLog(/echo: ready/, { timeout: 20000 });
    const faultAt = performance.now();
    sim.fault("can-bus-off", 400);
    await sim.waitLog(/error 240 000000000000ff00\n/, { timeout: 5000 }); // CAN_ERR_BUSOFF | CAN_ERR_CNT, TEC 255
    await sim.waitLog(/error 300 0000000000000000\n/, { timeout: 5000 }); // CAN_ERR_RESTARTED, after restart-ms
    sim.can.send({ arbitration_id: 0x77, is_extended_id: false, data: [7] });
    await sim.can.expect({ arbitration_id: 0x78 }, { timeout: 5000 });
    assert.ok(performance.now() - faultAt >= 380, "nothing goes out while the bus is held dominant");
  });

  it("keeps the MCP2515 across a restart of the ESP32: the firmware resets it and echoes again", async () => {
    sim = await startSim({ board: BOARD, app: APP, verbose: true });
    await sim.waitLog(/echo: ready/, { timeout: 20000 });
    assert.match(sim.log, /mcp2515: RESET in configuration mode\n/, "at power-on");
    sim.can.send({ arbitration_id: 0x200, is_extended_id: false, data: [1] });
    await sim.can.expect({ arbitration_id: 0x201 }, { timeout: 5000 });
    await sim.restart();
    await sim.waitLog(/echo: ready[\s\S]*echo: ready/, { timeout: 20000 });
    assert.match(sim.log, /mcp2515: RESET in normal mode\n/, "the chip ran on while the ESP32 restarted");
    sim.can.send({ arbitration_id: 0x300, is_extended_id: false, data: [2] });
    const echo = await sim.can.expect({ arbitration_id: 0x301 }, { timeout: 5000 });
    assert.equal(echo.data[0], 2);
  });

  it("shares its bus with python-can over udp_multicast, both ways", async function () {
    if (!hasPythonCan) this.skip();
    const bus = await testBus();
    sim = await startSim({ board: BOARD, app: APP, can: bus.spec });
    await sim.waitLog(/echo: ready/, { timeout: 20000 });
    const out = await python(
      `
import can, json, sys, time
bus = can.Bus(interface='udp_multicast', channel=sys.argv[1], port=int(sys.argv[2]), receive_own_messages=False)
sent = [
  can.Message(arbitration_id=0x120, is_extended_id=False, data=[1, 2]),
  can.Message(arbitration_id=0x18ff0010, is_extended_id=True, data=[3]),
  can.Message(arbitration_id=0x130, is_extended_id=False, is_remote_frame=True, dlc=2),
]
for m in sent:
    bus.send(m)
    time.sleep(0.02)
got = []
end = time.time() + 5
while time.time() < end and len(got) < 3:
    m = bus.recv(0.2)
    if m is not None and m.arbitration_id not in (0x120, 0x18ff0010, 0x130):
        got.append([m.arbitration_id, m.is_extended_id, m.is_remote_frame, m.dlc, list(m.data)])
print(json.dumps(got))
bus.shutdown()
`,
      [bus.group, String(bus.port)],
      20000,
      SYSTEM_PYTHON,
    ).done;
    assert.deepEqual(JSON.parse(out.trim().split("\n").pop()!), [
      [0x121, false, false, 2, [1, 2]],
      [0x18ff0011, true, false, 1, [3]],
      [0x131, false, true, 2, []],
    ]);
    assert.match(sim.log, /rx 120#0102\n/);
  });
});
