// The console's CAN commands and SLCAN mode over the simulator's UART, against python-can peers
// (Debian's python3-can) on the board's bus: its udp_multicast interface on a group and port of this
// suite's own, and its slcan interface on the pty.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { withConsole } from "../helpers/console.ts";
import { hasPythonCan, pythonCan, testBus } from "../helpers/python-can.ts";
import { SYSTEM_PYTHON } from "../helpers/python.ts";
import { needs } from "../helpers/sim.ts";
import { UartClient } from "../helpers/uart.ts";

const hasPyserial = spawnSync(SYSTEM_PYTHON, ["-c", "import serial"]).status === 0;

interface PeerFrame {
  id: number;
  ext: boolean;
  rtr?: boolean;
  dlc?: number;
  data?: string;
}

/** Prints `ready` once on the bus, then each of n frames it hears as a JSON line. */
const RECEIVE = `
import can, json, sys
group, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bus = can.Bus(interface="udp_multicast", channel=group, port=port)
print("ready", flush=True)
for _ in range(n):
    m = bus.recv(10)
    if m is None:
        sys.exit("no frame within 10 s")
    print(json.dumps({"id": m.arbitration_id, "ext": m.is_extended_id, "rtr": m.is_remote_frame, "dlc": m.dlc, "data": m.data.hex()}), flush=True)
bus.shutdown()
`;

/** Sends the frames given as JSON. */
const SEND = `
import can, json, sys
group, port, frames = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
bus = can.Bus(interface="udp_multicast", channel=group, port=port)
for f in frames:
    bus.send(can.Message(arbitration_id=f["id"], is_extended_id=f["ext"], is_remote_frame=f.get("rtr", False), dlc=f.get("dlc"), data=bytes.fromhex(f.get("data", ""))))
bus.shutdown()
`;

const heard = (out: string) =>
  out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as PeerFrame);

/** Each suite's bus: a group and a port of this run's own (python-can's default would be shared). */
const CONSOLE_BUS = await testBus();
const SLCAN_BUS = await testBus();

describe("console CAN commands with python-can on the bus", function () {
  this.timeout(30000);
  const bus = CONSOLE_BUS;
  const session = withConsole({ sim: { can: bus.spec }, join: false });
  before(function () {
    needs(this, "python-can (python3-can)", hasPythonCan);
  });
  const sendFromPeer = (frames: PeerFrame[]) => pythonCan(SEND, [bus.group, String(bus.port), JSON.stringify(frames)]).done;

  it("sends AT+CANSEND frames that python-can receives with their ids, flags and data", async () => {
    const { uart } = session;
    assert.equal(await uart.command("AT+CANSEND=123,00"), "\r\nERROR\r\n", "can0 is not started");
    assert.equal(await uart.command("AT+CANCFG=500000"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CANCFG?"), '+CANCFG:500000,0,"error-active",0,0\r\n\r\nOK\r\n');
    const peer = pythonCan(RECEIVE, [bus.group, String(bus.port), "5"]);
    await peer.line(/ready/, 10000);
    for (const line of ["AT+CANSEND=123,DEADBEEF", "AT+CANSEND=1ABCDEF0,0102030405060708,1", "AT+CANSEND=7FF,4,2", "AT+CANSEND=\"00000005\",\"\"", "AT+CANSEND=0x10,,3"])
      assert.equal(await uart.command(line), "\r\nOK\r\n", line);
    assert.deepEqual(heard(await peer.done), [
      { id: 0x123, ext: false, rtr: false, dlc: 4, data: "deadbeef" },
      { id: 0x1abcdef0, ext: true, rtr: false, dlc: 8, data: "0102030405060708" },
      { id: 0x7ff, ext: false, rtr: true, dlc: 4, data: "" },
      { id: 5, ext: true, rtr: false, dlc: 0, data: "" },
      { id: 0x10, ext: true, rtr: true, dlc: 0, data: "" },
    ]);
    assert.equal(session.sim!.can.frames.length, 5, "the test's own node on the bus heard the same five");
  });

  it("prints the frames python-can sends as +CANRX lines", async () => {
    const { uart } = session;
    assert.equal(await uart.command("AT+CANCFG=500000"), "\r\nOK\r\n");
    await sendFromPeer([
      { id: 0x123, ext: false, data: "010203" },
      { id: 0x12345678, ext: true, data: "00112233445566ff" },
      { id: 0x7ff, ext: false, rtr: true, dlc: 8 },
      { id: 0x1fffffff, ext: true, rtr: true, dlc: 0 },
      { id: 0x000, ext: false, data: "" },
    ]);
    const lines = await uart.expect(/\+CANRX:000,0,\r\n/, 10000);
    assert.equal(lines, "+CANRX:123,3,010203\r\n+CANRX:12345678,8,00112233445566FF\r\n+CANRX:7FF,8,R\r\n+CANRX:1FFFFFFF,0,R\r\n+CANRX:000,0,\r\n");
    assert.equal(await uart.command("AT+CANCFG=0"), "\r\nOK\r\n");
    await sendFromPeer([{ id: 0x321, ext: false, data: "01" }]);
    assert.equal(await uart.command("AT+CANCFG=500000"), "\r\nOK\r\n");
    await sendFromPeer([{ id: 0x322, ext: false, data: "02" }]);
    assert.equal(await uart.expect(/\+CANRX:[^\r]*\r\n/, 10000), "+CANRX:322,1,02\r\n", "nothing came while can0 was stopped");
  });

  it("applies AT+CANFLT filters as Linux's CAN_RAW does: standard, extended and inverted", async () => {
    const { uart } = session;
    await uart.command("AT+CANCFG=250000");
    assert.equal(await uart.command("AT+CANFLT=123,C00007FF"), "\r\nOK\r\n", "standard data frames with id 0x123");
    assert.equal(await uart.command("AT+CANFLT=12345600,1FFFFF00"), "\r\nOK\r\n", "extended frames 0x123456xx");
    assert.equal(await uart.command("AT+CANFLT?"), "+CANFLT:0,123,C00007FF,0\r\n+CANFLT:1,12345600,1FFFFF00,0\r\n\r\nOK\r\n");
    await sendFromPeer([
      { id: 0x123, ext: false, data: "01" },
      { id: 0x123, ext: true, data: "02" },
      { id: 0x124, ext: false, data: "03" },
      { id: 0x123, ext: false, rtr: true, dlc: 1 },
      { id: 0x12345678, ext: true, data: "04" },
      { id: 0x12345700, ext: true, data: "05" },
      { id: 0x123456ff, ext: true, data: "06" },
    ]);
    assert.equal(await uart.expect(/\+CANRX:123456FF,1,06\r\n/, 10000), "+CANRX:123,1,01\r\n+CANRX:12345678,1,04\r\n+CANRX:123456FF,1,06\r\n");
    assert.equal(await uart.command("AT+CANFLT"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CANFLT=100,700,1"), "\r\nOK\r\n", "inverted: every id outside 0x100-0x1FF");
    await sendFromPeer([
      { id: 0x123, ext: false, data: "07" },
      { id: 0x00000100, ext: true, data: "08" },
      { id: 0x223, ext: false, data: "09" },
      { id: 0x00000200, ext: true, data: "0a" },
    ]);
    assert.equal(await uart.expect(/\+CANRX:00000200,1,0A\r\n/, 10000), "+CANRX:223,1,09\r\n+CANRX:00000200,1,0A\r\n");
  });

  it("answers ERROR to malformed CAN commands and keeps serving, its bus still up", async () => {
    const { uart } = session;
    await uart.command("AT+CANCFG=500000");
    const bad = [
      "AT+CANCFG=123456",
      "AT+CANCFG=500000,7",
      "AT+CANCFG=abc",
      "AT+CANSEND=800,00",
      "AT+CANSEND=123,ABC",
      "AT+CANSEND=123,001122334455667788",
      "AT+CANSEND=123,00,9",
      'AT+CANSEND="123,00',
      "AT+CANSEND=123,00,1,1",
      "AT+CANSEND",
      "AT+CANFLT=123",
      "AT+CANFLT=123,7FF,5",
      "AT+CANFLT=123,2FFFFFFF",
      "AT+CANSLCAN=1",
      "AT+CANFLT=" + "F".repeat(300),
    ];
    for (const line of bad) assert.equal(await uart.command(line), "\r\nERROR\r\n", line);
    assert.equal(await uart.command("AT"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CANCFG?"), '+CANCFG:500000,0,"error-active",0,0\r\n\r\nOK\r\n');
    await sendFromPeer([{ id: 0x42, ext: false, data: "42" }]);
    assert.equal(await uart.expect(/\+CANRX:[^\r]*\r\n/, 10000), "+CANRX:042,1,42\r\n");
  });

  it("reports bus-off and the recovery as +CANERR, and refuses to send while bus-off", async () => {
    const { uart, sim } = session;
    await uart.command("AT+CANCFG=500000");
    await uart.command("AT+CANFLT=7FF,7FF"); // filters do not hide error reports
    sim!.fault("can-bus-off", 1500);
    assert.match(await uart.expect(/\+CANERR:[^\r]*\r\n/, 5000), /^\+CANERR:"bus-off",\d+,\d+\r\n$/);
    assert.match(await uart.command("AT+CANCFG?"), /^\+CANCFG:500000,0,"bus-off",\d+,\d+\r\n\r\nOK\r\n$/);
    assert.equal(await uart.command("AT+CANSEND=123,01"), "\r\nERROR\r\n");
    assert.match(await uart.expect(/\+CANERR:"error-active"[^\r]*\r\n/, 10000), /\+CANERR:"error-active",\d+,\d+\r\n$/);
    assert.equal(await uart.command("AT+CANSEND=123,01"), "\r\nOK\r\n");
    await sim!.can.expect({ arbitration_id: 0x123, is_extended_id: false, data: "01" });
  });

  it("waits out a full transmit queue: every AT+CANSEND answered, every frame it OKs on the bus, in order", async () => {
    const { uart, sim } = session;
    await uart.command("AT+CANCFG=25000"); // about 6 ms a frame: the queue of 16 fills at once
    const line = (i: number) => `AT+CANSEND=${i.toString(16)},0011223344556677\r\n`;
    // 64 lines at once: the queue fills even when a loaded machine runs each command slower than a frame goes out.
    const sent = 64;
    await uart.write(Array.from({ length: sent }, (_, i) => line(i)).join(""));
    let replies = "";
    while ((replies.match(/OK\r\n|busy p\.\.\.\r\n/g) ?? []).length < sent) replies += await uart.expect(/OK\r\n|busy p\.\.\.\r\n/, 5000);
    const oks = (replies.match(/OK\r\n/g) ?? []).length;
    assert.ok(replies.includes("busy p..."), "a CANSEND waited for room: the lines behind it were busy");
    assert.ok(oks >= 16, `${oks} OK`);
    for (let i = 0; i < oks; i++) assert.equal((await sim!.can.expect({ is_extended_id: false }, { timeout: 5000 })).arbitration_id, i);
    // A host that waits for each reply, as ESP-AT hosts do, gets every frame out.
    for (let i = 0; i < 40; i++) assert.equal(await uart.command(line(100 + i).trim()), "\r\nOK\r\n");
    for (let i = 0; i < 40; i++) assert.equal((await sim!.can.expect({ is_extended_id: false }, { timeout: 5000 })).arbitration_id, 100 + i, "no busy line's frame went out");
  });

  it("lists the CAN commands in AT+CMD?", async () => {
    const list = await session.uart.command("AT+CMD?");
    for (const name of ["CANCFG", "CANSEND", "CANFLT", "CANSLCAN"]) assert.match(list, new RegExp(`\\+CMD:\\d+,"AT\\+${name}",`), name);
  });
});

/** python-can's slcan interface on the pty, and a udp_multicast bus on the board's group: frames both ways. */
const SLCAN = `
import can, json, sys
path, group, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
mc = can.Bus(interface="udp_multicast", channel=group, port=port)
sl = can.Bus(interface="slcan", channel=path, bitrate=500000, sleep_after_open=0)
out = {"version": list(sl.get_version(5)), "serial": sl.get_serial_number(5)}
sent = [
    can.Message(arbitration_id=0x123, is_extended_id=False, data=[1, 2, 3]),
    can.Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=range(8)),
    can.Message(arbitration_id=0x7FF, is_extended_id=False, is_remote_frame=True, dlc=4),
]
for m in sent:
    sl.send(m)
def recv(bus):
    m = bus.recv(10)
    if m is None:
        sys.exit("no frame within 10 s")
    return {"id": m.arbitration_id, "ext": m.is_extended_id, "rtr": m.is_remote_frame, "dlc": m.dlc, "data": m.data.hex()}
out["to_bus"] = [recv(mc) for _ in sent]
for m in [
    can.Message(arbitration_id=0x321, is_extended_id=False, data=b"\\xde\\xad"),
    can.Message(arbitration_id=0x00000042, is_extended_id=True, data=b""),
    can.Message(arbitration_id=0x10, is_extended_id=False, is_remote_frame=True, dlc=2),
]:
    mc.send(m)
out["from_bus"] = [recv(sl) for _ in range(3)]
sl.shutdown()
mc.shutdown()
print(json.dumps(out))
`;

describe("SLCAN mode with python-can's slcan interface on the pty", function () {
  this.timeout(40000);
  const bus = SLCAN_BUS;
  const session = withConsole({ sim: { can: bus.spec }, join: false });
  before(function () {
    needs(this, "python-can (python3-can) and pyserial (python3-serial)", hasPythonCan && hasPyserial);
  });

  it("makes the board a USB-CAN adapter after AT+CANSLCAN, frames both ways, until a restart", async () => {
    const { sim } = session;
    assert.equal(await session.uart.command("AT+CANSLCAN"), "\r\nOK\r\n");
    await session.uart.close(); // python-can takes the pty
    const out = JSON.parse(await pythonCan(SLCAN, [sim!.uart.path, bus.group, String(bus.port)], 30000).done) as Record<string, unknown>;
    assert.deepEqual(out.version, [1, 1], "V0101");
    assert.match(String(out.serial), /^[0-9A-F]{4}$/);
    assert.deepEqual(out.to_bus, [
      { id: 0x123, ext: false, rtr: false, dlc: 3, data: "010203" },
      { id: 0x1abcdef0, ext: true, rtr: false, dlc: 8, data: "0001020304050607" },
      { id: 0x7ff, ext: false, rtr: true, dlc: 4, data: "" },
    ]);
    assert.deepEqual(out.from_bus, [
      { id: 0x321, ext: false, rtr: false, dlc: 2, data: "dead" },
      { id: 0x42, ext: true, rtr: false, dlc: 0, data: "" },
      { id: 0x10, ext: false, rtr: true, dlc: 2, data: "" },
    ]);

    // python-can closed the channel (C) on shutdown; the board still speaks SLCAN.
    session.uart = await UartClient.open(sim!.uart.path);
    await session.uart.write("V\r");
    assert.match(await session.uart.expect("V0101\r"), /^\r*V0101\r$/, "V's reply, after any reply python-can left unread");
    await session.uart.write("AT\r\n");
    assert.equal(await session.uart.expect("\x07"), "\x07", "no AT console in SLCAN mode");

    // A restart leaves SLCAN mode: the console is back.
    await sim!.restart();
    await session.uart.expect("ready\r\n", 5000);
    assert.equal(await session.uart.command("AT"), "AT\r\n\r\nOK\r\n");
    assert.equal(await session.uart.command("V"), "V\r\n\r\nERROR\r\n");
    assert.equal(await session.uart.command("AT+CANCFG?"), 'AT+CANCFG?\r\n+CANCFG:0,0,"stopped",0,0\r\n\r\nOK\r\n');
  });
});

describe("console CAN frames faster than the UART takes them", function () {
  this.timeout(60000);
  const session = withConsole({ sim: { baud: 38400 }, join: false });

  it("drops what the UART has no room for, reports how many with +CANERR, keeps answering, and holds no more heap", async () => {
    const { uart, sim } = session;
    assert.equal(await uart.command("AT+CANCFG=1000000"), "\r\nOK\r\n");
    const before = await sim!.collect();
    const sent = 3000;
    for (let i = 0; i < sent; i++) {
      sim!.can.send({ arbitration_id: i & 0x7ff, is_extended_id: false, data: "0011223344556677" });
      if (i % 25 === 24) await new Promise((r) => setTimeout(r, 2));
    }
    const text = await uart.expect(/\+CANERR:"rx-overflow",\d+\r\n/, 30000);
    const lost = Number(/"rx-overflow",(\d+)/.exec(text)![1]);
    const shown = (text.match(/\+CANRX:/g) ?? []).length;
    assert.ok(lost > 0 && shown > 0, `${shown} shown, ${lost} lost`);
    const rest = await uart.command("AT", 30000); // the lines still queued, then OK
    const all = text + rest;
    const lines = all.match(/\+CANRX:[^\r]*\r\n/g) ?? [];
    const reported = [...all.matchAll(/"rx-overflow",(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    assert.ok(lines.length + reported <= sent, `${lines.length} shown and ${reported} reported lost of ${sent}`);
    assert.ok(lines.every((l) => /^\+CANRX:[0-7][0-9A-F]{2},8,0011223344556677\r\n$/.test(l)), "whole lines only");
    const after = await sim!.collect();
    assert.ok(after.slots < before.slots + 1000, `heap: ${before.slots} slots before, ${after.slots} after`);
    console.log(`      ${sent} frames at the board, ${lines.length} shown on a 38400-baud UART, ${reported} reported lost; heap ${before.slots} -> ${after.slots} slots`);
  });
});
