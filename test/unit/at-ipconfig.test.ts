// The address commands' parsers (CIPSTA/CIPETH, CWDHCP, CIPDNS, CWHOSTNAME), fuzzed, and what
// the commands ask of the network interface, on a stand-in interface and flash.
import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import type { AtConsole } from "../../src/at/console.ts";
import { DEFAULT_DNS, ipconfigCommands, NO_ADDRESS, parseAddress, parseDhcp, parseDns, parseHostname, startingAddress, type AddressedInterface } from "../../src/at/ipconfig.ts";
import type { Param } from "../../src/at/parser.ts";
import type { Settings } from "../../src/at/settings.ts";

type StaticAddress = { ip: string; gateway: string; netmask: string };

const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join("."));
const maskOf = (bits: number) => [24, 16, 8, 0].map((s) => ((bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0) >>> s) & 0xff).join(".");
/** Parameters as the AT parser gives them: strings, numbers, left out; often dotted. */
const param: fc.Arbitrary<Param> = fc.oneof(fc.constant(undefined), fc.integer(), fc.string({ maxLength: 40 }), octets, fc.nat(32).map(maskOf));

describe("address command parsers", () => {
  it("parseAddress takes an address alone (its /24 and .1) or with a gateway and a contiguous netmask", () => {
    assert.deepEqual(parseAddress(["192.168.6.100"]), { ip: "192.168.6.100", gateway: "192.168.6.1", netmask: "255.255.255.0" });
    assert.deepEqual(parseAddress(["192.168.6.100", "192.168.6.1", "255.255.0.0"]), { ip: "192.168.6.100", gateway: "192.168.6.1", netmask: "255.255.0.0" });
    for (const bad of [[], ["0.0.0.0"], ["192.168.6.256"], ["192.168.06.100"], ["010.0.0.1"], ["192.168.6"], [192], ["192.168.6.100", "192.168.6.1"], ["192.168.6.100", "192.168.6.1", "255.0.255.0"], ["192.168.6.100", "192.168.6.1", "0.0.0.0"], ["192.168.6.100", "x", "255.255.255.0"], ["192.168.6.100", "192.168.6.1", "255.255.255.0", 1]] as Param[][])
      assert.equal(parseAddress(bad), undefined, JSON.stringify(bad));
  });

  it("parseAddress never throws, and what it takes is dotted with a netmask of ones then zeros", () => {
    fc.assert(
      fc.property(fc.array(param, { maxLength: 5 }), (params) => {
        const a = parseAddress(params);
        if (!a) return;
        assert.ok(params.length === 1 || params.length === 3);
        for (const v of [a.ip, a.gateway, a.netmask]) assert.match(v, DOTTED);
        const mask = a.netmask.split(".").reduce((n: number, b: string) => n * 256 + Number(b), 0);
        assert.ok(Array.from({ length: 33 }, (_, bits) => maskOf(bits)).includes(a.netmask) && mask !== 0, a.netmask);
        assert.notEqual(a.ip, "0.0.0.0");
      }),
      { numRuns: runs(2000) },
    );
    // Every contiguous netmask but /0 is taken.
    fc.assert(
      fc.property(octets, octets, fc.nat(32), (ip, gateway, bits) => {
        if (ip === "0.0.0.0") return;
        assert.equal(parseAddress([ip, gateway, maskOf(bits)]) !== undefined, bits > 0);
      }),
      { numRuns: runs(1000) },
    );
  });

  it("parseDhcp takes <operate>,<mode> with mode 1 to 3, or 1 to 7 on a wired board", () => {
    assert.deepEqual(parseDhcp([1, 1], false), { on: true, mode: 1 });
    assert.deepEqual(parseDhcp([0, 3], false), { on: false, mode: 3 });
    assert.deepEqual(parseDhcp([1, 4], true), { on: true, mode: 4 });
    for (const bad of [[1, 4], [2, 1], [1, 0], [1], [1, 1, 1], ["1", 1]] as Param[][]) assert.equal(parseDhcp(bad, false), undefined, JSON.stringify(bad));
    fc.assert(
      fc.property(fc.array(param, { maxLength: 4 }), fc.boolean(), (params, wired) => {
        const d = parseDhcp(params, wired);
        if (!d) return;
        assert.equal(params.length, 2);
        assert.ok(d.mode >= 1 && d.mode <= (wired ? 7 : 3));
        assert.equal(d.on, params[0] === 1);
      }),
      { numRuns: runs(2000) },
    );
  });

  it("parseDns takes 0 alone (DHCP's), or 1 with up to three distinct IPv4 servers (ESP-AT's defaults without any)", () => {
    assert.deepEqual(parseDns([0]), []);
    assert.deepEqual(parseDns([1]), DEFAULT_DNS);
    assert.deepEqual(parseDns([1, "1.1.1.1", "8.8.8.8"]), ["1.1.1.1", "8.8.8.8"]);
    for (const bad of [[], [2], [0, "1.1.1.1"], [1, "1.1.1.1", "1.1.1.1"], [1, "a.b.c.d"], [1, "0.0.0.0"], [1, "1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"], [1, 7]] as Param[][])
      assert.equal(parseDns(bad), undefined, JSON.stringify(bad));
    fc.assert(
      fc.property(fc.array(param, { maxLength: 6 }), (params) => {
        const servers = parseDns(params);
        if (!servers) return;
        assert.ok(servers.length <= 3 && new Set(servers).size === servers.length);
        for (const s of servers) assert.match(s, DOTTED);
        assert.equal(servers.length === 0, params[0] === 0);
      }),
      { numRuns: runs(2000) },
    );
  });

  it("parseHostname takes 1 to 32 printable ASCII characters", () => {
    assert.equal(parseHostname(["my_test"]), "my_test");
    for (const bad of [[""], ["a".repeat(33)], ["a b"], ["é"], [7], ["a", "b"], []] as Param[][]) assert.equal(parseHostname(bad), undefined, JSON.stringify(bad));
    fc.assert(
      fc.property(fc.array(param, { maxLength: 3 }), (params) => {
        const name = parseHostname(params);
        if (name === undefined) return;
        assert.equal(params.length, 1);
        assert.match(name, /^[\x21-\x7e]{1,32}$/);
      }),
      { numRuns: runs(2000) },
    );
  });
});

/** Flash as a map, with AT+SYSSTORE's choice. */
function fakeSettings(saved: Record<string, string | number> = {}): Settings & { flash: Map<string, string | number> } {
  const flash = new Map<string, string | number>(Object.entries(saved));
  const ram = new Map<string, string | number>();
  const save = (key: string, value: string | number) => {
    ram.set(key, value);
    flash.set(key, value);
  };
  const settings = {
    flash,
    store: true,
    get: <T>(key: string, fallback: T): T => (ram.get(key) ?? flash.get(key) ?? fallback) as T,
    save,
    keep: (key: string, value: string | number) => (settings.store ? save(key, value) : void ram.set(key, value)),
  };
  return settings as unknown as Settings & { flash: Map<string, string | number> };
}

/** An interface that records what it is asked. */
function fakeNetif(kind: "wifi" | "ethernet", address?: string) {
  const asked: unknown[][] = [];
  const netif: AddressedInterface = {
    kind,
    address,
    mac: "24:0a:c4:00:00:01",
    dns: ["127.0.0.53"],
    gateway: address && "10.0.0.1",
    netmask: address && "255.255.255.0",
    configure: (a?: StaticAddress) => void asked.push(["configure", a]),
    setDns: (servers?: string[]) => void asked.push(["setDns", servers]),
    setHostname: (name: string) => void asked.push(["setHostname", name]),
  };
  return { netif, asked };
}

async function run(table: ReturnType<typeof ipconfigCommands>, kind: "query" | "set" | "execute", name: string, params: Param[] = []): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  const at = { print: (line: string) => void lines.push(line) } as unknown as AtConsole;
  const result = await table[name][kind]!(at, params, { name, kind, params });
  return { ok: result !== false, lines };
}

describe("address commands on the interface", () => {
  it("CIPSTA= configures the station and turns its DHCP bit off; CWDHCP=1,1 brings DHCP back and forgets the address", async () => {
    const settings = fakeSettings();
    const { netif, asked } = fakeNetif("wifi", "10.0.0.5");
    const table = ipconfigCommands({ netif, settings, station: { mode: 1, online: true } });
    assert.ok((await run(table, "set", "+CIPSTA", ["10.0.0.9", "10.0.0.1", "255.255.255.0"])).ok);
    assert.deepEqual(asked.at(-1), ["configure", { ip: "10.0.0.9", gateway: "10.0.0.1", netmask: "255.255.255.0" }]);
    assert.equal(settings.flash.get("staip"), "10.0.0.9,10.0.0.1,255.255.255.0");
    assert.deepEqual((await run(table, "query", "+CWDHCP")).lines, ["+CWDHCP:2"]);
    assert.ok((await run(table, "set", "+CWDHCP", [1, 1])).ok);
    assert.deepEqual(asked.at(-1), ["configure", undefined]);
    assert.equal(settings.flash.get("staip"), "");
    assert.deepEqual((await run(table, "query", "+CWDHCP")).lines, ["+CWDHCP:3"]);
    // DHCP off keeps the address the station has, as esp_netif_dhcpc_stop does.
    assert.ok((await run(table, "set", "+CWDHCP", [0, 1])).ok);
    assert.deepEqual(asked.at(-1), ["configure", { ip: "10.0.0.5", gateway: "10.0.0.1", netmask: "255.255.255.0" }]);
    // The SoftAP's bit is kept only.
    const before = asked.length;
    assert.ok((await run(table, "set", "+CWDHCP", [0, 2])).ok);
    assert.equal(asked.length, before);
    assert.deepEqual((await run(table, "query", "+CWDHCP")).lines, ["+CWDHCP:0"]);
  });

  it("starts from flash: the saved address, none when DHCP is off, else DHCP", () => {
    assert.deepEqual(startingAddress(fakeSettings({ staip: "10.0.0.9,10.0.0.1,255.0.0.0" }), false), { ip: "10.0.0.9", gateway: "10.0.0.1", netmask: "255.0.0.0" });
    assert.deepEqual(startingAddress(fakeSettings({ cwdhcp: 2 }), false), NO_ADDRESS);
    assert.equal(startingAddress(fakeSettings(), false), undefined);
    assert.deepEqual(startingAddress(fakeSettings({ cwdhcp: 3 }), true), NO_ADDRESS, "bit 2 is Ethernet's");
    assert.deepEqual(startingAddress(fakeSettings({ ethip: "10.0.0.8,10.0.0.1,255.255.255.0" }), true), { ip: "10.0.0.8", gateway: "10.0.0.1", netmask: "255.255.255.0" });
  });

  it("CIPDNS sets the servers or gives DHCP's back; CWHOSTNAME needs station mode and is not saved", async () => {
    const settings = fakeSettings();
    const { netif, asked } = fakeNetif("wifi");
    const station = { mode: 1, online: false };
    const table = ipconfigCommands({ netif, settings, station });
    assert.ok((await run(table, "set", "+CIPDNS", [1, "1.1.1.1"])).ok);
    assert.deepEqual(asked.at(-1), ["setDns", ["1.1.1.1"]]);
    assert.deepEqual((await run(table, "query", "+CIPDNS")).lines, ['+CIPDNS:1,"1.1.1.1"']);
    assert.ok((await run(table, "set", "+CIPDNS", [0])).ok);
    assert.deepEqual(asked.at(-1), ["setDns", undefined]);
    assert.deepEqual((await run(table, "query", "+CIPDNS")).lines, ['+CIPDNS:0,"127.0.0.53"']);
    assert.ok((await run(table, "set", "+CWHOSTNAME", ["board-1"])).ok);
    assert.deepEqual(asked.at(-1), ["setHostname", "board-1"]);
    assert.equal(settings.flash.has("hostname"), false);
    station.mode = 2;
    assert.equal((await run(table, "set", "+CWHOSTNAME", ["board-2"])).ok, false);
  });

  it("CIFSR prints the SoftAP's lines when it gives them, the station's in station mode, and Ethernet's on a wired board", async () => {
    const wifi = fakeNetif("wifi", "10.0.0.5").netif;
    const softAp = () => ({ ip: "192.168.4.1", mac: "24:0a:c4:00:00:02" });
    const both = ipconfigCommands({ netif: wifi, settings: fakeSettings(), station: { mode: 3, online: true }, softAp });
    assert.deepEqual((await run(both, "execute", "+CIFSR")).lines, ['+CIFSR:APIP,"192.168.4.1"', '+CIFSR:APMAC,"24:0a:c4:00:00:02"', '+CIFSR:STAIP,"10.0.0.5"', '+CIFSR:STAMAC,"24:0a:c4:00:00:01"']);
    const wired = ipconfigCommands({ netif: { ...fakeNetif("ethernet", "10.0.0.8").netif, mac: "24:0a:c4:00:00:04" }, settings: fakeSettings(), station: { mode: 1, online: false } });
    assert.deepEqual((await run(wired, "execute", "+CIFSR")).lines, ['+CIFSR:ETHIP,"10.0.0.8"', '+CIFSR:ETHMAC,"24:0a:c4:00:00:04"']);
  });
});
