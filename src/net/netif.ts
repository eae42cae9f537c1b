// The one network-interface contract the console and the app see, whatever the driver:
// link state, address, DNS, and the events link up, got IP, lost IP and link down.

export type LinkEvent = "linkUp" | "gotIP" | "lostIP" | "linkDown";

/** An IPv4 address with its gateway and netmask, dotted. */
export interface StaticAddress {
  ip: string;
  gateway: string;
  netmask: string;
}

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
  /** Brings the interface up: an Ethernet PHY starts; Wi-Fi waits for a join. */
  start(): void;
  /** A static address, or DHCP when none is given. */
  configure(address?: StaticAddress): void;
  /** Calls `listener` with every event; returns what stops it. */
  onEvent(listener: (event: LinkEvent) => void): () => void;
}

/** A usable IPv4 address: not empty and not 0.0.0.0. */
export const isAddress = (ip: unknown): ip is string => typeof ip === "string" && ip !== "" && ip !== "0.0.0.0";

/** Fans a driver's events out to its listeners. */
export class LinkEvents {
  private readonly listeners = new Set<(event: LinkEvent) => void>();

  add(listener: (event: LinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(event: LinkEvent): void {
    for (const l of [...this.listeners]) l(event);
  }
}
