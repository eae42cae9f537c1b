// The simulated CAN bus: a firmware CAN echo (test/fixtures/can-echo, on xsock/can's can0 and
// the TWAI driver) exchanges frames with python-can's udp_multicast interface both ways; the
// can-bus-off fault reaches the app as error frames; the TWAI driver's bitrates and its refusal
// of CAN FD; the scenario steps and the --can and --fault options of `xsock sim`.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSim, type SimBoard } from "../../host-sim/api.ts";
import { runSim, startSim as spawnSim, type SimProcess } from "../helpers/sim.ts";
import { hasPythonCan, pythonCan, testBus } from "../helpers/python-can.ts";
import { needs } from "../helpers/sim.ts";

const ECHO = "test/fixtures/can-echo";

/** Sends each frame and waits for the board's echo (identifier plus one), then takes one frame the test puts on the bus. */
const EXCHANGE = `
import can, sys, time
group, port = sys.argv[1], int(sys.argv[2])
bus = can.Bus(interface="udp_multicast", channel=group, port=port)
frames = []
for n in range(9):
    frames.append(can.Message(arbitration_id=0x100 + 2 * n, is_extended_id=False, data=bytes(range(0xa0, 0xa0 + n))))
    frames.append(can.Message(arbitration_id=0x1abc0000 + 2 * n, is_extended_id=True, data=bytes(range(n, 0, -1))))
    frames.append(can.Message(arbitration_id=0x200 + 2 * n, is_extended_id=False, is_remote_frame=True, dlc=n))
    frames.append(can.Message(arbitration_id=0x1000 + 2 * n, is_extended_id=True, is_remote_frame=True, dlc=n))
frames.append(can.Message(arbitration_id=0x7fe, is_extended_id=False, data=b"\\xff" * 8))
frames.append(can.Message(arbitration_id=0x1ffffffe, is_extended_id=True, data=b"\\x00" * 8))

def wait_for(arbitration_id, extended, seconds=3):
    end = time.time() + seconds
    while time.time() < end:
        m = bus.recv(0.1)
        # python-can hears its own frames too (multicast loop): the echo is another identifier.
        if m is not None and m.arbitration_id == arbitration_id and m.is_extended_id == extended:
            return m
    raise SystemExit("no frame 0x%x within %d s" % (arbitration_id, seconds))

def show(m):
    return "%x %d %d %d %s" % (m.arbitration_id, m.is_extended_id, m.is_remote_frame, m.dlc, m.data.hex())

for sent in frames:
    bus.send(sent)
    echo = wait_for(sent.arbitration_id + 1, sent.is_extended_id)
    if (echo.is_remote_frame, echo.dlc, bytes(echo.data), echo.is_error_frame, echo.is_fd) != (sent.is_remote_frame, sent.dlc, bytes(sent.data), False, False):
        raise SystemExit("echo of %s is %s" % (show(sent), show(echo)))
    print("echo", show(echo))
print("ready for the board's frames")
print("heard", show(wait_for(0x55, False)))
print("heard", show(wait_for(0x56, False)))
bus.shutdown()
`;

/** The `echo ...` lines the exchange prints, as python-can sees the board's echoes. */
function expectedEchoes(): string[] {
  const lines: string[] = [];
  const hex = (bytes: number[]) => Buffer.from(bytes).toString("hex");
  const range = (from: number, to: number) => Array.from({ length: Math.abs(to - from) }, (_, i) => (to > from ? from + i : from - i));
  for (let n = 0; n < 9; n++) {
    lines.push(`echo ${(0x101 + 2 * n).toString(16)} 0 0 ${n} ${hex(range(0xa0, 0xa0 + n))}`);
    lines.push(`echo ${(0x1abc0001 + 2 * n).toString(16)} 1 0 ${n} ${hex(range(n, 0))}`);
    lines.push(`echo ${(0x201 + 2 * n).toString(16)} 0 1 ${n} `);
    lines.push(`echo ${(0x1001 + 2 * n).toString(16)} 1 1 ${n} `);
  }
  lines.push(`echo 7ff 0 0 8 ${"ff".repeat(8)}`, `echo 1fffffff 1 0 8 ${"00".repeat(8)}`);
  return lines;
}

describe("the CAN bus (xsock/can on the TWAI model, python-can's udp_multicast)", function () {
  this.timeout(60_000);
  let board: SimBoard | undefined;
  let proc: SimProcess | undefined;
  afterEach(async () => {
    await board?.stop();
    await proc?.stop();
    board = proc = undefined;
  });

  it("exchanges standard, extended and remote frames of 0 to 8 bytes with python-can, both ways", async function () {
    needs(this, "/usr/bin/python3 with python3-can and python3-msgpack", hasPythonCan);
    const bus = await testBus();
    board = await startSim({ app: ECHO, can: bus.spec });
    await board.waitLog(/echo: ready/);
    const py = pythonCan(EXCHANGE, [bus.group, String(bus.port)], 45_000);
    await py.line(/ready for the board's frames/, 40_000);
    // The test's port is another node on the board's bus: python-can hears it, and the board's echo of it.
    board.can.send({ arbitration_id: 0x55, is_extended_id: false, data: "c0 ff ee" });
    const out = await py.done;
    const lines = out.trim().split("\n");
    assert.deepEqual(lines.filter((l) => l.startsWith("echo ")), expectedEchoes());
    assert.deepEqual(lines.slice(-2), ["heard 55 0 0 3 c0ffee", "heard 56 0 0 3 c0ffee"]);
    // The board heard each python-can frame once, and none of its own back from the group.
    const rx = board.log.split("\n").filter((l) => l.startsWith("rx "));
    assert.equal(rx.length, expectedEchoes().length + 1, rx.join("\n"));
    assert.equal(new Set(rx).size, rx.length, "a frame came twice");
    assert.ok(rx.includes("rx 100#"), rx.join("\n"));
    assert.ok(rx.includes("rx 1abc0010#0807060504030201"), rx.join("\n"));
    assert.ok(rx.includes("rx 00001010#R8"), rx.join("\n"));
    assert.ok(rx.includes("rx 055#c0ffee"), rx.join("\n"));
    assert.ok(
      rx.every((l) => Number.parseInt(l.slice(3), 16) % 2 === 0 || l === "rx 055#c0ffee"),
      `the board heard an echo of its own:\n${rx.join("\n")}`,
    );
  });

  it("reports bus-off as error frames, restarts after restart-ms, and echoes again", async () => {
    board = await startSim({ app: ECHO });
    await board.waitLog(/echo: ready/);
    board.can.send({ arbitration_id: 0x10, is_extended_id: false, data: [1] });
    await board.can.expect({ arbitration_id: 0x11, data: [1] });
    board.fault("can-bus-off");
    // CAN_ERR_BUSOFF | CAN_ERR_CNT, data[6] the TEC (256, shown as 255), data[7] the REC.
    await board.waitLog(/^error 240 000000000000ff00$/m);
    await board.waitLog(/^state bus-off tec 256 rec 0$/m);
    // CanInterface restarts after 100 ms; the controller recovers: CAN_ERR_RESTARTED | CAN_ERR_CNT.
    await board.waitLog(/^error 300 0000000000000000$/m, { timeout: 10000 });
    await board.waitLog(/^state error-active tec 0 rec 0$/m);
    board.can.send({ arbitration_id: 0x20, is_extended_id: false, data: [2] });
    await board.can.expect({ arbitration_id: 0x21, data: [2] });
  });

  it("does not recover before a lasting bus fault is over", async () => {
    board = await startSim({ app: ECHO });
    await board.waitLog(/echo: ready/);
    const t0 = Date.now();
    board.fault("can-bus-off", 800);
    await board.waitLog(/^error 240 /m);
    await board.waitLog(/^error 300 /m, { timeout: 10000 });
    assert.ok(Date.now() - t0 >= 800, `recovered after ${Date.now() - t0} ms`);
  });

  it("takes can-bus-off from the control socket, and shows it in status until the controller is back", async () => {
    board = await startSim({ app: ECHO, control: 0 });
    await board.waitLog(/echo: ready/);
    const socket = createConnection(board.control!.port, board.control!.host);
    let text = "";
    socket.on("data", (d: Buffer) => (text += d.toString()));
    const command = async (line: string) => {
      text = "";
      socket.write(`${line}\n`);
      while (!/(OK|ERROR[^\n]*)\r\n$/.test(text)) await new Promise((r) => setTimeout(r, 10));
      return text;
    };
    try {
      assert.equal(await command("fault can-bus-off +600ms"), "OK\r\n");
      await board.waitLog(/^error 240 000000000000ff00$/m);
      assert.match(await command("status"), /^faults can-bus-off( \(recovering\))?\r\nOK\r\n$/m);
      await board.waitLog(/^error 300 /m, { timeout: 10000 });
      assert.match(await command("status"), /^faults none\r\nOK\r\n$/m);
    } finally {
      socket.destroy();
    }
  });

  it("lists TWAI's bitrates, refuses others, and refuses CAN FD frames with EOPNOTSUPP", async () => {
    board = await startSim({ app: ECHO, config: { checks: true } });
    await board.waitLog(/echo: ready/);
    const log = board.log;
    assert.match(log, /^driver: twai fd false bitrates 25000,50000,100000,125000,250000,500000,800000,1000000$/m);
    for (const bitrate of [25000, 50000, 100000, 125000, 250000, 500000, 800000, 1000000]) assert.match(log, new RegExp(`^start ${bitrate}: ok$`, "m"));
    assert.match(log, /^start 33333: EINVAL can0 \(twai\) runs at 25000, .*, 1000000 bit\/s, not 33333$/m);
    assert.match(log, /^start 2000000: EINVAL /m);
    assert.match(log, /^send fd: EOPNOTSUPP can0 \(twai\) does not carry CAN FD frames$/m);
    assert.match(log, /^send len 9: EINVAL a CAN frame's length is 0 to 8, not 9$/m);
    assert.match(log, /^send down: ENETDOWN can0 is down$/m);
    assert.match(log, /^can0: up at 500000 bit\/s, normal$/m);
  });

  it("runs can-send, can-expect and the can-bus-off fault in a scenario", async () => {
    const { code, log } = await runSim([ECHO, "--scenario", "test/fixtures/scenarios/can-echo.yaml", "--timeout", "20000"], 30_000);
    assert.equal(code, 0, log);
    assert.match(log, /ok 1\. a standard data frame comes back with its identifier plus one/);
    assert.match(log, /ok 5\. fault "can-bus-off"/);
    assert.match(log, /^error 240 /m);
    assert.match(log, /ok 8\. can-expect 0x7ff/);
    assert.match(log, /scenario "can echo" passed: 8 of 8 steps passed/);
  });

  it("fails a can-expect that no frame meets, saying what came", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xsock-can-"));
    const file = join(dir, "wrong.yaml");
    writeFileSync(
      file,
      ["name: wrong echo", "steps:", '  - can-send: { arbitration_id: 0x123, is_extended_id: false, data: "0102" }', "  - can-expect: { arbitration_id: 0x125, timeout: 300ms }", "  - delay: 1ms"].join("\n"),
    );
    const { code, log } = await runSim([ECHO, "--scenario", file], 30_000);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 1, log);
    assert.match(log, /FAILED 2\. can-expect 0x125 \(\d+ ms\)\n {2}no CAN frame \{"arbitration_id":"0x125"\} within 300 ms; came and not taken: 124#0102/);
    assert.match(log, /skipped 3\. delay "1ms"/);
  });

  it("shares the bus with python-can from the command line, and injects --fault can-bus-off@WHEN", async function () {
    needs(this, "/usr/bin/python3 with python3-can and python3-msgpack", hasPythonCan);
    const bus = await testBus();
    proc = await spawnSim([ECHO, "--can", bus.spec, "--fault", "can-bus-off@1500ms"]);
    await proc.waitLog(/echo: ready/);
    const py = pythonCan(
      `
import can, sys, time
bus = can.Bus(interface="udp_multicast", channel=sys.argv[1], port=int(sys.argv[2]))
# Sent again each second until the echo comes: on a loaded machine this program may start as
# the scheduled bus-off begins, and a frame sent while the controller is off is not echoed.
end = time.time() + 20
while time.time() < end:
    bus.send(can.Message(arbitration_id=0x300, is_extended_id=False, data=b"hi"))
    m = bus.recv(1)
    while m is not None and m.arbitration_id != 0x301:
        m = bus.recv(1)
    if m is not None:
        print("echo", m.data.hex())
        break
else:
    raise SystemExit("no echo")
bus.shutdown()
`,
      [bus.group, String(bus.port)],
      30_000,
    );
    assert.equal((await py.done).trim(), "echo 6869");
    assert.match(proc.log, /sim: the CAN bus is on udp-multicast \[ff15:7079:7468:6f6e:6465:6d6f:6d63:[0-9a-f]+\]:\d+/);
    await proc.waitLog(/sim: fault can-bus-off/, 15000);
    await proc.waitLog(/^error 240 000000000000ff00$/m, 15000);
    await proc.waitLog(/^error 300 /m, 15000);
  });

  it("refuses a bad --can with exit 2", async () => {
    const { code, log } = await runSim(["--can", "udp-multicast:239.1.2.3"]);
    assert.equal(code, 2, log);
    assert.match(log, /bad CAN group "239\.1\.2\.3": an IPv6 multicast address/);
  });
});
