// Wi-Fi station on simulated access points (--ap SSID[:PASSWORD]), and the interface facts
// that Moddable's `net` module reports.
import type { NetworkFaults } from "../faults.ts";
import type { Host } from "../host.ts";
import { PlatformError } from "../host.ts";
import type { Address, Addressing, Interface } from "./ipconfig.ts";

export interface AccessPoint {
  ssid: string;
  password?: string;
  rssi: number;
  channel: number;
  bssid: string;
}

/** Parses `SSID[:PASSWORD]`; the n-th AP gets a stable BSSID, RSSI and channel. */
export function parseAccessPoint(spec: string, index: number): AccessPoint {
  const colon = spec.indexOf(":");
  const ssid = colon < 0 ? spec : spec.slice(0, colon);
  const password = colon < 0 ? undefined : spec.slice(colon + 1);
  if (!ssid || ssid.length > 32) throw new Error(`bad --ap "${spec}": the SSID must have 1 to 32 characters`);
  if (password !== undefined && (password.length < 8 || password.length > 64))
    throw new Error(`bad --ap "${spec}": a WPA2 password has 8 to 64 characters`);
  const n = index + 1;
  return { ssid, password, rssi: -40 - 7 * index, channel: 1 + ((5 * index) % 13), bssid: `02:00:00:00:00:${n.toString(16).padStart(2, "0")}` };
}

export const DEFAULT_APS = [parseAccessPoint("xsock-sim", 0)];

/** The board's station MAC: Espressif's OUI. */
export const STATION_MAC = "24:0a:c4:00:00:01";

/** How long joining an AP takes, in ms. */
const JOIN_MS = 30;

export interface WifiDevice extends Interface {
  /** The station's IP address while it has one. */
  readonly ip: string | undefined;
  /** The link goes down, as when the AP vanishes: the station loses its address and its AP. */
  drop(): void;
  close(): void;
}

/**
 * `addressing` is the station's esp_netif (static or DHCP); `dns` the DNS servers in use.
 * DHCP gives `boardIp`.
 */
export function wifi(host: Host, aps: AccessPoint[], boardIp: string, faults: NetworkFaults, addressing: Addressing, dns: () => string[]): WifiDevice {
  const monitors = new Set<number>();
  let mode = 1;
  let joined: AccessPoint | undefined;
  let hasIp = false;
  let pending: NodeJS.Timeout | undefined;
  const tell = (message: string) => {
    for (const id of monitors) host.post("wifi", id, message);
  };
  const wired = host.board.network.driver !== "wifi/esp32";
  const address = (): Address | undefined => (hasIp ? addressing.addressFor(boardIp) : undefined);

  /** The station takes its address: at once when static, from DHCP after a moment (unless it fails). */
  function takeAddress(): void {
    clearTimeout(pending);
    const target = addressing.addressFor(boardIp);
    if (!target || (!addressing.static && faults.dhcpDown)) {
      if (!target) {
        if (hasIp) tell("lostIP");
        hasIp = false;
      } else host.debug("wifi: DHCP gives no address");
      return;
    }
    const got = () => {
      if (!addressing.static) addressing.onLease();
      hasIp = true;
      tell("gotIP");
      host.event({ event: "wifi", state: "got ip", ip: target.ip });
    };
    if (addressing.static) got();
    else pending = setTimeout(got, JOIN_MS);
  }
  addressing.onChange = () => void (joined && takeAddress());

  function leave(): void {
    clearTimeout(pending);
    if (!joined) return;
    joined = undefined;
    if (hasIp) tell("lostIP");
    hasIp = false;
    tell("disconnect");
    host.event({ event: "wifi", state: "disconnected" });
  }

  host.handle("wifi.monitor", (id: number) => void monitors.add(id));
  host.handle("wifi.unmonitor", (id: number) => void monitors.delete(id));
  host.handle("wifi.mode", (value?: number) => {
    if (value === undefined) return mode;
    if (![-5, 0, 1, 2, 3].includes(value)) throw new PlatformError(`bad Wi-Fi mode ${value}`);
    if (!(value & 1)) leave();
    mode = value;
    return mode;
  });
  host.handle("wifi.connect", (target: { ssid: string; password?: string }) => {
    if (wired) throw new PlatformError(`${host.board.id} has no Wi-Fi`);
    if (!(mode & 1)) throw new PlatformError("Wi-Fi is not in station mode");
    leave();
    pending = setTimeout(() => {
      const ap = faults.apDown ? undefined : aps.find((a) => a.ssid === target.ssid);
      if (!ap || (ap.password ?? "") !== (target.password ?? "")) {
        host.debug(`wifi: ${ap ? "wrong password for" : "no AP named"} "${target.ssid}"`);
        tell("disconnect");
        host.event({ event: "wifi", state: "join failed", ssid: target.ssid, reason: ap ? "wrong password" : "no such AP" });
        return;
      }
      joined = ap;
      tell("connect");
      host.event({ event: "wifi", state: "connected", ssid: ap.ssid });
      takeAddress();
    }, JOIN_MS);
  });
  host.handle("wifi.disconnect", () => leave());
  host.handle("wifi.scan", (id: number) => {
    setTimeout(() => {
      for (const ap of faults.apDown ? [] : aps) {
        const bssid = Uint8Array.from(ap.bssid.split(":").map((h) => Number.parseInt(h, 16)));
        host.post("scan", id, { ssid: ap.ssid, authentication: ap.password ? "wpa2_psk" : "none", rssi: ap.rssi, channel: ap.channel, bssid });
      }
      host.post("scan", id, null);
    }, JOIN_MS);
  });
  host.handle("wifi.accessPoint", () => {
    mode |= 2;
  });
  host.handle("net.get", (what: string) => {
    switch (what) {
      case "IP":
        return address()?.ip;
      case "MAC":
        return STATION_MAC;
      case "SSID":
        return joined?.ssid;
      case "BSSID":
        return joined?.bssid;
      case "RSSI":
        return joined?.rssi;
      case "CHANNEL":
        return joined?.channel;
      case "DNS":
        return dns();
      default:
        return undefined;
    }
  });

  return {
    get ip() {
      return address()?.ip;
    },
    get address() {
      return address();
    },
    exists: true,
    addressing,
    drop: leave,
    close() {
      // The board restarts or stops: its station is gone.
      if (joined) host.event({ event: "wifi", state: "disconnected" });
      clearTimeout(pending);
      monitors.clear();
    },
  };
}
