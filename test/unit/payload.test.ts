// A payload typed after `>`: the length a send command announces, escapes, and what Enter sends.
import assert from "node:assert/strict";
import fc from "fast-check";
import { announcedLength, decodeEscapes, payloadBytes } from "../../host-sim/serial/payload.ts";
import { runs } from "../helpers/fuzz.ts";

describe("typed payloads", () => {
  it("reads the length each form of ESP-AT's send commands announces", () => {
    assert.equal(announcedLength("AT+CIPSEND=18"), 18);
    assert.equal(announcedLength("AT+CIPSEND=0,18"), 18);
    assert.equal(announcedLength('AT+CIPSEND=4,"192.168.1.2",8080'), 4);
    assert.equal(announcedLength('AT+CIPSEND=1,4,"192.168.1.2",8080'), 4);
    assert.equal(announcedLength("at+cipsendex=2,100"), 100);
    assert.equal(announcedLength("AT+CIPSENDL=0,2048"), 2048);
    assert.equal(announcedLength("AT+CIPSEND"), null, "passthrough");
    assert.equal(announcedLength("AT+CIPSTART=1"), undefined);
    assert.equal(announcedLength("AT"), undefined);
    assert.equal(announcedLength("AT+CIPSEND=x"), undefined);
  });

  it("decodes \\r \\n \\t \\\\ and \\xHH, keeps any other backslash, and refuses a bad \\x", () => {
    assert.deepEqual([...decodeEscapes("a\\r\\n\\t\\\\\\x00\\xfF")], [0x61, 13, 10, 9, 0x5c, 0, 0xff]);
    assert.equal(decodeEscapes("end\\0").toString("latin1"), "end\\0", "CIPSENDEX's \\0 stays two characters");
    assert.equal(decodeEscapes("é").toString("utf8"), "é");
    assert.throws(() => decodeEscapes("\\x4"), /bad escape \\x4: use \\xHH, two hex digits/);
  });

  it("adds CR-LF where both bytes fit, refuses a line longer than what remains, and sends +++ alone in passthrough", () => {
    assert.equal(payloadBytes("GET / HTTP/1.0", 18).toString(), "GET / HTTP/1.0\r\n");
    assert.equal(payloadBytes("", 2).toString(), "\r\n");
    assert.equal(payloadBytes("hello", 5).toString(), "hello");
    assert.equal(payloadBytes("hello", 6).toString(), "hello", "one byte left: no half line end");
    assert.throws(() => payloadBytes("hello", 4), /^Error: 5 bytes typed, but the board expects 4 more$/);
    assert.equal(payloadBytes("data", null).toString(), "data\r\n");
    assert.equal(payloadBytes("+++", null).toString(), "+++");
  });

  it("never sends more than the board expects, for any line", () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(100), (line, remaining) => {
        let bytes: Buffer;
        try {
          bytes = payloadBytes(line, remaining);
        } catch (e) {
          if (/bad escape/.test((e as Error).message)) return;
          assert.ok(decodeEscapes(line).length > remaining);
          return;
        }
        assert.ok(bytes.length <= remaining);
        assert.ok(bytes.subarray(0, decodeEscapes(line).length).equals(decodeEscapes(line)));
      }),
      { numRuns: runs(2000) },
    );
  });
});
