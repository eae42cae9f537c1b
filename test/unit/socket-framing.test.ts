import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { FrameDecoder, MAX_DIGITS, encodeFrame, utf8 } from "../../src/socket/framing.ts";

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

describe("message framing <N>_<payload>", () => {
  it("counts every byte of the frame in N, its own digits and the underscore included", () => {
    assert.equal(text(encodeFrame("")), "2_");
    assert.equal(text(encodeFrame("Hello")), "7_Hello");
    assert.equal(text(encodeFrame("x".repeat(7))), "9_xxxxxxx");
    assert.equal(text(encodeFrame("x".repeat(8))), `11_${"x".repeat(8)}`);
    assert.equal(text(encodeFrame("x".repeat(97))), `101_${"x".repeat(97)}`);
    assert.equal(text(encodeFrame("Server notification: data received")), "37_Server notification: data received");
  });

  it("counts UTF-8 bytes, not characters", () => {
    assert.equal(text(encodeFrame("héllo")), "8_héllo");
    assert.deepEqual([...utf8("汉😀")], [...Buffer.from("汉😀")]);
  });

  it("reads frames split anywhere and run together", () => {
    const wire = Buffer.concat([encodeFrame("one"), encodeFrame("two and more"), encodeFrame("")]);
    for (let size = 1; size <= wire.length; size++) {
      const d = new FrameDecoder();
      const got: string[] = [];
      for (let i = 0; i < wire.length; i += size) got.push(...d.push(wire.subarray(i, i + size)).map(text));
      assert.deepEqual(got, ["one", "two and more", ""]);
      assert.equal(d.pending, 0);
    }
  });

  it("accepts any N that counts the frame, not only the smallest", () => {
    // Seven bytes of payload frame as 9_ (the smallest) or as 10_: both count themselves.
    assert.equal(text(encodeFrame("abcdefg")), "9_abcdefg");
    assert.deepEqual(new FrameDecoder().push(Buffer.from("10_abcdefg9_abcdefg")).map(text), ["abcdefg", "abcdefg"]);
  });

  it("refuses a non-digit, a leading zero, too many digits, and an N shorter than its header", () => {
    for (const [bad, why] of [["x7_hello", /where a digit belongs/], ["07_hello", /leading zero/], ["1".repeat(MAX_DIGITS + 1) + "_", /more than 7 digits/], ["1_", /shorter than its own header/], ["_x", /no length/]] as const) {
      const d = new FrameDecoder();
      assert.throws(() => d.push(Buffer.from(bad)), why, bad);
      assert.throws(() => d.push(Buffer.from("7_hello")), why, "a broken stream stays broken");
    }
  });

  it("round-trips any payload, and any bytes either decode or throw a clear error (fuzz)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), fc.integer({ min: 1, max: 50 }), (payloads, chunk) => {
        const wire = Buffer.concat(payloads.map((p) => encodeFrame(p)));
        const d = new FrameDecoder();
        const got: Uint8Array[] = [];
        for (let i = 0; i < wire.length; i += chunk) got.push(...d.push(wire.subarray(i, i + chunk)));
        assert.deepEqual(got.map((g) => Buffer.from(g).toString("hex")), payloads.map((p) => Buffer.from(p).toString("hex")));
      }),
      { numRuns: runs(2000) },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          new FrameDecoder().push(bytes);
        } catch (e) {
          assert.match((e as Error).message, /bad frame header/);
        }
      }),
      { numRuns: runs(5000) },
    );
  });
});
