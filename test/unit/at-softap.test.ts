// AT+CWSAP's arguments on their own: ESP-AT's ranges, the settings they give, and fuzzing.
import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { defaultSoftAp, parseSoftAp, softApMac } from "../../src/at/softap.ts";
import { parseCommand } from "../../src/at/parser.ts";
import type { Param } from "../../src/at/parser.ts";

const params = (line: string): Param[] => parseCommand(line)!.params;

describe("AT+CWSAP arguments", () => {
  it("takes ESP-AT's <ssid>,<pwd>,<chl>,<ecn>[,<max conn>][,<ssid hidden>] and refuses what is out of range", () => {
    assert.deepEqual(parseSoftAp(params('AT+CWSAP="ESP","1234567890",5,3')), { ssid: "ESP", password: "1234567890", channel: 5, ecn: 3, max: 4, hidden: false });
    assert.deepEqual(parseSoftAp(params('AT+CWSAP="ESP","",13,0,10,1')), { ssid: "ESP", password: "", channel: 13, ecn: 0, max: 10, hidden: true });
    assert.equal(parseSoftAp(params('AT+CWSAP="ESP","ignored",1,0'))?.password, "", "an open AP keeps no password");
    for (const bad of ['AT+CWSAP="ESP","1234567890",5,1', 'AT+CWSAP="ESP","1234567",5,2', 'AT+CWSAP="ESP","1234567890",5,3,11', 'AT+CWSAP="ESP","1234567890",5', "AT+CWSAP=1,2,3,4"])
      assert.equal(parseSoftAp(params(bad)), undefined, bad);
  });

  it("names ESP-AT's default SoftAP after the SoftAP MAC, the station's plus one", () => {
    assert.equal(softApMac("24:0a:c4:57:e0:61"), "24:0a:c4:57:e0:62");
    assert.equal(softApMac("24:0a:c4:57:e0:ff"), "24:0a:c4:57:e0:00");
    assert.deepEqual(defaultSoftAp("24:0a:c4:57:e0:62"), { ssid: "ESP_57E062", password: "", channel: 1, ecn: 0, max: 4, hidden: false });
  });

  it("never throws, and whatever it takes is within ESP-AT's ranges (fuzz)", () => {
    const param = fc.oneof(fc.string({ maxLength: 70 }), fc.integer({ min: -2, max: 20 }), fc.constant(undefined as unknown as Param));
    fc.assert(
      fc.property(fc.array(param, { maxLength: 8 }), (ps) => {
        const c = parseSoftAp(ps);
        if (!c) return;
        assert.ok(c.ssid.length >= 1 && c.ssid.length <= 32);
        assert.ok([0, 2, 3, 4].includes(c.ecn) && c.channel >= 1 && c.channel <= 13 && c.max >= 1 && c.max <= 10);
        assert.ok(c.ecn ? c.password.length >= 8 && c.password.length <= 64 : c.password === "");
      }),
      { numRuns: runs(2000) },
    );
  });
});
