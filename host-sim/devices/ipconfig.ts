// The board's ESP-IDF network interfaces as drivers/ipconfig sees them (esp_netif by key):
// a static address or DHCP, DNS servers, and a hostname. A static address is what `net`
// reports (sockets still bind to host addresses, see simulator.ts), and DHCP gives the
// simulator's own. DNS servers are global, as in lwIP: those set by hand are the ones the
// simulator's resolver asks (network.ts), DHCP's stand for the host's resolver.
import type { Host } from "../host.ts";

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

/** One interface's device, as ipconfig sees it. */
export interface Interface {
  /** Its driver has created it: Wi-Fi's at once, Ethernet's when started. */
  readonly exists: boolean;
  /** The address with gateway and netmask while it has one. */
  readonly address: Address | undefined;
  readonly addressing: Addressing;
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
  host.handle("ipconfig.dns", (key: string) => (find(key) ? (dns ?? DHCP_DNS) : null));
  host.handle("ipconfig.setDNS", (key: string, servers: string[]) => {
    if (!find(key)) return false;
    dns = servers.join() === DHCP_DNS.join() ? undefined : servers;
    host.debug(`ipconfig: DNS ${dns ? dns.join(", ") || "none" : "from DHCP"}`);
    return true;
  });
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
