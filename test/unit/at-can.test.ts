// The console's CAN commands: their arguments on their own, and the commands through the AT
// console over a stand-in for can0 that records what it is asked to do.
import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { AtConsole, type Clock } from "../../src/at/console.ts";
import { basicCommands } from "../../src/at/basic.ts";
import { parseCommand } from "../../src/at/parser.ts";
import type { Settings } from "../../src/at/settings.ts";
import { CAN_SEND_TIMEOUT, CAN_UART_ROOM, canCommands, canErrLine, canFilterLine, canRxLine, errorState, formatCanId, parseCanFilter, parseCanId, parseCanSend, type CanBus, type CanModeName } from "../../src/at/can.ts";
import { CAN_EFF_FLAG, CAN_ERR_BUSOFF, CAN_ERR_CNT, CAN_ERR_CRTL, CAN_ERR_CRTL_ACTIVE, CAN_ERR_CRTL_RX_WARNING, CAN_ERR_CRTL_TX_PASSIVE, CAN_ERR_LOSTARB, CAN_ERR_RESTARTED, CAN_INV_FILTER, CAN_RTR_FLAG, errorFrame, frameProblem, type CanFrame } from "../../src/net/can-frame.ts";

const TWAI = [25000, 50000, 100000, 125000, 250000, 500000, 800000, 1000000];
type Receiver = (frame: CanFrame, own: boolean) => void;

/** can0 as CanInterface behaves toward its users, without a controller. */
class StandInBus implements CanBus {
  up = false;
  state = "stopped";
  settings = { bitrate: 500000, mode: "normal" as CanModeName };
  driver = { bitrates: TWAI, counters: { tx: 0, rx: 0 } };
  sent: CanFrame[] = [];
  full = false;
  busOff = false;
  receivers = new Set<Receiver>();
  writable = new Set<() => void>();
  start(settings: { bitrate: number; mode: CanModeName }) {
    this.settings = { ...settings };
    this.up = true;
    this.state = "error-active";
  }
  stop() {
    this.up = false;
    this.state = "stopped";
  }
  send(frame: CanFrame, from?: Receiver) {
    if (!this.up || this.busOff || this.settings.mode === "listen-only") throw new Error("ENETDOWN");
    if (this.full) return false;
    this.sent.push(frame);
    for (const r of [...this.receivers]) r(frame, r === from);
    return true;
  }
  onWritable(waiter: () => void) {
    this.writable.add(waiter);
    return () => void this.writable.delete(waiter);
  }
  subscribe(receiver: Receiver) {
    this.receivers.add(receiver);
    return () => void this.receivers.delete(receiver);
  }
  /** A frame from another node. */
  deliver(frame: CanFrame) {
    for (const r of [...this.receivers]) r(frame, false);
  }
  makeRoom() {
    this.full = false;
    for (const w of [...this.writable]) w();
  }
}

class ManualClock implements Clock {
  time = 0;
  timers = new Set<{ at: number; fn: () => void }>();
  now = () => this.time;
  after(ms: number, fn: () => void) {
    const timer = { at: this.time + ms, fn };
    this.timers.add(timer);
    return () => void this.timers.delete(timer);
  }
  advance(ms: number) {
    this.time += ms;
    for (const t of [...this.timers].sort((a, b) => a.at - b.at))
      if (t.at <= this.time && this.timers.delete(t)) t.fn();
  }
}

function canConsole(options: { idle?: boolean } = {}) {
  const bus = new StandInBus();
  const clock = new ManualClock();
  const board = { backlog: 0, idle: options.idle ?? true };
  let out = "";
  const table = {};
  const flash = { store: true, get: <T>(_key: string, fallback: T) => fallback, save() {}, keep() {}, clear() {} } as unknown as Settings;
  const basics = basicCommands({ chip: "ESP32", board: "esp32/nodemcu" }, { restart: () => true, freeHeap: () => 0, heapSize: 0, baud: 115200, defaultBaud: 115200, setBaud() {} }, flash, table);
  const at = new AtConsole((bytes) => (out += Buffer.from(bytes).toString("latin1")), table, clock);
  at.echo = false;
  Object.assign(table, basics, canCommands(at, bus, { clock, uartBacklog: () => board.backlog, idle: () => board.idle, slcan: { serial: "AB12", version: "0101" } }));
  const take = () => [out, (out = "")][0];
  const feed = (text: string) => at.input(Buffer.from(text, "latin1"));
  /** Runs a command line and returns everything it printed. */
  const command = (line: string) => {
    take();
    feed(`${line}\r\n`);
    return take();
  };
  return { at, bus, clock, board, take, feed, command };
}

const OK = "\r\nOK\r\n";
const ERROR = "\r\nERROR\r\n";
const frame = (can_id: number, data: number[] = [], len = data.length): CanFrame => ({ can_id: can_id >>> 0, len, data: Uint8Array.from(data) });
const fields = (text: string) => parseCommand(`AT+CANSEND=${text}`, () => true)!.params;

describe("AT+CAN arguments", () => {
  it("reads ids in hex: 3 digits or fewer standard, 8 digits extended, as cansend does", () => {
    assert.equal(parseCanId("123"), 0x123);
    assert.equal(parseCanId("7ff"), 0x7ff);
    assert.equal(parseCanId("0x7FF"), 0x7ff);
    assert.equal(parseCanId("0123"), 0x123, "leading zeros stay standard");
    assert.equal(parseCanId("800"), undefined, "over 11 bits without the extended flag");
    assert.equal(parseCanId("800", true), (0x800 | CAN_EFF_FLAG) >>> 0);
    assert.equal(parseCanId("00000123"), (0x123 | CAN_EFF_FLAG) >>> 0, "8 digits: extended");
    assert.equal(parseCanId("1FFFFFFF"), (0x1fffffff | CAN_EFF_FLAG) >>> 0);
    for (const bad of ["20000000", "123456789", "", "G12", "-1", "1 2", undefined, 123]) assert.equal(parseCanId(bad as string), undefined, String(bad));
  });

  it("reads AT+CANSEND's <id>,<data>[,<flags>]", () => {
    assert.deepEqual(parseCanSend(fields("123,DEADBEEF")), frame(0x123, [0xde, 0xad, 0xbe, 0xef]));
    assert.deepEqual(parseCanSend(fields('0x7FF,"0011"')), frame(0x7ff, [0, 0x11]));
    assert.deepEqual(parseCanSend(fields("123")), frame(0x123), "no data");
    assert.deepEqual(parseCanSend(fields("123,")), frame(0x123));
    assert.deepEqual(parseCanSend(fields("12345678,0102030405060708")), frame(0x12345678 | CAN_EFF_FLAG, [1, 2, 3, 4, 5, 6, 7, 8]));
    assert.deepEqual(parseCanSend(fields("123,aa,1")), frame(0x123 | CAN_EFF_FLAG, [0xaa]), "flag 1: extended");
    assert.deepEqual(parseCanSend(fields("123,8,2")), frame(0x123 | CAN_RTR_FLAG, [], 8), "flag 2: remote, with its length");
    assert.deepEqual(parseCanSend(fields("123,,3")), frame(0x123 | CAN_EFF_FLAG | CAN_RTR_FLAG, [], 0));
    for (const bad of ["", "800,00", "123,ABC", "123,001122334455667788", "123,00,4", "123,00,1,2", "123,9,2", "123,AA,2", "123,0x00", "XYZ,00", "123,00,x", ',"00"'])
      assert.equal(parseCanSend(fields(bad)), undefined, bad);
  });

  it("reads AT+CANFLT's <id>,<mask>[,<inverted>] as a CAN_RAW filter, and lists it as it was given", () => {
    assert.deepEqual(parseCanFilter(fields("123,7FF")), { can_id: 0x123, can_mask: 0x7ff });
    assert.deepEqual(parseCanFilter(fields("123,7FF,1")), { can_id: (0x123 | CAN_INV_FILTER) >>> 0, can_mask: 0x7ff });
    assert.deepEqual(parseCanFilter(fields("12345678,1FFFFFFF")), { can_id: (0x12345678 | CAN_EFF_FLAG) >>> 0, can_mask: 0x1fffffff });
    assert.deepEqual(parseCanFilter(fields("123,C00007FF")), { can_id: 0x123, can_mask: 0xc00007ff });
    for (const bad of ["123", "123,7FF,2", "123,7FF,0,0", "123,20000000", "800,7FF", "123,123456789", ",7FF"]) assert.equal(parseCanFilter(fields(bad)), undefined, bad);
    for (const text of ["123,7FF,0", "123,7FF,1", "12345678,1FFFFFFF,0", "000,000,0", "7FF,800007FF,1"]) {
      const filter = parseCanFilter(fields(text))!;
      assert.equal(canFilterLine(3, filter), `+CANFLT:3,${text}`);
    }
  });

  it("writes +CANRX lines: 3 or 8 hex digits for the id, the length, the data in hex or R", () => {
    assert.equal(canRxLine(frame(0x123, [0xde, 0xad])), "+CANRX:123,2,DEAD");
    assert.equal(canRxLine(frame(0x5, [])), "+CANRX:005,0,");
    assert.equal(canRxLine(frame(0x1abcdef | CAN_EFF_FLAG, [1, 2, 3, 4, 5, 6, 7, 8])), "+CANRX:01ABCDEF,8,0102030405060708");
    assert.equal(canRxLine(frame(0x7ff | CAN_RTR_FLAG, [], 4)), "+CANRX:7FF,4,R");
    assert.equal(canRxLine(frame(0x1 | CAN_EFF_FLAG | CAN_RTR_FLAG, [], 0)), "+CANRX:00000001,0,R");
  });

  it("names the controller's state an error frame tells of, with its counters", () => {
    const counters = { tx: 5, rx: 6 };
    assert.equal(canErrLine(errorFrame(CAN_ERR_BUSOFF | CAN_ERR_CNT, [0, 0, 0, 0, 0, 0, 255, 12]), "error-active", counters), '+CANERR:"bus-off",255,12');
    assert.equal(canErrLine(errorFrame(CAN_ERR_RESTARTED | CAN_ERR_CNT, [0, 0, 0, 0, 0, 0, 0, 0]), "bus-off", counters), '+CANERR:"error-active",0,0');
    assert.equal(canErrLine(errorFrame(CAN_ERR_CRTL | CAN_ERR_CNT, [0, CAN_ERR_CRTL_RX_WARNING, 0, 0, 0, 0, 0, 97]), "error-active", counters), '+CANERR:"error-warning",0,97');
    assert.equal(canErrLine(errorFrame(CAN_ERR_CRTL | CAN_ERR_CNT, [0, CAN_ERR_CRTL_TX_PASSIVE, 0, 0, 0, 0, 130, 0]), "error-warning", counters), '+CANERR:"error-passive",130,0');
    assert.equal(errorState(errorFrame(CAN_ERR_CRTL, [0, CAN_ERR_CRTL_ACTIVE]), "error-passive"), "error-active");
    assert.equal(canErrLine(errorFrame(CAN_ERR_LOSTARB), "error-warning", counters), '+CANERR:"error-warning",5,6', "no state in it: the current one and the driver's counters");
  });

  it("never throws on any fields, and what it reads is a frame a bus carries (fuzz)", () => {
    const field = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 20 }), fc.stringMatching(/^[0-9A-Fa-fxX]{0,20}$/));
    fc.assert(
      fc.property(fc.array(field, { maxLength: 5 }), (params) => {
        const sent = parseCanSend(params);
        if (sent) assert.equal(frameProblem(sent), undefined);
        const filter = parseCanFilter(params);
        if (filter) assert.deepEqual(parseCanFilter(fields(canFilterLine(0, filter).replace(/^\+CANFLT:0,/, ""))), filter);
      }),
      { numRuns: runs(5000) },
    );
  });

  it("reads back every frame as AT+CANSEND would be written for it (fuzz)", () => {
    const anyFrame = fc.record({ ext: fc.boolean(), rtr: fc.boolean(), id: fc.integer({ min: 0, max: 0x1fffffff }), data: fc.uint8Array({ maxLength: 8 }), len: fc.integer({ min: 0, max: 8 }) });
    fc.assert(
      fc.property(anyFrame, ({ ext, rtr, id, data, len }) => {
        const can_id = ((ext ? id : id & 0x7ff) | (ext ? CAN_EFF_FLAG : 0) | (rtr ? CAN_RTR_FLAG : 0)) >>> 0;
        const f = rtr ? frame(can_id, [], len) : frame(can_id, [...data]);
        const hexData = rtr ? String(len) : Buffer.from(data).toString("hex");
        const text = `${formatCanId(can_id)},${hexData},${(ext ? 1 : 0) | (rtr ? 2 : 0)}`;
        assert.deepEqual(parseCanSend(fields(text)), f, text);
      }),
      { numRuns: runs(5000) },
    );
  });
});

describe("AT+CAN commands", () => {
  it("AT+CANCFG starts, reports and stops can0, at a bitrate the controller has", () => {
    const c = canConsole();
    assert.equal(c.command("AT+CANCFG?"), `+CANCFG:0,0,"stopped",0,0\r\n${OK}`);
    assert.equal(c.command("AT+CANCFG=?"), `+CANCFG:(0,${TWAI.join(",")}),(0-2)\r\n${OK}`);
    assert.equal(c.command("AT+CANCFG=500000,1"), OK);
    assert.deepEqual([c.bus.up, c.bus.settings], [true, { bitrate: 500000, mode: "no-ack" }]);
    c.bus.driver.counters = { tx: 3, rx: 4 };
    assert.equal(c.command("AT+CANCFG?"), `+CANCFG:500000,1,"error-active",3,4\r\n${OK}`);
    assert.equal(c.command("AT+CANCFG=125000"), OK);
    assert.deepEqual(c.bus.settings, { bitrate: 125000, mode: "normal" }, "mode 0 when left out");
    assert.equal(c.command("AT+CANCFG=250000,2"), OK);
    assert.equal(c.bus.settings.mode, "listen-only");
    for (const bad of ["AT+CANCFG=12345", "AT+CANCFG=500000,3", "AT+CANCFG=500000,1,0", "AT+CANCFG=-1", 'AT+CANCFG="500000"', "AT+CANCFG=0,1", "AT+CANCFG=,1", "AT+CANCFG"])
      assert.equal(c.command(bad), ERROR, bad);
    assert.equal(c.bus.settings.mode, "listen-only", "a refused command changes nothing");
    assert.equal(c.command("AT+CANCFG=0"), OK);
    assert.equal(c.bus.up, false);
    assert.equal(c.command("AT+CANCFG=0"), OK, "stopping twice is no error");
  });

  it("AT+CANSEND sends frames once can0 is up, and answers ERROR to bad ones, a stopped bus, listen-only and bus-off", () => {
    const c = canConsole();
    assert.equal(c.command("AT+CANSEND=123,AABB"), ERROR, "can0 is stopped");
    c.command("AT+CANCFG=500000");
    assert.equal(c.command("AT+CANSEND=123,AABB"), OK);
    assert.equal(c.command("AT+CANSEND=1ABCDEF0,01,1"), OK);
    assert.equal(c.command("AT+CANSEND=7FF,8,2"), OK);
    assert.deepEqual(c.bus.sent, [frame(0x123, [0xaa, 0xbb]), frame(0x1abcdef0 | CAN_EFF_FLAG, [1]), frame(0x7ff | CAN_RTR_FLAG, [], 8)]);
    for (const bad of ["AT+CANSEND=", "AT+CANSEND", "AT+CANSEND?", "AT+CANSEND=800,00", 'AT+CANSEND=123,"AB', "AT+CANSEND=123,ABC", "AT+CANSEND=123,00,7"]) assert.equal(c.command(bad), ERROR, bad);
    c.bus.busOff = true;
    assert.equal(c.command("AT+CANSEND=123,00"), ERROR, "bus-off");
    c.bus.busOff = false;
    c.command("AT+CANCFG=500000,2");
    assert.equal(c.command("AT+CANSEND=123,00"), ERROR, "listen-only");
    assert.equal(c.bus.sent.length, 3);
  });

  it("AT+CANSEND waits for room in a full transmit queue, and gives up with ERROR after a second", async () => {
    const c = canConsole();
    c.command("AT+CANCFG=500000");
    c.bus.full = true;
    assert.equal(c.command("AT+CANSEND=123,01"), "", "no answer while it waits");
    assert.equal(c.command("AT"), "busy p...\r\n");
    c.clock.advance(CAN_SEND_TIMEOUT / 2);
    c.bus.makeRoom();
    await new Promise((r) => setImmediate(r));
    assert.equal(c.take(), OK);
    assert.deepEqual(c.bus.sent, [frame(0x123, [1])]);
    c.bus.full = true;
    assert.equal(c.command("AT+CANSEND=123,02"), "");
    c.clock.advance(CAN_SEND_TIMEOUT);
    await new Promise((r) => setImmediate(r));
    assert.equal(c.take(), ERROR);
    assert.equal(c.bus.writable.size, 0, "it stops waiting");
    c.bus.makeRoom();
    assert.equal(c.bus.sent.length, 1, "a frame given up on is not sent later");
    assert.equal(c.command("AT"), OK);
  });

  it("prints frames from the bus as +CANRX while can0 is up, not the console's own", () => {
    const c = canConsole();
    c.bus.deliver(frame(0x123, [1]));
    assert.equal(c.take(), "");
    c.command("AT+CANCFG=500000");
    c.bus.deliver(frame(0x123, [0xde, 0xad]));
    c.bus.deliver(frame(0x12345678 | CAN_EFF_FLAG, [1, 2, 3]));
    c.bus.deliver(frame(0x10 | CAN_RTR_FLAG, [], 2));
    assert.equal(c.take(), "+CANRX:123,2,DEAD\r\n+CANRX:12345678,3,010203\r\n+CANRX:010,2,R\r\n");
    assert.equal(c.command("AT+CANSEND=321,00"), OK, "its own frame is not printed back");
    c.command("AT+CANCFG=0");
    c.bus.deliver(frame(0x123, [1]));
    assert.equal(c.take(), "");
  });

  it("AT+CANFLT filters +CANRX as Linux's CAN_RAW does: masks, extended ids, inverted filters; lists and clears them", () => {
    const c = canConsole();
    c.command("AT+CANCFG=500000");
    const heard = (frames: CanFrame[]) => {
      c.take();
      for (const f of frames) c.bus.deliver(f);
      return [...c.take().matchAll(/\+CANRX:(\w+),/g)].map((m) => m[1]);
    };
    const traffic = [frame(0x123), frame(0x124), frame(0x123 | CAN_EFF_FLAG), frame(0x12345678 | CAN_EFF_FLAG), frame(0x678), frame(0x123 | CAN_RTR_FLAG)];
    assert.deepEqual(heard(traffic), ["123", "124", "00000123", "12345678", "678", "123"], "no filter: everything");
    assert.equal(c.command("AT+CANFLT=123,7FF"), OK);
    assert.deepEqual(heard(traffic), ["123", "00000123", "123"], "a mask without bit 31 takes both frame formats, as on Linux");
    c.command("AT+CANFLT");
    assert.equal(c.command("AT+CANFLT=123,C00007FF"), OK);
    assert.deepEqual(heard(traffic), ["123"], "bits 31 and 30 of the mask: standard data frames only");
    c.command("AT+CANFLT");
    assert.equal(c.command("AT+CANFLT=12345678,1FFFFFFF"), OK);
    assert.deepEqual(heard(traffic), ["12345678"]);
    assert.equal(c.command("AT+CANFLT=120,7F0,1"), OK, "a second filter: a frame passing either is heard");
    assert.deepEqual(heard(traffic), ["12345678", "678"], "inverted: every frame whose id is outside 0x120-0x12F, whatever its format");
    assert.equal(c.command("AT+CANFLT?"), `+CANFLT:0,12345678,1FFFFFFF,0\r\n+CANFLT:1,120,7F0,1\r\n${OK}`);
    for (const bad of ["AT+CANFLT=123", "AT+CANFLT=123,20000000", "AT+CANFLT=123,7FF,2", "AT+CANFLT=XYZ,7FF"]) assert.equal(c.command(bad), ERROR, bad);
    assert.equal(c.command("AT+CANFLT"), OK);
    assert.equal(c.command("AT+CANFLT?"), OK);
    assert.equal(heard(traffic).length, traffic.length, "cleared: everything again");
    for (let i = 0; i < 16; i++) assert.equal(c.command(`AT+CANFLT=${i.toString(16)},7FF`), OK);
    assert.equal(c.command("AT+CANFLT=7FF,7FF"), ERROR, "16 filters at most");
  });

  it("prints error frames as +CANERR whatever the filters say", () => {
    const c = canConsole();
    c.command("AT+CANCFG=500000");
    c.command("AT+CANFLT=123,7FF");
    c.bus.deliver(errorFrame(CAN_ERR_BUSOFF | CAN_ERR_CNT, [0, 0, 0, 0, 0, 0, 255, 0]));
    c.bus.deliver(errorFrame(CAN_ERR_RESTARTED | CAN_ERR_CNT, [0, 0, 0, 0, 0, 0, 0, 0]));
    assert.equal(c.take(), '+CANERR:"bus-off",255,0\r\n+CANERR:"error-active",0,0\r\n');
  });

  it("drops what the UART has no room for, counts it, and reports the count once there is room", () => {
    const c = canConsole();
    c.command("AT+CANCFG=500000");
    c.board.backlog = CAN_UART_ROOM;
    for (let i = 0; i < 5; i++) c.bus.deliver(frame(i));
    c.clock.advance(200);
    assert.equal(c.take(), "");
    c.board.backlog = 0;
    c.clock.advance(60);
    assert.equal(c.take(), '+CANERR:"rx-overflow",5\r\n');
    c.clock.advance(1000);
    c.bus.deliver(frame(0x42, [1]));
    assert.equal(c.take(), "+CANRX:042,1,01\r\n", "reported once");
  });

  it("prints nothing into passthrough: frames then count as lost", () => {
    const c = canConsole();
    c.command("AT+CANCFG=500000");
    const through: string[] = [];
    c.at.enterPassthrough((b) => through.push(Buffer.from(b).toString()), () => {});
    c.bus.deliver(frame(0x1));
    c.bus.deliver(frame(0x2));
    assert.equal(c.take(), "");
    c.at.leavePassthrough();
    c.bus.deliver(frame(0x3));
    assert.equal(c.take(), '+CANERR:"rx-overflow",2\r\n+CANRX:003,0,\r\n');
  });

  it("lists the CAN commands in AT+CMD? with their forms", () => {
    const c = canConsole();
    const list = c.command("AT+CMD?");
    assert.match(list, /\+CMD:\d+,"AT\+CANCFG",1,1,1,0\r\n/);
    assert.match(list, /\+CMD:\d+,"AT\+CANSEND",0,0,1,0\r\n/);
    assert.match(list, /\+CMD:\d+,"AT\+CANFLT",0,1,1,1\r\n/);
    assert.match(list, /\+CMD:\d+,"AT\+CANSLCAN",0,0,0,1\r\n/);
  });

  it("AT+CANSLCAN hands the UART to SLCAN: OK, then LAWICEL commands only, and no console output", () => {
    const c = canConsole();
    c.command("AT+CANCFG=250000");
    c.feed("AT+CANSLCAN\r\nV\r");
    assert.equal(c.take(), `${OK}V0101\r`, "a command in the same chunk already goes to SLCAN");
    assert.equal(c.bus.up, false, "SLCAN starts with the channel closed");
    assert.equal(c.command("AT"), "\x07", "AT is no SLCAN command");
    c.at.unsolicited(Buffer.from("+IPD,5:hello\r\nWIFI DISCONNECT\r\n"));
    c.at.print("+CWJAP:1");
    assert.equal(c.take(), "");
    c.feed("O\r");
    assert.deepEqual([c.take(), c.bus.up, c.bus.settings], ["\r", true, { bitrate: 250000, mode: "normal" }], "O opens at the last bitrate");
    c.feed("t1232AABB\r");
    assert.equal(c.take(), "z\r", "its own frame is not written back");
    c.bus.deliver(frame(0x321, [1]));
    assert.equal(c.take(), "t321101\r");
    c.feed("C\rS6\rL\r");
    assert.deepEqual([c.take(), c.bus.settings], ["\r\r\r", { bitrate: 500000, mode: "listen-only" }]);
    c.feed("C\r");
    c.bus.deliver(frame(0x321, [1]));
    assert.equal(c.take(), "\r", "closed: no frames");
  });

  it("AT+CANSLCAN answers ERROR while a link is open or a server runs", () => {
    const c = canConsole({ idle: false });
    assert.equal(c.command("AT+CANSLCAN"), ERROR);
    assert.equal(c.command("AT"), OK);
  });
});
