// AT+CWSAP's, AT+CIPAP's and AT+CWDHCPS's arguments on their own: ESP-AT's ranges, the settings
// they give, and fuzzing; and the simulator's SoftAP DHCP server against ESP-IDF's pool rules.
import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { defaultSoftAp, parseDhcpPool, parseSoftAp, parseSoftApAddress, softApMac } from "../../src/at/softap.ts";
import { DhcpServer, defaultPool, poolRefusal } from "../../host-sim/devices/ipconfig.ts";
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

describe("AT+CIPAP and AT+CWDHCPS arguments", () => {
  it("takes the SoftAP's address, its own gateway when none is given, or all three", () => {
    assert.deepEqual(parseSoftApAddress(params('AT+CIPAP="192.168.5.1"')), { ip: "192.168.5.1", gateway: "192.168.5.1", netmask: "255.255.255.0" });
    assert.deepEqual(parseSoftApAddress(params('AT+CIPAP="10.1.0.1","10.1.0.1","255.255.0.0"')), { ip: "10.1.0.1", gateway: "10.1.0.1", netmask: "255.255.0.0" });
    for (const bad of ['AT+CIPAP="0.0.0.0"', 'AT+CIPAP="192.168.5.256"', 'AT+CIPAP="192.168.5.1","192.168.5.1"', 'AT+CIPAP="192.168.5.1","192.168.5.1","255.0.255.0"', "AT+CIPAP=1"])
      assert.equal(parseSoftApAddress(params(bad)), undefined, bad);
  });

  it("takes <enable>,<lease time>,<start IP>,<end IP>, or 0 alone for ESP-IDF's pool", () => {
    assert.deepEqual(parseDhcpPool(params('AT+CWDHCPS=1,3,"192.168.4.10","192.168.4.15"')), { leaseMinutes: 3, start: "192.168.4.10", end: "192.168.4.15" });
    assert.equal(parseDhcpPool(params("AT+CWDHCPS=0")), null);
    for (const bad of ['AT+CWDHCPS=1,0,"192.168.4.10","192.168.4.15"', 'AT+CWDHCPS=1,2881,"192.168.4.10","192.168.4.15"', 'AT+CWDHCPS=1,3,"192.168.4.10"', 'AT+CWDHCPS=2,3,"192.168.4.10","192.168.4.15"', 'AT+CWDHCPS=0,3,"192.168.4.10","192.168.4.15"', 'AT+CWDHCPS=1,3,"192.168.4.10","192.168.4.15",1'])
      assert.equal(parseDhcpPool(params(bad)), undefined, bad);
  });

  it("never throws, and whatever it takes is well formed (fuzz)", () => {
    const dotted = fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((b) => b.join("."));
    const param = fc.oneof(dotted, fc.string({ maxLength: 20 }), fc.integer({ min: -2, max: 3000 }), fc.constant(undefined as unknown as Param));
    const isDotted = (ip: string) => ip.split(".").length === 4 && ip.split(".").every((b) => /^\d+$/.test(b) && Number(b) <= 255);
    fc.assert(
      fc.property(fc.array(param, { maxLength: 6 }), (ps) => {
        const address = parseSoftApAddress(ps);
        if (address) assert.ok([address.ip, address.gateway, address.netmask].every(isDotted) && address.ip !== "0.0.0.0");
        const pool = parseDhcpPool(ps);
        if (pool) assert.ok(isDotted(pool.start) && isDotted(pool.end) && pool.leaseMinutes >= 1 && pool.leaseMinutes <= 2880);
        if (pool === null) assert.deepEqual(ps, [0]);
      }),
      { numRuns: runs(2000) },
    );
  });
});

describe("the simulated SoftAP's DHCP server (ESP-IDF's rules)", () => {
  const at = (ip: string, netmask = "255.255.255.0") => ({ ip, gateway: ip, netmask });

  it("pools the 100 addresses after the SoftAP's, or before it in the upper half of its /24, as dhcps.c does", () => {
    assert.deepEqual(defaultPool("192.168.4.1"), { start: "192.168.4.2", end: "192.168.4.101" });
    assert.deepEqual(defaultPool("10.0.7.200"), { start: "10.0.7.100", end: "10.0.7.199" });
  });

  it("refuses a pool that holds the SoftAP's address, leaves its subnet, or has more than 100 or fewer than 2 addresses", () => {
    const ap = at("192.168.4.1");
    assert.equal(poolRefusal(ap, { start: "192.168.4.10", end: "192.168.4.15" }), undefined);
    assert.equal(poolRefusal(ap, { start: "192.168.4.2", end: "192.168.4.101" }), undefined);
    assert.match(poolRefusal(ap, { start: "192.168.4.1", end: "192.168.4.15" })!, /own address/);
    assert.match(poolRefusal(ap, { start: "192.168.5.10", end: "192.168.5.15" })!, /not inside/);
    assert.match(poolRefusal(ap, { start: "192.168.4.10", end: "192.168.4.255" })!, /not inside/, "the broadcast address");
    assert.match(poolRefusal(ap, { start: "192.168.4.2", end: "192.168.4.102" })!, /2 to 100/);
    assert.match(poolRefusal(ap, { start: "192.168.4.15", end: "192.168.4.10" })!, /2 to 100/);
    assert.equal(poolRefusal(at("10.1.0.1", "255.255.0.0"), { start: "10.1.2.0", end: "10.1.2.50" }), undefined, "a /16's pool may cross a /24");
  });

  it("leases from its pool, the same address to a MAC that returns, none when off or used up", () => {
    let address = at("192.168.4.1");
    const server = new DhcpServer(() => address);
    server.serve(true, { start: "192.168.4.10", end: "192.168.4.11" }, 3);
    assert.deepEqual([server.lease("a"), server.lease("b"), server.lease("c"), server.lease("a")], ["192.168.4.10", "192.168.4.11", undefined, "192.168.4.10"]);
    assert.throws(() => server.serve(true, { start: "192.168.4.1", end: "192.168.4.9" }, 3), /own address/);
    assert.equal(server.pool.start, "192.168.4.10", "a refused pool leaves the last one");
    address = at("192.168.9.1");
    server.moved();
    assert.deepEqual(server.pool, { start: "192.168.9.2", end: "192.168.9.101" }, "a pool the new address leaves out gives way to ESP-IDF's");
    server.serve(false, undefined, 0);
    assert.equal(server.lease("a"), undefined);
  });
});
