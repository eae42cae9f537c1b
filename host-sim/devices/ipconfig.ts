// The board's ESP-IDF network interfaces as drivers/ipconfig sees them (esp_netif by key):
// a static address or DHCP, DNS servers, a hostname, and the SoftAP's DHCP server. A static address is what `net`
// reports (sockets still bind to host addresses, see simulator.ts), and DHCP gives the
// simulator's own. DNS servers are global, as in lwIP: those set by hand are the ones the
// simulator's resolver asks (network.ts), DHCP's stand for the host's resolver.
import { PlatformError, type Host } from "../host.ts";

export interface Address {
  ip: string;
  gateway: string;
  netmask: string;
}

export const NO_ADDRESS = "0.0.0.0";

/** The DNS server the simulated DHCP gives: the host's resolver (systemd-resolved's stub address). */
export const DHCP_DNS = ["127.0.0.53"];

/** The simulated DHCP's lease for an address: its /24, with the router at .1. */
export const leaseFor = (ip: string): Address => ({ ip, gateway: ip.replace(/\.\d+$/, ".1"), netmask: "255.255.255.0" });

/** How an interface is addressed; its device (wifi.ts, ethernet.ts) acts on a change. */
export class Addressing {
  /** A static address (ip 0.0.0.0: DHCP off and no address); DHCP when undefined. */
  static?: Address;
  /** Called after `static` changed. */
  onChange: () => void = () => {};
  /** Its device calls this when DHCP leases an address: the lease brings DHCP's DNS servers. */
  onLease: () => void = () => {};

  /** The address the interface has once its link is up: the static one, or DHCP's lease of `dhcpIp`. */
  addressFor(dhcpIp: string): Address | undefined {
    if (!this.static) return leaseFor(dhcpIp);
    return this.static.ip === NO_ADDRESS ? undefined : this.static;
  }
}

/** A pool of addresses, both ends in. */
export interface Pool {
  start: string;
  end: string;
}

const toNumber = (ip: string) => ip.split(".").reduce((n, b) => n * 256 + Number(b), 0);
const toDotted = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/** DHCPS_MAX_LEASE: the most addresses a SoftAP's pool has. */
const MAX_LEASES = 100;
/** DHCPS_LEASE_TIME_DEF, in minutes. */
export const DEFAULT_LEASE_MINUTES = 120;

/** ESP-IDF's pool for a SoftAP at `ip` (dhcps.c): the 100 addresses after it in its /24, or before it in the upper half. */
export function defaultPool(ip: string): Pool {
  const n = toNumber(ip);
  const local = n % 256 >= 0x80 ? (n % 256) - MAX_LEASES : (n % 256) + 1;
  const base = n - (n % 256) + local;
  return { start: toDotted(base), end: toDotted(base + MAX_LEASES - 1) };
}

/** Why esp_netif refuses a pool for a server at `server` (esp_netif_lwip.c's checks); undefined when it takes it. */
export function poolRefusal(server: Address, pool: Pool): string | undefined {
  const ip = toNumber(server.ip);
  const mask = toNumber(server.netmask);
  const first = ip - (ip % (2 ** 32 - mask)); // the subnet's own address
  const last = first + (2 ** 32 - mask) - 1; // its broadcast address
  const [start, end] = [toNumber(pool.start), toNumber(pool.end)];
  if (ip === first || ip === last) return "the server's address is its subnet's or broadcast";
  if (start <= ip && ip <= end) return "the pool holds the server's own address";
  if (start <= first || start >= last || end <= first || end >= last) return "the pool is not inside the server's subnet";
  if (start >= end || end - start + 1 > MAX_LEASES) return `a pool has 2 to ${MAX_LEASES} addresses`;
  return undefined;
}

/** A SoftAP's DHCP server, as esp_netif runs it: a pool (set, or ESP-IDF's), a lease time, and the leases by MAC. */
export class DhcpServer {
  on = true;
  leaseMinutes = DEFAULT_LEASE_MINUTES;
  #pool?: Pool;
  /** A phone that comes back gets its address again, while the pool stays. */
  readonly #leases = new Map<string, string>();

  /** `address` is its interface's. */
  constructor(private readonly address: () => Address) {}

  /** The pool in force. */
  get pool(): Pool {
    return this.#pool ?? defaultPool(this.address().ip);
  }

  /** Stops, takes the pool (none: ESP-IDF's) and lease time, and runs again when `on`; throws with esp_netif's refusal. */
  serve(on: boolean, pool: Pool | undefined, leaseMinutes: number): void {
    const refusal = pool && poolRefusal(this.address(), pool);
    this.on = on;
    if (refusal) throw new PlatformError(`esp_netif refused the DHCP pool: ${refusal}`);
    this.#pool = pool;
    this.leaseMinutes = leaseMinutes || DEFAULT_LEASE_MINUTES;
    this.#leases.clear();
  }

  /** The interface's address changed: the leases go, and ESP-IDF's pool follows it. */
  moved(): void {
    this.#leases.clear();
    if (this.#pool && poolRefusal(this.address(), this.#pool)) this.#pool = undefined;
  }

  /** The address this MAC gets: its lease, or the lowest free one; undefined when the server is off or the pool is used up. */
  lease(mac: string): string | undefined {
    if (!this.on) return undefined;
    const held = this.#leases.get(mac);
    if (held) return held;
    const taken = new Set(this.#leases.values());
    const { start, end } = this.pool;
    for (let n = toNumber(start); n <= toNumber(end); n++) {
      const ip = toDotted(n);
      if (taken.has(ip)) continue;
      this.#leases.set(mac, ip);
      return ip;
    }
    return undefined;
  }
}

/** One interface's device, as ipconfig sees it. */
export interface Interface {
  /** Its driver has created it: Wi-Fi's at once, Ethernet's when started. */
  readonly exists: boolean;
  /** The address with gateway and netmask while it has one. */
  readonly address: Address | undefined;
  readonly addressing: Addressing;
  /** A SoftAP's DHCP server. */
  readonly dhcpServer?: DhcpServer;
  /** Its MAC: the link-local IPv6 address comes from it. */
  readonly mac?: string;
  /** Wi-Fi's interfaces: a new MAC, as esp_wifi_set_mac takes it (false when it refuses). */
  setMac?(mac: string): boolean;
}

/** The simulated board's global IPv6 address: the host's loopback, where its IPv6 peers are. */
export const GLOBAL_IP6 = "::1";

/** An IPv6 address as lwIP's ip6addr_ntoa writes it: upper-case hex, the first run of two or more zero groups as `::`. */
export function lwipIp6(groups: readonly number[]): string {
  let out = "";
  let zeros = 0; // 0: no `::` yet, 1: in it, 2: done
  for (let i = 0; i < 8; i++) {
    const g = groups[i];
    if (g === 0 && zeros === 1) {
      if (i === 7) out += ":";
      continue;
    }
    if (g === 0 && zeros === 0 && i < 7 && groups[i + 1] === 0) {
      zeros = 1;
      out += ":";
      continue;
    }
    if (zeros === 1) zeros = 2;
    out += `${i > 0 ? ":" : ""}${g.toString(16).toUpperCase()}`;
  }
  return out;
}

/** fe80:: and the MAC's EUI-64 (ff:fe in the middle, the universal/local bit flipped), as lwIP's netif_create_ip6_linklocal_address makes it. */
export function linkLocalFor(mac: string): string {
  const b = mac.split(":").map((x) => Number.parseInt(x, 16));
  return lwipIp6([0xfe80, 0, 0, 0, ((b[0] ^ 2) << 8) | b[1], (b[2] << 8) | 0xff, 0xfe00 | b[3], (b[4] << 8) | b[5]]);
}

export interface IpConfigDevice {
  /** The servers set by hand; undefined: DHCP's (the host's resolver). */
  readonly dnsServers: string[] | undefined;
}

export function ipconfig(host: Host, interfaces: Record<string, Interface | undefined>): IpConfigDevice {
  let dns: string[] | undefined;
  const hostnames = new Map<string, string>();
  for (const iface of Object.values(interfaces)) if (iface) iface.addressing.onLease = () => void (dns = undefined);
  const find = (key: string) => {
    const iface = interfaces[key];
    return iface?.exists ? iface : undefined;
  };

  host.handle("ipconfig.info", (key: string) => {
    const iface = find(key);
    if (!iface) return null;
    const a = iface.address;
    return a ? [a.ip, a.gateway, a.netmask] : [NO_ADDRESS, NO_ADDRESS, NO_ADDRESS];
  });
  // The station's and Ethernet's IPv6 addresses once they have an address: the link-local one
  // from the MAC, and the global one, loopback's (the board's lwIP would have it from SLAAC).
  host.handle("ipconfig.ip6", (key: string) => {
    const iface = find(key);
    if (!iface) return null;
    return iface.address && iface.mac ? [linkLocalFor(iface.mac), GLOBAL_IP6] : ["", ""];
  });
  host.handle("ipconfig.useStatic", (key: string, ip: string, gateway: string, netmask: string) => {
    const iface = find(key);
    if (!iface) return false;
    const before = iface.addressing.static;
    iface.addressing.static = { ip, gateway, netmask };
    if (before?.ip !== ip || before.gateway !== gateway || before.netmask !== netmask) iface.addressing.onChange();
    return true;
  });
  host.handle("ipconfig.useDHCP", (key: string) => {
    const iface = find(key);
    if (!iface) return false;
    // A DHCP client already running goes on with its lease (ESP_ERR_ESP_NETIF_DHCP_ALREADY_STARTED).
    if (!iface.addressing.static) return true;
    iface.addressing.static = undefined;
    iface.addressing.onChange();
    return true;
  });
  host.handle("ipconfig.serveDHCP", (key: string, on: boolean, start?: string, end?: string, leaseMinutes = 0) => {
    const iface = find(key);
    if (!iface) return false;
    if (!iface.dhcpServer) throw new PlatformError("not a SoftAP's interface");
    iface.dhcpServer.serve(on, start === undefined || end === undefined ? undefined : { start, end }, leaseMinutes);
    return true;
  });
  host.handle("ipconfig.dhcpServer", (key: string) => {
    const server = find(key)?.dhcpServer;
    return server ? [server.on, server.pool.start, server.pool.end, server.leaseMinutes] : null;
  });
  host.handle("ipconfig.dns", (key: string) => (find(key) ? (dns ?? DHCP_DNS) : null));
  host.handle("ipconfig.setDNS", (key: string, servers: string[]) => {
    if (!find(key)) return false;
    dns = servers.join() === DHCP_DNS.join() ? undefined : servers;
    host.debug(`ipconfig: DNS ${dns ? dns.join(", ") || "none" : "from DHCP"}`);
    return true;
  });
  host.handle("ipconfig.setMac", (key: string, mac: string) => find(key)?.setMac?.(mac) ?? false);
  host.handle("ipconfig.setHostname", (key: string, hostname: string) => {
    if (!find(key)) return false;
    if (hostnames.get(key) !== hostname) host.event({ event: "hostname", interface: key, hostname });
    hostnames.set(key, hostname);
    return true;
  });

  return {
    get dnsServers() {
      return dns;
    },
  };
}
