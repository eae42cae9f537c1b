import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { parseCommand, parseParams } from "../../src/at/parser.ts";

describe("AT command parser", () => {
  it("tells the four ESP-AT command forms apart", () => {
    assert.deepEqual(parseCommand("AT"), { name: "", kind: "execute", params: [] });
    assert.deepEqual(parseCommand("AT+GMR"), { name: "+GMR", kind: "execute", params: [] });
    assert.deepEqual(parseCommand("AT+CWMODE?"), { name: "+CWMODE", kind: "query", params: [] });
    assert.deepEqual(parseCommand("AT+CWMODE=?"), { name: "+CWMODE", kind: "test", params: [] });
    assert.deepEqual(parseCommand("ATE0"), { name: "E0", kind: "execute", params: [] });
  });

  it("parses quoted strings with escapes, numbers and left-out parameters", () => {
    assert.deepEqual(parseCommand('AT+CWJAP="my \\"ap\\"","pa\\\\ss,word"'), { name: "+CWJAP", kind: "set", params: ['my "ap"', "pa\\ss,word"] });
    assert.deepEqual(parseParams('0,"TCP","127.0.0.1",8080,,1'), [0, "TCP", "127.0.0.1", 8080, undefined, 1]);
    assert.deepEqual(parseParams("1,0x7FF"), [1, 0x7ff]);
    assert.deepEqual(parseParams(""), [undefined]);
  });

  it("rejects what ESP-AT rejects", () => {
    for (const line of ["", "A", "at", "AT+", "AT+gmr", "AT+GMR?x", 'AT+X="open', "AT+X=1 2", 'AT+X="a"b', "AT+X=abc"]) {
      assert.equal(parseCommand(line), null, line);
    }
  });

  it("never throws, and round-trips any string parameter (fuzz)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (line) => {
        parseCommand(line);
        parseParams(line);
      }),
      { numRuns: runs(5000) },
    );
    const quote = (s: string) => `"${s.replace(/[\\"]/g, "\\$&")}"`;
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.integer({ min: 0, max: 65535 })), { minLength: 1, maxLength: 6 }), (params) => {
        const text = params.map((p) => (typeof p === "string" ? quote(p) : String(p))).join(",");
        assert.deepEqual(parseCommand(`AT+TEST=${text}`)?.params, params);
      }),
      { numRuns: runs(2000) },
    );
  });
});
