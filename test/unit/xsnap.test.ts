import assert from "node:assert/strict";
import { NetstringReader, netstring, netstringOf } from "../../host-sim/xsnap.ts";
import { decode, encode } from "../../host-sim/xs/codec.ts";
import { Pacer } from "../../host-sim/devices/serial.ts";

describe("netstrings to and from xsnap", () => {
  it("splits messages that arrive in any chunks", () => {
    const wire = Buffer.concat([netstring(Buffer.from(".ok")), netstring(Buffer.from("?"), Buffer.from([0, 1, 2])), netstring()]);
    for (const size of [1, 2, 5, wire.length]) {
      const got: string[] = [];
      const reader = new NetstringReader((m) => got.push(m.toString("hex")));
      for (let i = 0; i < wire.length; i += size) reader.push(wire.subarray(i, i + size));
      assert.deepEqual(got, ["2e6f6b", "3f000102", ""]);
    }
  });

  it("builds an event or answer in one buffer, byte for byte as netstring(kind, encode(value))", () => {
    const values = [
      [0, "tcp", 2, "readable", { bytes: Buffer.from("abc"), more: 0 }],
      [false, { message: "caf\u00e9 \u{1f600}", errno: 11, code: "EAGAIN" }],
      [1, "udp", 3, [Buffer.from([1, 2]), { data: Buffer.alloc(0) }], "10.0.0.1"],
      [true, null],
      "text",
      7,
    ];
    for (const value of values) {
      const one = netstringOf(0x3f, value);
      assert.deepEqual(one, netstring(Buffer.from("?"), encode(value)));
      const message = one.subarray(one.indexOf(0x3a) + 2, -1);
      assert.deepEqual(decode(message), value);
    }
  });

  it("refuses a message without its comma", () => {
    const reader = new NetstringReader(() => {});
    assert.throws(() => reader.push(Buffer.from("2:ab;")), /without its comma/);
  });
});

describe("UART pacing", () => {
  it("passes bytes at once without a baud rate", () => {
    const out: Buffer[] = [];
    new Pacer(undefined, (b) => out.push(b)).push(Buffer.alloc(5000));
    assert.equal(out.length, 1);
  });

  it("takes as long as the line needs at 19200 baud, 8N1", async () => {
    let got = 0;
    const start = performance.now();
    const done = new Promise<void>((resolve) => {
      const pacer = new Pacer(19200, (b) => {
        got += b.length;
        if (got === 384) resolve();
      });
      pacer.push(Buffer.alloc(384));
    });
    await done;
    const ms = performance.now() - start;
    assert.ok(ms >= 180 && ms < 400, `384 bytes at 1920 bytes/s took ${ms.toFixed(0)} ms; the wire needs 200`);
  });

  it("keeps the line's rate on the receive side too, up to 2 ms ahead of the wire", async () => {
    let got = 0;
    const start = performance.now();
    const done = new Promise<void>((resolve) => {
      const pacer = new Pacer(
        19200,
        (b) => {
          got += b.length;
          if (got === 384) resolve();
        },
        "started",
      );
      pacer.push(Buffer.alloc(384));
    });
    await done;
    const ms = performance.now() - start;
    // The last byte starts at 199.5 ms; the receive side may hand it over 2 ms before.
    assert.ok(ms >= 197 && ms < 400, `384 bytes at 1920 bytes/s took ${ms.toFixed(0)} ms; the wire needs 200`);
  });

  it("hands a command to the firmware as its first byte starts on an idle line", () => {
    const got: { bytes: Buffer; wireStart: number }[] = [];
    const before = performance.now();
    new Pacer(921600, (bytes, wireStart) => got.push({ bytes, wireStart }), "started").push(Buffer.alloc(96));
    assert.equal(got.length, 1, "released within push()");
    assert.equal(got[0].bytes.length, 96);
    assert.ok(got[0].wireStart >= before && got[0].wireStart <= performance.now());
  });

  it("holds a reply until what it answers has arrived, then for its own time on the wire", async () => {
    const start = performance.now();
    const times: number[] = [];
    await new Promise<void>((resolve) => {
      let got = 0;
      new Pacer(9600, (bytes) => {
        times.push(performance.now() - start);
        if ((got += bytes.length) === 6) resolve();
      }).push(Buffer.alloc(6), start + 20);
    });
    // 20 ms, then 6 bytes at 960 bytes/s, 1.04 ms each.
    assert.ok(times[0] >= 21.04, `the first byte came after ${times[0].toFixed(2)} ms; it arrives at 21.04`);
    assert.ok(times.at(-1)! >= 26.25, `the last byte came after ${times.at(-1)!.toFixed(2)} ms; it arrives at 26.25`);
  });

  it("delivers a short reply within a millisecond of its end on the wire, not on a timer tick", async () => {
    const late: number[] = [];
    for (let i = 0; i < 21; i++) {
      const start = performance.now();
      const released = await new Promise<number>((resolve) => new Pacer(921600, () => resolve(performance.now())).push(Buffer.alloc(6)));
      const wire = (6 * 10 * 1000) / 921600;
      assert.ok(released - start >= wire, `released after ${(released - start).toFixed(3)} ms, before its ${wire.toFixed(3)} ms on the wire`);
      late.push(released - start - wire);
    }
    // The best of 21: a loaded machine delays some wake-ups, but a 1 ms timer tick delays every one by 0.9 ms or more.
    late.sort((a, b) => a - b);
    assert.ok(late[0] < 0.6, `at best ${late[0].toFixed(3)} ms after the reply's end on the wire (median ${late[10].toFixed(3)})`);
  });
});
