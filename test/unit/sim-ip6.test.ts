// The simulated board's IPv6 addresses as the board's lwIP writes them (ip6addr_ntoa: upper-case
// hex, the first run of two or more zero groups as `::`) and makes them (the link-local
// address from the MAC's EUI-64).
import assert from "node:assert/strict";
import { linkLocalFor, lwipIp6 } from "../../host-sim/devices/ipconfig.ts";

describe("the simulator's IPv6 addresses, as lwIP writes them", () => {
  it("compresses the first run of two or more zero groups, as ip6addr_ntoa_r does", () => {
    assert.equal(lwipIp6([0, 0, 0, 0, 0, 0, 0, 1]), "::1");
    assert.equal(lwipIp6([0, 0, 0, 0, 0, 0, 0, 0]), "::");
    assert.equal(lwipIp6([1, 0, 2, 0, 0, 0, 0, 0]), "1:0:2::", "a lone zero group stays");
    assert.equal(lwipIp6([1, 0, 0, 2, 0, 0, 0, 3]), "1::2:0:0:0:3", "the first run, not the longest");
    assert.equal(lwipIp6([0x2001, 0xdb8, 0, 0, 0, 0, 0xabc, 0xdef]), "2001:DB8::ABC:DEF");
  });

  it("makes the link-local address from the MAC: ff:fe in the middle, the universal/local bit flipped", () => {
    assert.equal(linkLocalFor("24:0a:c4:00:00:01"), "FE80::260A:C4FF:FE00:1");
    assert.equal(linkLocalFor("02:00:00:00:00:00"), "FE80::FF:FE00:0");
  });
});
