import assert from "node:assert/strict";
import { NetstringReader, netstring } from "../../host-sim/xsnap.ts";
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
});
