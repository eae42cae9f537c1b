// drivers/ipconfig's InterfaceConfig on a stand-in esp_netif: what waits for the interface to
// exist, DNS servers set by hand surviving a DHCP lease and giving DHCP's back, and a SoftAP's
// DHCP server set after its address.
import assert from "node:assert/strict";
import { importFirmware } from "../helpers/firmware-module.ts";

interface Netif {
  exists: boolean;
  ip: string[] | undefined;
  dhcp: boolean;
  dns: string[];
  hostname: string;
  /** Calls in order, for a SoftAP's interface. */
  calls: string[];
}
interface Config {
  setDhcpServer(server: { on: boolean; pool?: { start: string; end: string; leaseMinutes: number } }): void;
  setAddress(a?: { ip: string; gateway: string; netmask: string }): void;
  setDns(servers?: string[]): void;
  setHostname(name: string): void;
  apply(): void;
  readonly info: { ip: string; gateway: string; netmask: string } | undefined;
}
type Module = { default: new (key: string, netif?: { onEvent(l: (e: string) => void): () => void }) => Config; netifs: Map<string, Netif> };

// The stand-in keeps one interface per key, as esp_netif does, and answers false until it exists.
const NATIVE = `
export const netifs = new Map();
export default class IpConfigNative {
  constructor(key) { this.key = key; if (!netifs.has(key)) netifs.set(key, { exists: false, ip: undefined, dhcp: true, dns: ["10.0.0.53"], hostname: "espressif", calls: [] }); }
  get n() { return netifs.get(this.key); }
  info() { return this.n.exists ? (this.n.ip ?? ["0.0.0.0", "0.0.0.0", "0.0.0.0"]) : undefined; }
  useStatic(ip, gateway, netmask) { if (!this.n.exists) return false; this.n.dhcp = false; this.n.ip = [ip, gateway, netmask]; this.n.calls.push("address " + ip); return true; }
  serveDHCP(on, start, end, minutes) {
    if (!this.n.exists) return false;
    if (start && this.n.ip && start.split(".")[2] !== this.n.ip[0].split(".")[2]) throw new RangeError("esp_netif refused the DHCP pool: 5");
    this.n.calls.push(on ? "serve " + (start ? start + "-" + end + " " + minutes : "default") : "stop");
    return true;
  }
  useDHCP() { if (!this.n.exists) return false; this.n.dhcp = true; this.n.ip = undefined; return true; }
  dns() { return this.n.exists ? [...this.n.dns] : undefined; }
  setDNS(servers) { if (!this.n.exists) return false; this.n.dns = [...servers]; return true; }
  setHostname(name) { if (!this.n.exists) return false; this.n.hostname = name; return true; }
}`;

async function load(): Promise<Module> {
  return importFirmware<Module>(`export { default } from "xsock/ipconfig"; export { netifs } from "xsock/ipconfig-native";`, { "xsock/ipconfig-native": NATIVE });
}

describe("drivers/ipconfig InterfaceConfig", () => {
  it("keeps what is asked until the interface exists, then applies it", async () => {
    const { default: InterfaceConfig, netifs } = await load();
    const config = new InterfaceConfig("ETH_DEF");
    config.setAddress({ ip: "10.0.0.8", gateway: "10.0.0.1", netmask: "255.255.255.0" });
    config.setHostname("eth-board");
    const netif = netifs.get("ETH_DEF")!;
    assert.equal(netif.dhcp, true, "nothing applied before the interface exists");
    netif.exists = true;
    config.apply();
    assert.deepEqual(netif.ip, ["10.0.0.8", "10.0.0.1", "255.255.255.0"]);
    assert.equal(netif.dhcp, false);
    assert.equal(netif.hostname, "eth-board");
    assert.deepEqual(config.info, { ip: "10.0.0.8", gateway: "10.0.0.1", netmask: "255.255.255.0" });
    config.setAddress();
    assert.equal(netif.dhcp, true);
    assert.equal(config.info, undefined, "no address until DHCP leases one");
  });

  it("sets its DNS servers again after a lease, and gives DHCP's back when asked", async () => {
    const { default: InterfaceConfig, netifs } = await load();
    let listener: (event: string) => void = () => {};
    const config = new InterfaceConfig("WIFI_STA_DEF", { onEvent: (l) => ((listener = l), () => {}) });
    const netif = netifs.get("WIFI_STA_DEF")!;
    netif.exists = true;
    config.setDns(["1.1.1.1", "8.8.8.8"]);
    assert.deepEqual(netif.dns, ["1.1.1.1", "8.8.8.8"]);
    netif.dns = ["10.0.0.54", "8.8.8.8"]; // a lease overwrites main and backup
    listener("gotIP");
    assert.deepEqual(netif.dns, ["1.1.1.1", "8.8.8.8"], "ours again");
    config.setDns();
    assert.deepEqual(netif.dns, ["10.0.0.54"], "the lease's own server back");
    // The hostname is set again when the link comes up (Moddable's drivers set theirs at start).
    config.setHostname("board-1");
    netif.hostname = "moddable";
    listener("linkUp");
    assert.equal(netif.hostname, "board-1");
  });

  it("sets a SoftAP's DHCP server after its address, whichever came first, and throws what esp_netif refuses", async () => {
    const { default: InterfaceConfig, netifs } = await load();
    const config = new InterfaceConfig("WIFI_AP_DEF");
    config.setDhcpServer({ on: true, pool: { start: "192.168.7.10", end: "192.168.7.20", leaseMinutes: 5 } });
    config.setAddress({ ip: "192.168.7.1", gateway: "192.168.7.1", netmask: "255.255.255.0" });
    const netif = netifs.get("WIFI_AP_DEF")!;
    netif.exists = true; // WiFi.accessPoint created it
    config.apply();
    assert.deepEqual(netif.calls, ["address 192.168.7.1", "serve 192.168.7.10-192.168.7.20 5"]);
    assert.throws(() => config.setDhcpServer({ on: true, pool: { start: "192.168.4.10", end: "192.168.4.20", leaseMinutes: 5 } }), /refused the DHCP pool/);
    config.apply();
    assert.equal(netif.calls.length, 2, "a refused pool is not tried again");
    config.setDhcpServer({ on: false });
    assert.deepEqual(netif.calls.slice(2), ["stop"]);
  });
});
