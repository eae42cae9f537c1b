// The Wi-Fi driver's station and SoftAP (drivers/wifi/esp32) over stand-ins for Moddable's
// `wifi`, `net` and `timer` and the native station list: join outcomes from Moddable's
// disconnect reason, reconnections, the options WiFi.accessPoint gets, and the station events.
import assert from "node:assert/strict";
import type { SoftApConfig, SoftApEvent } from "xsock/wifi-control";
import { importFirmware } from "../helpers/firmware-module.ts";

interface Radio {
  aps: { ssid: string; authentication: string; rssi: number; bssid: ArrayBuffer; channel: number }[];
  connects: unknown[];
  disconnects: number;
  accessPoints: Record<string, unknown>[];
  list: string[];
  deauths: (string | undefined)[];
  mode: number;
  /** The SoftAP's esp_netif: its address, and what was asked of it in order. */
  apAddress: string[];
  netifCalls: string[];
}

interface StationLike {
  reconnectInterval: number;
  readonly joining: boolean;
  message(message: string, reason?: number): void;
  connect(target: { ssid: string; password: string }, timeoutMs: number): Promise<number>;
  leave(): void;
}
interface SoftApLike {
  start(config: SoftApConfig, withStation: boolean): void;
  setAddress(address: { ip: string; gateway: string; netmask: string }): void;
  setDhcp(server: { on: boolean; pool?: { start: string; end: string; leaseMinutes: number } }): void;
  readonly state: { ip: string; gateway: string; netmask: string; dhcp?: unknown } | undefined;
  stop(): void;
  message(message: string): void;
  onEvent(listener: (event: SoftApEvent) => void): () => void;
  deauth(mac?: string): boolean;
}

const radio = (): Radio => (globalThis as unknown as { radio: Radio }).radio;

const STAND_INS = {
  wifi: `export default class WiFi {
    static get mode() { return globalThis.radio.mode; }
    static set mode(m) { globalThis.radio.mode = m; }
    static connect(o) { globalThis.radio.connects.push(o); }
    static disconnect() { globalThis.radio.disconnects++; }
    static accessPoint(o) { globalThis.radio.accessPoints.push(o); }
    static scan(o, cb) { const aps = globalThis.radio.aps; setTimeout(() => { for (const ap of aps) cb(ap); cb(null); }, 1); }
  }`,
  timer: `export default { set: (fn, ms) => setTimeout(fn, ms), clear: (t) => clearTimeout(t) };`,
  net: `export default { get: (what, iface) => (iface === "ap" ? { IP: "192.168.4.1", MAC: "24:0A:C4:00:00:02" }[what] : undefined) };`,
  "xsock/wifi/softap-stations": `export default class { list() { return globalThis.radio.list; } deauth(mac) { globalThis.radio.deauths.push(mac); return true; } }`,
  // esp_netif's WIFI_AP_DEF, which exists once WiFi.accessPoint has run.
  "xsock/ipconfig-native": `export default class {
    get up() { return globalThis.radio.accessPoints.length > 0; }
    info() { return this.up ? globalThis.radio.apAddress : undefined; }
    useStatic(ip, gateway, netmask) { if (!this.up) return false; globalThis.radio.apAddress = [ip, gateway, netmask]; globalThis.radio.netifCalls.push("address " + ip); return true; }
    serveDHCP(on, start, end, minutes) { if (!this.up) return false; globalThis.radio.netifCalls.push(on ? "serve " + start + "-" + end + " " + minutes : "stop"); return true; }
    dhcpServer() { return this.up ? [true, "192.168.7.10", "192.168.7.20", 5] : undefined; }
    useDHCP() { return false; }
    dns() { return undefined; }
    setDNS() { return false; }
    setHostname() { return false; }
  }`,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LAB = { ssid: "lab", authentication: "wpa2_psk", rssi: -50, bssid: new Uint8Array([2, 0, 0, 0, 0, 2]).buffer, channel: 6 };

describe("Wi-Fi driver (drivers/wifi/esp32)", () => {
  let Station: new () => StationLike;
  let SoftAp: new () => SoftApLike;
  before(async () => {
    ({ Station } = await importFirmware<{ Station: new () => StationLike }>('export { Station } from "xsock/wifi/station";', STAND_INS));
    ({ SoftAp } = await importFirmware<{ SoftAp: new () => SoftApLike }>('export { SoftAp } from "xsock/wifi/softap";', STAND_INS));
  });
  beforeEach(() => {
    (globalThis as unknown as { radio: Radio }).radio = { aps: [LAB], connects: [], disconnects: 0, accessPoints: [], list: [], deauths: [], mode: 1, apAddress: ["192.168.4.1", "192.168.4.1", "255.255.255.0"], netifCalls: [] };
  });

  it("ends a join with ESP-AT's codes: 0 on an address, 2 on a refused handshake (-1), 3 when the scan found no such AP, 4 otherwise, 1 on the timeout", async () => {
    const station = new Station();
    const outcome = async (ssid: string, event: () => void) => {
      const joining = station.connect({ ssid, password: "secret-pass" }, 200);
      await sleep(10); // the scan before the join
      event();
      return joining;
    };
    assert.equal(await outcome("lab", () => (station.message("connect"), station.message("gotIP"))), 0);
    station.message("disconnect", 0); // the AP drops it: not a join any more
    station.leave();
    assert.equal(await outcome("lab", () => station.message("disconnect", -1)), 2);
    assert.equal(await outcome("nowhere", () => station.message("disconnect", 0)), 3);
    assert.equal(await outcome("lab", () => station.message("disconnect", 0)), 4);
    const disconnects = radio().disconnects;
    assert.equal(await outcome("lab", () => station.message("connect")), 1, "associated, never an address");
    assert.equal(radio().disconnects, disconnects + 1, "a timed-out join leaves the AP");
    assert.deepEqual(radio().connects.at(-1), { ssid: "lab", password: "secret-pass" });
    assert.equal(station.joining, false);
  });

  it("joins again every reconnect interval after the AP drops the station, until the host leaves; not with an interval of 0", async () => {
    const station = new Station();
    station.reconnectInterval = 0.03;
    const joining = station.connect({ ssid: "lab", password: "secret-pass" }, 1000);
    await sleep(10);
    station.message("connect");
    station.message("gotIP");
    assert.equal(await joining, 0);
    const tries = radio().connects.length;
    station.message("disconnect", 0);
    assert.equal(station.joining, true, "a reconnection is under way");
    await sleep(50);
    assert.equal(radio().connects.length, tries + 1);
    station.message("disconnect", 0); // that try failed too: another follows
    await sleep(50);
    assert.equal(radio().connects.length, tries + 2);
    station.leave();
    station.message("disconnect", 0);
    await sleep(50);
    assert.equal(radio().connects.length, tries + 2, "no retry after leave()");

    station.reconnectInterval = 0;
    const again = station.connect({ ssid: "lab", password: "secret-pass" }, 1000);
    await sleep(10);
    station.message("connect");
    station.message("gotIP");
    assert.equal(await again, 0);
    station.message("disconnect", 0);
    await sleep(50);
    assert.equal(radio().connects.length, tries + 3, "interval 0: no reconnection");
  });

  it("gives WiFi.accessPoint no password for an open SoftAP, and names the stations that come and go from the native list", async () => {
    const softAp = new SoftAp();
    const open: SoftApConfig = { ssid: "ESP_000002", password: "", channel: 1, ecn: 0, max: 4, hidden: false };
    softAp.start(open, false);
    assert.deepEqual(radio().accessPoints[0], { ssid: "ESP_000002", channel: 1, hidden: false, max: 4, station: false });
    assert.equal("password" in radio().accessPoints[0], false);
    softAp.start({ ...open, ssid: "lab-ap", password: "secret-pass", ecn: 3, max: 2, hidden: true }, true);
    assert.deepEqual(radio().accessPoints[1], { ssid: "lab-ap", password: "secret-pass", channel: 1, hidden: true, max: 2, station: true });

    const events: SoftApEvent[] = [];
    softAp.onEvent((e) => events.push(e));
    radio().list = ["aa:bb:cc:00:00:01", "0.0.0.0"];
    softAp.message("station_connect");
    assert.deepEqual(events, [{ kind: "joined", mac: "aa:bb:cc:00:00:01" }]);
    radio().list = ["aa:bb:cc:00:00:01", "192.168.4.2"];
    await sleep(250); // the list is read again while the station waits for DHCP
    assert.deepEqual(events.slice(1), [{ kind: "address", mac: "aa:bb:cc:00:00:01", ip: "192.168.4.2" }]);
    assert.equal(softAp.deauth("AA:BB:CC:00:00:01"), true);
    assert.deepEqual(radio().deauths, ["aa:bb:cc:00:00:01"]);
    radio().list = [];
    softAp.message("station_disconnect");
    assert.deepEqual(events.slice(2), [{ kind: "left", mac: "aa:bb:cc:00:00:01" }]);

    radio().list = ["aa:bb:cc:00:00:02", "192.168.4.3"];
    softAp.message("station_connect");
    softAp.stop();
    assert.deepEqual(events.slice(3), [
      { kind: "joined", mac: "aa:bb:cc:00:00:02" },
      { kind: "address", mac: "aa:bb:cc:00:00:02", ip: "192.168.4.3" },
      { kind: "left", mac: "aa:bb:cc:00:00:02" },
    ], "a stopped SoftAP has no stations");
    assert.equal(softAp.deauth(), false);
  });

  it("gives the SoftAP's interface its address, then its DHCP pool, once WiFi.accessPoint has created it", () => {
    const softAp = new SoftAp();
    softAp.setAddress({ ip: "192.168.7.1", gateway: "192.168.7.1", netmask: "255.255.255.0" });
    softAp.setDhcp({ on: true, pool: { start: "192.168.7.10", end: "192.168.7.20", leaseMinutes: 5 } });
    assert.deepEqual(radio().netifCalls, [], "no interface before the SoftAP starts");
    softAp.start({ ssid: "lab-ap", password: "", channel: 1, ecn: 0, max: 4, hidden: false }, false);
    assert.deepEqual(radio().netifCalls, ["address 192.168.7.1", "serve 192.168.7.10-192.168.7.20 5"]);
    const state = softAp.state!;
    assert.deepEqual([state.ip, state.gateway, state.netmask], ["192.168.7.1", "192.168.7.1", "255.255.255.0"]);
    assert.deepEqual(state.dhcp, { on: true, pool: { start: "192.168.7.10", end: "192.168.7.20", leaseMinutes: 5 } });
    softAp.setDhcp({ on: false });
    assert.deepEqual(radio().netifCalls.slice(2), ["stop"], "a running SoftAP takes it at once");
  });
});
