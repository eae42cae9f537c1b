// What a driver asks of its ESP-IDF network interface: a static IPv4 address or DHCP, DNS
// servers or DHCP's, a hostname, and on a SoftAP its DHCP server. Each waits until the
// interface exists (Moddable's drivers create it when they start), and the DNS servers are set
// again after each DHCP lease, which would overwrite them.
import IpConfigNative from "xsock/ipconfig-native";
import type { DhcpPool, DhcpServer, Ip6Addresses, LinkEvent, NetworkInterface, StaticAddress } from "xsock/net";

/** ESP-IDF's keys: the Wi-Fi station, the SoftAP, and the Ethernet interface Moddable creates. */
export type InterfaceKey = "WIFI_STA_DEF" | "WIFI_AP_DEF" | "ETH_DEF";

/** "0.0.0.0" three times: the DHCP client off, and no address. */
export const NO_ADDRESS: StaticAddress = { ip: "0.0.0.0", gateway: "0.0.0.0", netmask: "0.0.0.0" };

type Setting = "address" | "server" | "dns" | "hostname";
/** The order settings apply in: a SoftAP's pool is checked against its address. */
const ORDER: readonly Setting[] = ["address", "server", "dns", "hostname"];

export default class InterfaceConfig {
  readonly #native: IpConfigNative;
  /** A static address; DHCP when undefined. */
  #address?: StaticAddress;
  /** Servers set by hand; DHCP's when undefined. */
  #dns?: string[];
  /** DHCP's servers, as they were before the ones set by hand replaced them. */
  #leased: string[] = [];
  #hostname?: string;
  #server?: DhcpServer;
  /** What is still to be applied. */
  readonly #pending = new Set<Setting>();

  /** `netif`'s events tell when the interface is up and when DHCP has leased an address. */
  constructor(key: InterfaceKey, netif?: Pick<NetworkInterface, "onEvent">) {
    this.#native = new IpConfigNative(key);
    netif?.onEvent((event) => this.#onEvent(event));
  }

  /** A static address, or DHCP when none is given. */
  setAddress(address?: StaticAddress): void {
    this.#address = address;
    this.#pending.add("address");
    this.apply();
  }

  /** Up to three DNS servers, or DHCP's when none are given. */
  setDns(servers?: string[]): void {
    // While none are set by hand the interface's servers are DHCP's: kept to go back to (CIPDNS=0).
    if (!this.#dns) this.#leased = this.#native.dns() ?? this.#leased;
    this.#dns = servers?.length ? servers.slice(0, 3) : undefined;
    this.#pending.add("dns");
    this.apply();
  }

  /** The name the DHCP client sends. */
  setHostname(name: string): void {
    this.#hostname = name;
    this.#pending.add("hostname");
    this.apply();
  }

  /** The interface's MAC (Wi-Fi's station or SoftAP): false when ESP-IDF refuses it. */
  setMac(mac: string): boolean {
    return this.#native.setMac(mac);
  }

  /** A SoftAP's DHCP server: on or off, and its pool (ESP-IDF's when none). */
  setDhcpServer(server: DhcpServer): void {
    this.#server = server;
    this.#pending.add("server");
    this.apply();
  }

  /** A SoftAP's DHCP server as it runs, with the pool in force; undefined elsewhere. */
  get dhcpServer(): { on: boolean; pool: DhcpPool } | undefined {
    const state = this.#native.dhcpServer();
    return state && { on: state[0], pool: { start: state[1], end: state[2], leaseMinutes: state[3] } };
  }

  /** The address, gateway and netmask the interface has now. */
  get info(): StaticAddress | undefined {
    const info = this.#native.info();
    return info && info[0] !== "0.0.0.0" ? { ip: info[0], gateway: info[1], netmask: info[2] } : undefined;
  }

  /** Its IPv6 addresses: link-local and global, each once it has it. */
  get ip6(): Ip6Addresses {
    const [linkLocal, global] = this.#native.ip6() ?? [];
    return { linkLocal: linkLocal || undefined, global: global || undefined };
  }

  /** The DNS servers in use; undefined before the interface exists. */
  get dns(): string[] | undefined {
    return this.#native.dns();
  }

  /** Applies what waits; what the interface cannot take yet waits on. What it refuses throws, and is dropped. */
  apply(): void {
    for (const what of ORDER.filter((w) => this.#pending.has(w))) {
      let done = true;
      try {
        done = this.#applyOne(what);
      } finally {
        if (done) this.#pending.delete(what);
      }
    }
  }

  #applyOne(what: Setting): boolean {
    const native = this.#native;
    if (what === "hostname") return this.#hostname === undefined || native.setHostname(this.#hostname);
    if (what === "server") {
      const { on, pool } = this.#server!;
      return pool ? native.serveDHCP(on, pool.start, pool.end, pool.leaseMinutes) : native.serveDHCP(on);
    }
    if (what === "dns") return native.setDNS(this.#dns ?? this.#leased);
    const a = this.#address;
    return a ? native.useStatic(a.ip, a.gateway, a.netmask) : native.useDHCP();
  }

  #onEvent(event: LinkEvent): void {
    if (event === "linkUp") {
      // Moddable's drivers name the interface as it starts (their manifest's hostname): ours wins.
      if (this.#hostname !== undefined) this.#pending.add("hostname");
    } else if (event === "gotIP" && this.#dns) {
      // A lease brings DHCP's servers over the ones set by hand: keep them for later, and set ours again.
      const mine = this.#dns;
      this.#leased = (this.#native.dns() ?? []).filter((d) => !mine.includes(d));
      this.#pending.add("dns");
    } else return;
    try {
      this.apply();
    } catch (e) {
      // An event has nobody to answer: the interface refused, and the log says so.
      trace(`ipconfig: ${(e as Error).message}\n`);
    }
  }
}
