// An Ethernet port with a cable in it, for boards whose network driver is ethernet/esp32:
// Moddable's `ethernet` module (start, the link and address events, static IP or DHCP) and
// the interface facts `net` reports. A link drop pulls the cable for the fault's length.
import type { NetworkFaults } from "../faults.ts";
import { PlatformError, type Host } from "../host.ts";
import { TRACK } from "../capture/trace.ts";
import { DHCP_DNS, leaseFor, type Addressing } from "./ipconfig.ts";
import type { WifiDevice } from "./wifi.ts";

/** The Ethernet MAC: the station's plus three, as ESP-IDF derives it. */
export const ETHERNET_MAC = "24:0a:c4:00:00:04";

/** How long the PHY takes to bring the link up, and DHCP to give an address, in ms. */
const LINK_MS = 30;

/** Its address while it has one; drop() pulls the cable (the link comes back once the fault is over). */
export type EthernetDevice = WifiDevice;

const IPV4 = /^(\d{1,3})(\.\d{1,3}){3}$/;

/** The trace's names for the link's states, as the Wi-Fi track has them. */
const ETHERNET_STATES = { connect: "connected", gotIP: "got ip", lostIP: "lost ip", disconnect: "disconnected" } as const;

/** `addressing` is the port's esp_netif (ETH_DEF), which start() creates; DHCP gives `boardIp`. */
export function ethernet(host: Host, boardIp: string, faults: NetworkFaults, addressing: Addressing, dns: () => string[]): EthernetDevice {
  const monitors = new Set<number>();
  let started = false;
  let link = false;
  let hasIp = false;
  let pending: NodeJS.Timeout | undefined;
  const tell = (message: "connect" | "gotIP" | "lostIP" | "disconnect") => {
    host.trace?.state(TRACK.ETHERNET, ETHERNET_STATES[message]);
    for (const id of monitors) host.post("ethernet", id, message);
  };
  const address = () => (hasIp ? addressing.addressFor(boardIp) : undefined);

  const later = (ms: number, fn: () => void) => {
    clearTimeout(pending);
    pending = setTimeout(fn, ms);
  };

  function linkUp(): void {
    if (faults.linkDownFor > 0) return later(faults.linkDownFor, linkUp);
    link = true;
    tell("connect");
    takeAddress();
  }

  /** The port takes its address: at once when static, from DHCP after a moment (unless it fails). */
  function takeAddress(): void {
    clearTimeout(pending);
    if (!addressing.addressFor(boardIp)) {
      if (hasIp) tell("lostIP");
      hasIp = false;
      return;
    }
    if (addressing.static) return gotIp();
    if (faults.dhcpDown) return host.debug("ethernet: DHCP gives no address");
    later(LINK_MS, gotIp);
  }

  function gotIp(): void {
    if (!addressing.static) {
      addressing.onLease();
      host.capture?.dhcp(leaseFor(boardIp), DHCP_DNS);
    }
    hasIp = true;
    tell("gotIP");
  }

  addressing.onChange = () => void (link && takeAddress());

  host.handle("ethernet.start", () => {
    if (started) return;
    started = true;
    later(LINK_MS, linkUp);
  });
  host.handle("ethernet.monitor", (id: number) => void monitors.add(id));
  host.handle("ethernet.unmonitor", (id: number) => void monitors.delete(id));
  // Moddable's own static-IP calls, on the same esp_netif as drivers/ipconfig's.
  host.handle("ethernet.useStaticIP", (ip: string, netmask: string, gateway: string) => {
    if (!started) throw new PlatformError("Ethernet not initialized");
    for (const a of [ip, netmask, gateway]) if (typeof a !== "string" || !IPV4.test(a)) throw new PlatformError(`Invalid IP address format: ${a}`);
    addressing.static = { ip, gateway, netmask };
    addressing.onChange();
  });
  host.handle("ethernet.useDHCP", () => {
    if (!started) throw new PlatformError("Ethernet not initialized");
    addressing.static = undefined;
    addressing.onChange();
  });
  // The facts `net` reports for the port: Net.get("IP" | "MAC" | "DNS").
  host.handle("net.get", (what: string) => ({ IP: address()?.ip, MAC: ETHERNET_MAC, DNS: dns() })[what as "IP"]);

  return {
    get ip() {
      return address()?.ip;
    },
    get address() {
      return address();
    },
    get exists() {
      return started;
    },
    addressing,
    mac: ETHERNET_MAC,
    drop() {
      if (!started) return;
      clearTimeout(pending);
      if (link) {
        if (hasIp) tell("lostIP");
        hasIp = link = false;
        tell("disconnect");
      }
      later(Math.max(faults.linkDownFor, LINK_MS), linkUp);
    },
    close() {
      clearTimeout(pending);
      monitors.clear();
    },
  };
}
