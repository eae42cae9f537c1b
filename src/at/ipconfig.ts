// ESP-AT's address commands, applied to the board's network interface: CIPSTA (the station's
// static address), CWDHCP (DHCP on or off per interface, the SoftAP's server included), CIPDNS
// (DNS servers), CWHOSTNAME and CEHOSTNAME (the DHCP hostname of the station, of Ethernet) and
// CIFSR (every interface's address and MAC). What is saved to flash is applied at boot
// (applySavedIpConfig), and AT+CIPETH (ethernet.ts) shares the address rules.
import type { CommandTable } from "./console";
import { isInt, type Param } from "./parser";
import type { Settings } from "./settings";

/** xsock/net's StaticAddress: an IPv4 address with its gateway and netmask, dotted. */
type StaticAddress = { ip: string; gateway: string; netmask: string };

/** What these commands use of the board's interface (xsock/net's NetworkInterface). */
export interface AddressedInterface {
  readonly kind: "wifi" | "ethernet";
  readonly address: string | undefined;
  readonly gateway: string | undefined;
  readonly netmask: string | undefined;
  readonly mac: string;
  readonly dns: string[];
  /** Its IPv6 addresses, link-local and global, as lwIP writes them. */
  readonly ip6?: { linkLocal?: string; global?: string };
  configure(address?: StaticAddress): void;
  setDns(servers?: string[]): void;
  setHostname(name: string): void;
}

const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const NONE = "0.0.0.0";

/** A dotted IPv4 address, no byte with a leading zero (ESP-IDF's inet_aton would read it as octal). */
export const isDotted = (p: Param | undefined): p is string => typeof p === "string" && DOTTED.test(p);

const toNumber = (ip: string) => ip.split(".").reduce((n, b) => n * 256 + Number(b), 0);

/** A netmask: ones then zeros, not all zeros. */
const isNetmask = (p: Param | undefined): p is string => {
  if (!isDotted(p)) return false;
  const inverted = 0xffffffff - toNumber(p);
  return inverted !== 0xffffffff && (inverted & (inverted + 1)) === 0;
};

/** The /24 and its .1 router, for an address given without them. */
export const subnetOf = (ip: string) => ({ gateway: ip.replace(/\.\d+$/, ".1"), netmask: "255.255.255.0" });

/** DHCP off and no address, as the interface has after AT+CWDHCP=0 with no static address. */
export const NO_ADDRESS: StaticAddress = { ip: NONE, gateway: NONE, netmask: NONE };

/** `<"ip">[,<"gateway">,<"netmask">]`, as AT+CIPSTA= and AT+CIPETH= take it; undefined when malformed. */
export function parseAddress(params: Param[]): StaticAddress | undefined {
  const [ip, gateway, netmask] = params;
  if (!isDotted(ip) || ip === NONE || (params.length !== 1 && params.length !== 3)) return undefined;
  if (params.length === 1) return { ip, ...subnetOf(ip) };
  return isDotted(gateway) && isNetmask(netmask) ? { ip, gateway, netmask } : undefined;
}

/** AT+CWDHCP's <mode> bits. */
export const DHCP_STATION = 1;
export const DHCP_SOFTAP = 2;
export const DHCP_ETHERNET = 4;

/** `<operate>,<mode>`: the mode's bits on (1) or off (0); bit 2 (Ethernet) on wired boards only. */
export function parseDhcp(params: Param[], wired: boolean): { on: boolean; mode: number } | undefined {
  const [operate, mode, ...rest] = params;
  if (rest.length || !isInt(operate, 0, 1) || !isInt(mode, 1, wired ? 7 : 3)) return undefined;
  return { on: operate === 1, mode };
}

/** What AT+CIPDNS=1 sets when given no server (ESP-AT's defaults). */
export const DEFAULT_DNS = ["208.67.222.222", "114.114.114.114", "8.8.8.8"];

/** `<enable>[,<"DNS IP1">][,<"DNS IP2">][,<"DNS IP3">]`: the servers, [] for DHCP's; undefined when malformed. */
export function parseDns(params: Param[]): string[] | undefined {
  const [enable, ...servers] = params;
  if (!isInt(enable, 0, 1) || servers.length > 3) return undefined;
  if (enable === 0) return servers.length ? undefined : [];
  if (!servers.every((d) => isDotted(d) && d !== NONE)) return undefined;
  if (new Set(servers).size !== servers.length) return undefined; // the same server twice
  return servers.length ? (servers as string[]) : DEFAULT_DNS;
}

/** `<"hostname">`: 1 to 32 printable ASCII characters; undefined when malformed. */
export function parseHostname(params: Param[]): string | undefined {
  const [name, ...rest] = params;
  return !rest.length && typeof name === "string" && /^[\x21-\x7e]{1,32}$/.test(name) ? name : undefined;
}

/** A static address saved as `ip,gateway,netmask` under `key` (staip, ethip); "" for none. */
export function savedAddress(settings: Settings, key: string): StaticAddress | undefined {
  const [ip, gateway, netmask] = settings.get<string>(key, "").split(",");
  return ip ? { ip, gateway, netmask } : undefined;
}

/** Keeps a static address under `key`, or none. */
export const keepAddress = (settings: Settings, key: string, a?: StaticAddress) => settings.keep(key, a ? `${a.ip},${a.gateway},${a.netmask}` : "");

/** AT+CWDHCP?'s state: every DHCP on until told otherwise (the Ethernet bit on wired boards only). */
export const dhcpState = (settings: Settings, wired: boolean) => settings.get<number>("cwdhcp", wired ? 7 : 3);

const setDhcpBits = (settings: Settings, wired: boolean, bits: number, on: boolean) => {
  const now = dhcpState(settings, wired);
  settings.keep("cwdhcp", on ? now | bits : now & ~bits);
};

/** The address an interface starts with: the saved static one, none when its DHCP is off, else DHCP (undefined). */
export function startingAddress(settings: Settings, wired: boolean): StaticAddress | undefined {
  const [key, bit] = wired ? ["ethip", DHCP_ETHERNET] : ["staip", DHCP_STATION];
  return savedAddress(settings, key) ?? (dhcpState(settings, wired) & bit ? undefined : NO_ADDRESS);
}

/** A static address for the board's interface (AT+CIPSTA= on Wi-Fi, AT+CIPETH= wired): its DHCP goes off. */
export function setStaticAddress(netif: AddressedInterface, settings: Settings, address: StaticAddress): void {
  const wired = netif.kind === "ethernet";
  netif.configure(address);
  keepAddress(settings, wired ? "ethip" : "staip", address);
  setDhcpBits(settings, wired, wired ? DHCP_ETHERNET : DHCP_STATION, false);
}

export interface IpConfigDeps {
  netif: AddressedInterface;
  settings: Settings;
  /** The station: CWMODE's mode, and whether it holds an address. */
  station: { readonly mode: number; readonly online: boolean };
  /**
   * The SoftAP's address and MAC while it runs, for +CIFSR's APIP and APMAC lines: the Wi-Fi
   * driver's SoftAP gives them. Without it, CIFSR prints no SoftAP lines.
   */
  softAp?: () => { ip: string; mac: string } | undefined;
  /** Turns the SoftAP's DHCP server on or off (AT+CWDHCP's bit 1). */
  softApServer?: (on: boolean) => void;
  /** AT+CIPV6: whether CIFSR and CIPSTA? show the IPv6 addresses. */
  ipv6?: () => boolean;
}

/** The hostname the DHCP client sends until AT+CWHOSTNAME names it: ESP-IDF's (CONFIG_LWIP_LOCAL_HOSTNAME). */
export const DEFAULT_HOSTNAME = "espressif";

/** At boot, before the interface starts: the saved static address or DHCP, and the saved DNS servers. */
export function applySavedIpConfig({ netif, settings }: IpConfigDeps): void {
  netif.configure(startingAddress(settings, netif.kind === "ethernet"));
  const dns = settings.get<string>("dns", "");
  if (dns) netif.setDns(dns.split(","));
}

export function ipconfigCommands({ netif, settings, station, softAp, softApServer, ipv6 }: IpConfigDeps): CommandTable {
  const wired = netif.kind === "ethernet";
  /** The hostname set since boot: ESP-AT does not save it. */
  let hostname = DEFAULT_HOSTNAME;
  /** The station's static address in force (set or saved), shown before it joins an AP. */
  let stationStatic = wired ? undefined : startingAddress(settings, false);
  /** The station's address, gateway and netmask (Wi-Fi boards drive the station through the netif). */
  const stationInfo = (): StaticAddress => {
    if (!wired && station.online && netif.address) return { ip: netif.address, gateway: netif.gateway ?? NONE, netmask: netif.netmask ?? NONE };
    return stationStatic ?? NO_ADDRESS;
  };

  /** The interface's IPv6 lines, `<prefix><LL name>,"..."` and `<prefix><GL name>,"..."`, for those it has, with AT+CIPV6=1. */
  const ip6Lines = (at: { print(line: string): void }, linkLocal: string, global: string) => {
    const addresses = ipv6?.() ? netif.ip6 : undefined;
    if (addresses?.linkLocal) at.print(`${linkLocal}"${addresses.linkLocal}"`);
    if (addresses?.global) at.print(`${global}"${addresses.global}"`);
  };

  /** A new hostname for the interface; false when malformed. */
  const rename = (params: Param[]) => {
    const name = parseHostname(params);
    if (name === undefined) return false;
    netif.setHostname(name);
    hostname = name;
    return true;
  };

  return {
    "+CIPSTA": {
      query: (at) => {
        const { ip, gateway, netmask } = stationInfo();
        at.print(`+CIPSTA:ip:"${ip}"`);
        at.print(`+CIPSTA:gateway:"${gateway}"`);
        at.print(`+CIPSTA:netmask:"${netmask}"`);
        if (station.online) ip6Lines(at, "+CIPSTA:ip6ll:", "+CIPSTA:ip6gl:");
      },
      set: (_at, params) => {
        const address = parseAddress(params);
        // A wired board's netif is its Ethernet port: its station has no driver to take an address.
        if (!address || wired) return false;
        setStaticAddress(netif, settings, address);
        stationStatic = address;
      },
    },
    // DHCP: bit 0 the station's client, bit 1 the SoftAP's server, bit 2 Ethernet's client.
    "+CWDHCP": {
      query: (at) => at.print(`+CWDHCP:${dhcpState(settings, wired)}`),
      set: (_at, params) => {
        const dhcp = parseDhcp(params, wired);
        if (!dhcp) return false;
        setDhcpBits(settings, wired, dhcp.mode, dhcp.on);
        if (dhcp.mode & DHCP_SOFTAP) softApServer?.(dhcp.on);
        const bit = wired ? DHCP_ETHERNET : DHCP_STATION;
        if (!(dhcp.mode & bit)) return;
        if (dhcp.on) {
          // DHCP again: the static address goes.
          keepAddress(settings, wired ? "ethip" : "staip");
          if (!wired) stationStatic = undefined;
          return void netif.configure();
        }
        // The client stops and the interface keeps the address it has, as esp_netif_dhcpc_stop does.
        const ip = netif.address;
        const pinned = ip ? { ip, gateway: netif.gateway ?? NONE, netmask: netif.netmask ?? NONE } : NO_ADDRESS;
        if (!wired) stationStatic = pinned;
        netif.configure(pinned);
      },
    },
    // DNS servers: 0 DHCP's, 1 up to three set by hand (ESP-AT's three defaults when none is given).
    "+CIPDNS": {
      query: (at) => {
        const mine = settings.get<string>("dns", "");
        const servers = mine ? mine.split(",") : netif.dns;
        at.print(`+CIPDNS:${mine ? 1 : 0}${servers.map((d) => `,"${d}"`).join("")}`);
      },
      set: (_at, params) => {
        const servers = parseDns(params);
        if (!servers) return false;
        netif.setDns(servers.length ? servers : undefined);
        settings.keep("dns", servers.join(","));
      },
    },
    // The station's hostname: it needs station mode, and is not saved (as in ESP-AT).
    "+CWHOSTNAME": {
      query: (at) => at.print(`+CWHOSTNAME:${hostname}`),
      set: (_at, params) => (station.mode & 1 ? rename(params) : false),
    },
    // Ethernet's hostname, on wired boards (ESP-AT's Ethernet builds): the one interface CWHOSTNAME names too.
    ...(wired && {
      "+CEHOSTNAME": {
        query: (at) => at.print(`+CEHOSTNAME:${hostname}`),
        set: (_at, params) => rename(params),
      },
    }),
    "+CIFSR": {
      execute: (at) => {
        const ap = station.mode & 2 ? softAp?.() : undefined;
        if (ap) {
          at.print(`+CIFSR:APIP,"${ap.ip}"`);
          at.print(`+CIFSR:APMAC,"${ap.mac}"`);
        }
        if (!wired && station.mode & 1) {
          at.print(`+CIFSR:STAIP,"${station.online ? (netif.address ?? NONE) : NONE}"`);
          if (station.online) ip6Lines(at, "+CIFSR:STAIP6LL,", "+CIFSR:STAIP6GL,");
          at.print(`+CIFSR:STAMAC,"${netif.mac}"`);
        }
        if (wired) {
          at.print(`+CIFSR:ETHIP,"${netif.address ?? NONE}"`);
          ip6Lines(at, "+CIFSR:ETHIP6LL,", "+CIFSR:ETHIP6GL,");
          at.print(`+CIFSR:ETHMAC,"${netif.mac}"`);
        }
      },
    },
  };
}
