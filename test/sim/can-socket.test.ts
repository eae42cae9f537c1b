// AF_CAN sockets on XS in the simulator (test/fixtures/can-socket): the socket API's checks,
// then a python-can program on the udp_multicast bus exchanging frames with a filtered socket,
// and a bus-off reaching a socket as error frames.
import assert from "node:assert/strict";
import { startSim } from "xsock/sim";
import { hasPythonCan, pythonCan, testBus } from "../helpers/python-can.ts";

describe("AF_CAN sockets on the simulated board", function () {
  this.timeout(40000);

  it("passes every check of the CAN socket API", async () => {
    const sim = await startSim({ app: "test/fixtures/can-socket" });
    try {
      const [, passed, failed] = await sim.waitLog(/checks: (\d+) passed, (\d+) failed/, { timeout: 20000 });
      const failures = sim.log.split("\n").filter((l) => l.startsWith("FAIL"));
      assert.deepEqual(failures, []);
      assert.equal(Number(failed), 0);
      assert.equal(Number(passed), 12);
      assert.equal(sim.openSockets, 0, "no CAN socket of the checks is left open");
    } finally {
      await sim.stop();
    }
  });

  it("exchanges frames with python-can's udp_multicast bus, both ways, through the socket's filters", async function () {
    if (!hasPythonCan) this.skip();
    const bus = await testBus();
    const sim = await startSim({ app: "test/fixtures/can-socket", can: bus.spec });
    try {
      await sim.waitLog(/echo: ready/, { timeout: 20000 });
      const out = await pythonCan(
        `
import can, json, sys, time
bus = can.Bus(interface='udp_multicast', channel=sys.argv[1], port=int(sys.argv[2]))
sent = [
  can.Message(arbitration_id=0x100, is_extended_id=False, data=[1]),
  can.Message(arbitration_id=0x1ff, is_extended_id=False, data=[1, 2, 3, 4, 5, 6, 7, 8]),
  can.Message(arbitration_id=0x200, is_extended_id=False, data=[2]),
  can.Message(arbitration_id=0x18ff1234, is_extended_id=True, data=[3, 4]),
  can.Message(arbitration_id=0x18fe0000, is_extended_id=True, data=[5]),
  can.Message(arbitration_id=0x150, is_extended_id=False, is_remote_frame=True, dlc=4),
  can.Message(arbitration_id=0x100, is_extended_id=True, data=[6]),
  can.Message(arbitration_id=0x17f, is_extended_id=False, data=[]),
]
for m in sent:
    bus.send(m)
    time.sleep(0.01)
key = lambda m: (m.arbitration_id, m.is_extended_id, m.is_remote_frame, m.dlc, bytes(m.data))
own = [key(m) for m in sent]
got = []
end = time.time() + 5
while time.time() < end:
    if len(got) == 5:
        end = min(end, time.time() + 0.3)  # then a moment more: nothing else may come
    m = bus.recv(0.2)
    if m is None:
        continue
    if key(m) in own:
        own.remove(key(m))  # a copy of one of ours: python-can hears the group too
        continue
    got.append({'id': m.arbitration_id, 'ext': m.is_extended_id, 'rtr': m.is_remote_frame, 'dlc': m.dlc, 'data': list(m.data)})
print(json.dumps(sorted(got, key=lambda g: (g['ext'], g['id']))))
bus.shutdown()
`,
        [bus.group, String(bus.port)],
      ).done;
      const echoes = JSON.parse(out.trim().split("\n").pop()!) as { id: number; ext: boolean; rtr: boolean; dlc: number; data: number[] }[];
      assert.deepEqual(echoes, [
        { id: 0x101, ext: false, rtr: false, dlc: 1, data: [1] },
        { id: 0x151, ext: false, rtr: true, dlc: 4, data: [] },
        { id: 0x180, ext: false, rtr: false, dlc: 0, data: [] },
        { id: 0x200, ext: false, rtr: false, dlc: 8, data: [1, 2, 3, 4, 5, 6, 7, 8] },
        { id: 0x18ff1235, ext: true, rtr: false, dlc: 2, data: [3, 4] },
      ]);
    } finally {
      await sim.stop();
    }
  });

  it("tells a socket that asked for error frames of a bus-off and of the restart after it", async () => {
    const sim = await startSim({ app: "test/fixtures/can-socket" });
    try {
      await sim.waitLog(/echo: ready/, { timeout: 20000 });
      sim.fault("can-bus-off");
      // CAN_ERR_BUSOFF | CAN_ERR_CNT, TEC in data[6]; then CAN_ERR_RESTARTED once can0 restarts.
      const [, busOff] = await sim.waitLog(/^error 240 (\w+)$/m, { timeout: 5000 });
      assert.ok(Number.parseInt(busOff.slice(12, 14), 16) >= 0xff, `TEC in ${busOff}`);
      await sim.waitLog(/^error 300 /m, { timeout: 5000 });
      // The bus works again: a frame sent from the bench comes back.
      sim.can.send({ arbitration_id: 0x123, is_extended_id: false, data: [7] });
      await sim.can.expect({ arbitration_id: 0x124, data: [7] });
    } finally {
      await sim.stop();
    }
  });

  it("tells a socket of frames the controller missed (receive queue full) with a CAN_ERR_CRTL_RX_OVERFLOW error frame", async () => {
    const sim = await startSim({ app: "test/fixtures/can-socket" });
    try {
      await sim.waitLog(/echo: ready/, { timeout: 20000 });
      // 500 frames at once from the bench: far more than the TWAI's 32-frame receive queue holds.
      for (let i = 0; i < 500; i++) sim.can.send({ arbitration_id: 0x100 + (i % 0x100), is_extended_id: false, data: [i & 0xff] });
      await sim.waitLog(/^error 4 0001000000000000$/m, { timeout: 5000 });
      // The socket's own queue (64 frames) may have dropped some too; what it kept it echoed.
      await sim.can.expect({ arbitration_id: 0x101, data: [0] });
    } finally {
      await sim.stop();
    }
  });
});

