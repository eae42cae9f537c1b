// The one network-interface contract the console and the app see, whatever the driver:
// link state, address, DNS, and the events link up, got IP, lost IP and link down.
import Net from "net";
import type { StaticAddress, WifiControl } from "./wifi-control";

export type * from "./wifi-control";

export type LinkEvent = "linkUp" | "gotIP" | "lostIP" | "linkDown";

export interface NetworkInterface {
  /** Which driver: ESP-AT names its messages after it (WIFI ..., +ETH_...). */
  readonly kind: "wifi" | "ethernet";
  /** The link is up (associated with an AP, or a cable with a peer). */
  readonly linked: boolean;
  /** The IPv4 address while the interface has one. */
  readonly address: string | undefined;
  /** The interface's MAC, lower case. */
  readonly mac: string;
  /** The DNS servers in use. */
  readonly dns: string[];
  /** The gateway and netmask that go with the address, while it has one. */
  readonly gateway: string | undefined;
  /** Its IPv6 addresses (drivers with an ESP-IDF interface). */
  readonly ip6?: Ip6Addresses;
  readonly netmask: string | undefined;
  /** Brings the interface up: an Ethernet PHY starts; Wi-Fi waits for a join. */
  start(): void;
  /** A static address (all 0.0.0.0: DHCP off, no address), or DHCP when none is given. */
  configure(address?: StaticAddress): void;
  /** Up to three DNS servers, or DHCP's again when none are given. */
  setDns(servers?: string[]): void;
  /** The hostname the DHCP client sends. */
  setHostname(name: string): void;
  /** Calls `listener` with every event; returns what stops it. */
  onEvent(listener: (event: LinkEvent) => void): () => void;
  /** The Wi-Fi driver's station and SoftAP (drivers/wifi/esp32); other drivers have none. */
  readonly wifi?: WifiControl;
}

/** An interface's IPv6 addresses, as lwIP writes them: link-local (fe80::) and global. */
export interface Ip6Addresses {
  linkLocal?: string;
  global?: string;
}

/** A usable IPv4 address: not empty and not 0.0.0.0. */
export const isAddress = (ip: unknown): ip is string => typeof ip === "string" && ip !== "" && ip !== "0.0.0.0";

const netGet = Net.get as (what: string, iface?: string) => unknown;

/** Moddable's messages (`wifi` and `ethernet` send the same four) as the contract's events. */
const EVENTS: Record<string, LinkEvent> = { connect: "linkUp", gotIP: "gotIP", lostIP: "lostIP", disconnect: "linkDown" };

/** What a driver's address settings go through: drivers/ipconfig's InterfaceConfig. */
export interface AddressSettings {
  setAddress(address?: StaticAddress): void;
  setDns(servers?: string[]): void;
  setHostname(name: string): void;
  /** The address, gateway and netmask the interface has now. */
  readonly info: StaticAddress | undefined;
  readonly ip6?: Ip6Addresses;
}

/**
 * What both drivers share: the facts Moddable's `net` reports for one interface, the link
 * events, fed by the driver's monitor through notify(), and the address settings.
 */
export abstract class MonitoredInterface {
  /** The driver's ESP-IDF interface settings. */
  protected abstract readonly ipconfig: AddressSettings;
  private link = false;
  private readonly listeners = new Set<(event: LinkEvent) => void>();

  /** `net`'s name for the interface: "station" or "ethernet". */
  constructor(private readonly iface: string) {}

  /** A message from Moddable's monitor. */
  protected notify(message: string): void {
    const event = EVENTS[message];
    if (!event) return;
    if (event === "linkUp" || event === "linkDown") this.link = event === "linkUp";
    for (const l of [...this.listeners]) l(event);
  }

  get linked(): boolean {
    return this.link;
  }

  get address(): string | undefined {
    const ip = netGet("IP", this.iface);
    return isAddress(ip) ? ip : undefined;
  }

  get mac(): string {
    return String(netGet("MAC", this.iface) ?? "").toLowerCase();
  }

  get dns(): string[] {
    const servers = netGet("DNS", this.iface);
    return Array.isArray(servers) ? (servers as string[]) : [];
  }

  onEvent(listener: (event: LinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  configure(address?: StaticAddress): void {
    this.ipconfig.setAddress(address);
  }

  setDns(servers?: string[]): void {
    this.ipconfig.setDns(servers);
  }

  setHostname(name: string): void {
    this.ipconfig.setHostname(name);
  }

  get gateway(): string | undefined {
    return this.ipconfig.info?.gateway;
  }

  get netmask(): string | undefined {
    return this.ipconfig.info?.netmask;
  }

  get ip6(): Ip6Addresses {
    return this.ipconfig.ip6 ?? {};
  }
}
