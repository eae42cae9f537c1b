// The SLCAN (LAWICEL) parser on its own, over a port that records what it is asked to do.
import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { parseSlcanFrame, Slcan, SLCAN_MAX_LINE, slcanLine, Status, type SlcanPort } from "../../src/at/slcan.ts";
import { CAN_EFF_FLAG, CAN_ERR_BUSOFF, CAN_ERR_CNT, CAN_ERR_CRTL, CAN_ERR_CRTL_ACTIVE, CAN_ERR_CRTL_RX_OVERFLOW, CAN_ERR_CRTL_TX_PASSIVE, CAN_ERR_CRTL_TX_WARNING, CAN_ERR_RESTARTED, CAN_RTR_FLAG, errorFrame, frameProblem, type CanFrame } from "../../src/net/can-frame.ts";

/** The TWAI's bitrates. */
const TWAI = [25000, 50000, 100000, 125000, 250000, 500000, 800000, 1000000];

function session(options: { bitrates?: number[] } = {}) {
  let out = "";
  const sent: CanFrame[] = [];
  const opened: [number, boolean][] = [];
  const state = { room: true, full: false, busOff: false, closes: 0, now: 0 };
  const port: SlcanPort = {
    write: (bytes) => (out += Buffer.from(bytes).toString("latin1")),
    room: () => state.room,
    bitrates: options.bitrates ?? TWAI,
    open: (bitrate, listenOnly) => void opened.push([bitrate, listenOnly]),
    close: () => void state.closes++,
    send: (frame) => {
      if (state.busOff) throw new Error("bus-off");
      if (state.full) return false;
      sent.push(frame);
      return true;
    },
    now: () => state.now,
  };
  const slcan = new Slcan(port, { bitrate: 500000, serial: "AB12", version: "0101" });
  const feed = (text: string | Uint8Array) => slcan.input(typeof text === "string" ? Buffer.from(text, "latin1") : text);
  /** Sends a line (CR added) and returns what came back. */
  const ask = (line: string) => {
    out = "";
    feed(`${line}\r`);
    return [out, (out = "")][0];
  };
  return { slcan, port, sent, opened, state, feed, ask, take: () => [out, (out = "")][0] };
}

const frame = (can_id: number, data: number[] = [], len = data.length): CanFrame => ({ can_id: can_id >>> 0, len, data: Uint8Array.from(data) });

describe("SLCAN parser", () => {
  it("answers V, v and N, and an empty command with CR", () => {
    const s = session();
    assert.equal(s.ask("V"), "V0101\r");
    assert.equal(s.ask("v"), "v0101\r");
    assert.equal(s.ask("N"), "NAB12\r");
    assert.equal(s.ask(""), "\r");
    assert.equal(s.ask("V1"), "\x07");
  });

  it("sets LAWICEL's S0-S8 bitrates the controller has, only while closed, and opens at it", () => {
    const s = session();
    assert.equal(s.ask("S0"), "\x07", "10 kbit/s: the TWAI does not run at it");
    assert.equal(s.ask("S9"), "\x07");
    assert.equal(s.ask("S"), "\x07");
    assert.equal(s.ask("S44"), "\x07");
    assert.equal(s.ask("S7"), "\r");
    assert.equal(s.ask("O"), "\r");
    assert.deepEqual(s.opened, [[800000, false]], "S7 is 800 kbit/s, as LAWICEL and slcand have it");
    assert.equal(s.ask("S6"), "\x07", "not while open");
    assert.equal(s.ask("O"), "\x07", "already open");
    assert.equal(s.ask("C"), "\r");
    assert.equal(s.state.closes, 1);
    assert.equal(s.ask("C"), "\r", "closing a closed channel is no error (python-can and slcand start with C)");
    assert.equal(s.state.closes, 1);
    assert.equal(s.ask("S8"), "\r");
    assert.equal(s.ask("L"), "\r");
    assert.deepEqual(s.opened.at(-1), [1000000, true]);
  });

  it("opens at the board's bitrate without S, and answers BEL when the bus cannot start", () => {
    const s = session();
    assert.equal(s.ask("O"), "\r");
    assert.deepEqual(s.opened, [[500000, false]]);
    const t = session();
    t.port.open = () => {
      throw new Error("no controller");
    };
    assert.equal(t.ask("O"), "\x07");
    assert.equal(t.slcan.isOpen, false);
    assert.equal(t.ask("t1230"), "\x07");
  });

  it("transmits t, T, r and R frames while open: z or Z for each", () => {
    const s = session();
    assert.equal(s.ask("t1232AABB"), "\x07", "closed");
    s.ask("O");
    assert.equal(s.ask("t1232AABB"), "z\r");
    assert.equal(s.ask("T1ABCDEF08DEADBEEF01020304"), "Z\r");
    assert.equal(s.ask("r7FF8"), "z\r");
    assert.equal(s.ask("R000000010"), "Z\r");
    assert.equal(s.ask("t0000"), "z\r");
    assert.equal(s.ask("t7ff1ab"), "z\r", "hex in either case");
    assert.deepEqual(s.sent, [
      frame(0x123, [0xaa, 0xbb]),
      frame(0x1abcdef0 | CAN_EFF_FLAG, [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]),
      frame(0x7ff | CAN_RTR_FLAG, [], 8),
      frame(1 | CAN_EFF_FLAG | CAN_RTR_FLAG, [], 0),
      frame(0, []),
      frame(0x7ff, [0xab]),
    ]);
  });

  it("answers BEL to malformed frames and sends none", () => {
    const s = session();
    s.ask("O");
    for (const line of ["t800", "t8000", "t12", "t1239", "t1232AA", "t1232AABBCC", "t1231G0", "T2000000000", "T1234567", "T12345678", "r1238AA", "R1234567891", "t 1230", "t-120", "t12g0"])
      assert.equal(s.ask(line), "\x07", line);
    assert.deepEqual(s.sent, []);
  });

  it("answers BEL when the transmit queue is full or the bus is off, and F tells", () => {
    const s = session();
    s.ask("O");
    assert.equal(s.ask("F"), "F00\r");
    s.state.full = true;
    assert.equal(s.ask("t1230"), "\x07");
    assert.equal(s.ask("F"), `F${(Status.txQueueFull).toString(16).padStart(2, "0").toUpperCase()}\r`);
    assert.equal(s.ask("F"), "F00\r", "events clear once read");
    s.state.full = false;
    s.state.busOff = true;
    assert.equal(s.ask("t1230"), "\x07");
    assert.equal(s.ask("F"), "F80\r");
  });

  it("refuses to transmit in listen-only mode (L)", () => {
    const s = session();
    s.ask("L");
    assert.equal(s.ask("t1230"), "\x07");
    assert.deepEqual(s.sent, []);
  });

  it("writes received frames as t, T, r and R lines, with Z's time stamps when asked", () => {
    const s = session();
    s.slcan.receive(frame(0x123, [1]));
    assert.equal(s.take(), "", "nothing while closed");
    assert.equal(s.ask("Z1"), "\r");
    assert.equal(s.ask("O"), "\r");
    assert.equal(s.ask("Z0"), "\x07", "Z only while closed");
    s.state.now = 123456; // 63456 ms into the minute: 3456 = 0x0D80
    s.slcan.receive(frame(0x123, [0xde, 0xad]));
    s.slcan.receive(frame(0x12345678 | CAN_EFF_FLAG, []));
    s.slcan.receive(frame(0x7ff | CAN_RTR_FLAG, [], 3));
    s.slcan.receive(frame(0x1fffffff | CAN_EFF_FLAG | CAN_RTR_FLAG, [], 8));
    s.slcan.receive({ ...frame(0x10, new Array(12).fill(1)), fd: true });
    assert.equal(s.take(), "t1232DEAD0D80\rT1234567800D80\rr7FF30D80\rR1FFFFFFF80D80\r", "an FD frame has no SLCAN line");
    s.ask("C");
    s.ask("Z0");
    s.ask("O");
    s.slcan.receive(frame(0x1, [0xff]));
    assert.equal(s.take(), "t0011FF\r");
  });

  it("loses frames the UART has no room for, and F reports it", () => {
    const s = session();
    s.ask("O");
    s.state.room = false;
    s.slcan.receive(frame(0x123, [1]));
    assert.equal(s.take(), "");
    s.state.room = true;
    assert.equal(s.ask("F"), "F01\r");
    s.slcan.receive(frame(0x123, [1]));
    assert.equal(s.take(), "t123101\r");
  });

  it("turns error frames into F's status bits", () => {
    const s = session();
    s.ask("O");
    s.slcan.receive(errorFrame(CAN_ERR_CRTL | CAN_ERR_CNT, [0, CAN_ERR_CRTL_TX_WARNING, 0, 0, 0, 0, 96, 0]));
    assert.equal(s.take(), "", "no line for an error frame");
    assert.equal(s.ask("F"), "F04\r");
    assert.equal(s.ask("F"), "F04\r", "a level stays while it holds");
    s.slcan.receive(errorFrame(CAN_ERR_CRTL | CAN_ERR_CNT, [0, CAN_ERR_CRTL_TX_PASSIVE, 0, 0, 0, 0, 128, 0]));
    s.slcan.receive(errorFrame(CAN_ERR_CRTL, [0, CAN_ERR_CRTL_RX_OVERFLOW]));
    assert.equal(s.ask("F"), "F2C\r");
    s.slcan.receive(errorFrame(CAN_ERR_BUSOFF | CAN_ERR_CNT));
    assert.equal(s.ask("F"), "FA4\r");
    s.slcan.receive(errorFrame(CAN_ERR_RESTARTED));
    assert.equal(s.ask("F"), "F00\r");
    s.slcan.receive(errorFrame(CAN_ERR_CRTL, [0, CAN_ERR_CRTL_TX_WARNING]));
    s.slcan.receive(errorFrame(CAN_ERR_CRTL, [0, CAN_ERR_CRTL_ACTIVE]));
    assert.equal(s.ask("F"), "F00\r");
  });

  it("holds frames for P and A with auto-poll off (X0)", () => {
    const s = session();
    assert.equal(s.ask("P"), "\x07", "closed");
    assert.equal(s.ask("X0"), "\r");
    s.ask("O");
    assert.equal(s.ask("X1"), "\x07", "X only while closed");
    assert.equal(s.ask("P"), "\r", "none held");
    s.slcan.receive(frame(0x100, [1]));
    s.slcan.receive(frame(0x200, [2]));
    s.slcan.receive(frame(0x300, [3]));
    assert.equal(s.take(), "");
    assert.equal(s.ask("P"), "t100101\r");
    assert.equal(s.ask("A"), "t200102\rt300103\rA\r");
    assert.equal(s.ask("A"), "A\r");
    assert.equal(s.ask("t1230"), "\r", "a sent frame is answered CR with auto-poll off");
    for (let i = 0; i < 40; i++) s.slcan.receive(frame(i, []));
    assert.equal(s.ask("F"), "F01\r", "past 32 held frames, they are lost");
    s.ask("C");
    s.ask("X1");
    s.ask("O");
    assert.equal(s.ask("P"), "\x07", "no polling with auto-poll on");
  });

  it("takes M and the receive-all acceptance mask while closed, and refuses other masks", () => {
    const s = session();
    assert.equal(s.ask("M00000000"), "\r");
    assert.equal(s.ask("mFFFFFFFF"), "\r");
    assert.equal(s.ask("mffffffff"), "\r");
    assert.equal(s.ask("m000007FF"), "\x07", "the SJA1000's acceptance filter is not there");
    assert.equal(s.ask("M0000"), "\x07");
    s.ask("O");
    assert.equal(s.ask("M00000000"), "\x07");
  });

  it("answers BEL to what it does not have: BTR registers, UART rates, auto start, unknown letters", () => {
    const s = session();
    for (const line of ["s031C", "U1", "Q1", "W2", "E", "?", "AT", "\x00"]) assert.equal(s.ask(line), "\x07", JSON.stringify(line));
  });

  it("ignores LF, and answers BEL to an overlong line, then carries on", () => {
    const s = session();
    assert.equal(s.ask("V\n"), "V0101\r");
    s.feed("\n");
    assert.equal(s.take(), "");
    assert.equal(s.ask("t".repeat(500)), "\x07");
    assert.equal(s.slcan.buffered, 0);
    assert.equal(s.ask("V"), "V0101\r");
  });

  it("takes python-can's opening sequence, a byte at a time", () => {
    const s = session();
    for (const byte of Buffer.from("C\rS6\rO\rt1232AABB\rT1234567880102030405060708\r")) s.feed(Uint8Array.of(byte));
    assert.equal(s.take(), "\r\r\rz\rZ\r");
    assert.deepEqual(s.opened, [[500000, false]]);
    assert.deepEqual(s.sent.map(slcanLine), ["t1232AABB", "T1234567880102030405060708"]);
  });
});

const canFrame = fc
  .record({
    extended: fc.boolean(),
    remote: fc.boolean(),
    id: fc.integer({ min: 0, max: 0x1fffffff }),
    data: fc.uint8Array({ maxLength: 8 }),
    rtrLen: fc.integer({ min: 0, max: 8 }),
  })
  .map(({ extended, remote, id, data, rtrLen }): CanFrame => {
    const can_id = ((extended ? id : id & 0x7ff) | (extended ? CAN_EFF_FLAG : 0) | (remote ? CAN_RTR_FLAG : 0)) >>> 0;
    return remote ? { can_id, len: rtrLen, data: new Uint8Array(0) } : { can_id, len: data.length, data };
  });

/** Bytes that look like SLCAN often enough to reach every command: command letters, hex digits, CR, and any byte. */
const slcanNoise = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(..."tTrRSOLCVvNFZXPAMmsUQ0123456789ABCDEFabcdefg\r\r\r\n".split("").map((c) => c.charCodeAt(0))) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
  ),
  { maxLength: 400 },
);

/** Whole command lines: real commands and frames, and the same with a character changed. */
const slcanLines = fc
  .array(
    fc
      .tuple(
        fc.oneof(fc.constantFrom("O", "L", "C", "S6", "S8", "S0", "Z1", "Z0", "X0", "X1", "F", "V", "N", "P", "A", "M00000000", "mFFFFFFFF", ""), canFrame.map(slcanLine)),
        fc.option(fc.tuple(fc.nat(30), fc.integer({ min: 0, max: 255 })), { freq: 4 }),
      )
      .map(([line, change]) => {
        const bytes = [...Buffer.from(line, "latin1")];
        if (change && bytes.length) bytes[change[0] % bytes.length] = change[1];
        return [...bytes, 0x0d];
      }),
    { maxLength: 40 },
  )
  .map((lines) => lines.flat());

const slcanBytes = fc.oneof(slcanNoise, slcanLines).map((bytes) => Uint8Array.from(bytes));

const BELL = "\x07";
/** Printable ASCII, CR and BEL: all SLCAN ever writes. */
const printable = (text: string) => [...text].every((c) => c === "\r" || c === BELL || (c >= " " && c <= "~"));

describe("SLCAN parser fuzz", () => {
  it("answers every CR-ended command with exactly one reply, never throws, and holds no more than a line", () => {
    let transmitted = 0;
    fc.assert(
      fc.property(slcanBytes, fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 10 }), (bytes, cuts) => {
        const s = session();
        let at = 0;
        for (const cut of cuts) {
          s.feed(bytes.subarray(at, at + cut));
          at += cut;
        }
        s.feed(bytes.subarray(at));
        const out = s.take();
        assert.ok(printable(out), "only printable ASCII, CR and BEL");
        // With auto-poll off, A answers the frames it held before its own CR; none are held here.
        const replies = [...out].filter((c) => c === "\r" || c === BELL).length;
        assert.equal(replies, bytes.filter((b) => b === 0x0d).length);
        assert.ok(s.slcan.buffered <= SLCAN_MAX_LINE);
        for (const sent of s.sent) assert.equal(frameProblem(sent), undefined, "every frame it sends is one a bus carries");
        transmitted += s.sent.length;
      }),
      { numRuns: runs(3000) },
    );
    assert.ok(transmitted > 0, "the fuzz reached the transmit path");
  });

  it("survives a port that fails anywhere, and frames arriving among the commands", () => {
    fc.assert(
      fc.property(slcanBytes, fc.array(fc.tuple(fc.nat(400), canFrame), { maxLength: 5 }), fc.boolean(), fc.boolean(), (bytes, arrivals, full, room) => {
        const s = session();
        s.state.full = full;
        s.state.room = room;
        s.port.open = (bitrate) => {
          if (bitrate === 1000000) throw new Error("refused");
        };
        s.port.send = (frame) => {
          if (frame.len === 3) throw new Error("bus-off");
          return !full;
        };
        let at = 0;
        for (const [where, frame] of arrivals.sort((a, b) => a[0] - b[0])) {
          s.feed(bytes.subarray(at, Math.max(at, where)));
          at = Math.max(at, where);
          s.slcan.receive(frame);
        }
        s.feed(bytes.subarray(at));
        assert.ok(printable(s.take()));
      }),
      { numRuns: runs(3000) },
    );
  });

  it("reads back every frame it writes: receive, then the line as a command, gives the same frame", () => {
    fc.assert(
      fc.property(canFrame, (f) => {
        assert.deepEqual(parseSlcanFrame(slcanLine(f)), f);
        const rx = session();
        rx.ask("O");
        rx.take();
        rx.slcan.receive(f);
        const line = rx.take();
        const tx = session();
        tx.ask("O");
        assert.equal(tx.ask(line.slice(0, -1)), f.can_id & CAN_EFF_FLAG ? "Z\r" : "z\r");
        assert.deepEqual(tx.sent, [f]);
      }),
      { numRuns: runs(3000) },
    );
  });
});
