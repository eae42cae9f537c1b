// Wi-Fi station on simulated access points (--ap SSID[:PASSWORD]), the board's SoftAP with the
// phones a test makes join it, and the interface facts that Moddable's `net` module reports.
import type { NetworkFaults } from "../faults.ts";
import type { Host } from "../host.ts";
import { PlatformError } from "../host.ts";
import { Addressing, DHCP_DNS, DhcpServer, NO_ADDRESS, type Address, type Interface } from "./ipconfig.ts";

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
/** The SoftAP's MAC: the station's plus one, as the ESP32 derives it. */
export const SOFTAP_MAC = "24:0a:c4:00:00:02";
/** The SoftAP's address until AT+CIPAP= moves it: ESP-IDF's default. */
export const SOFTAP_IP = "192.168.4.1";

/** A MAC address, aa:bb:cc:dd:ee:ff (either case). */
export const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

/** A phone's MAC as the SoftAP keeps it, lower case; throws when `spec` is not one. */
function macOf(spec: string): string {
  if (!MAC.test(spec)) throw new Error(`bad MAC "${spec}": use six hex pairs, aa:bb:cc:dd:ee:ff`);
  return spec.toLowerCase();
}

/** The SoftAP's settings, as WiFi.accessPoint takes them. */
export interface SoftApSettings {
  ssid: string;
  password?: string;
  channel: number;
  hidden: boolean;
  max: number;
}

/** How long joining an AP takes, in ms. */
const JOIN_MS = 30;

export interface WifiDevice extends Interface {
  /** The station's IP address while it has one. */
  readonly ip: string | undefined;
  /** The link goes down, as when the AP vanishes: the station loses its address and its AP. */
  drop(): void;
  close(): void;
}

/** The Wi-Fi radio: the station's link, and the SoftAP. */
export interface WifiRadio extends WifiDevice {
  /** The SoftAP while it runs. */
  readonly softAp: SoftApSettings | undefined;
  /** The SoftAP's esp_netif (WIFI_AP_DEF): it exists once the SoftAP first started. */
  readonly softApInterface: Interface;
  /** A phone with this MAC joins the SoftAP; returns the address its DHCP server will give (0.0.0.0: none). Throws when the SoftAP refuses it. */
  stationJoin(mac: string): string;
  /** The phone with this MAC leaves the SoftAP; throws when it is not on it. */
  stationLeave(mac: string): void;
}

/**
 * `addressing` is the station's esp_netif (static or DHCP); `dns` the DNS servers in use.
 * DHCP gives `boardIp`.
 */
export function wifi(host: Host, aps: AccessPoint[], boardIp: string, faults: NetworkFaults, addressing: Addressing, dns: () => string[]): WifiRadio {
  const monitors = new Set<number>();
  let mode = 1;
  /** The MACs esp_wifi_set_mac set (AT+CIPSTAMAC=, AT+CIPAPMAC=): the DHCP leases go to them. */
  let stationMac = STATION_MAC;
  let softApMac = SOFTAP_MAC;
  /** esp_wifi_set_mac: the mode must have the interface, and a MAC's bit 0 (multicast) be clear. */
  const setMac = (bit: number, mac: string, set: (mac: string) => void) => {
    if (!(mode & bit) || parseInt(mac.slice(0, 2), 16) & 1) return false;
    set(mac);
    host.debug(`wifi: the ${bit === 1 ? "station" : "SoftAP"}'s MAC is ${mac}`);
    return true;
  };
  let joined: AccessPoint | undefined;
  let hasIp = false;
  let pending: NodeJS.Timeout | undefined;
  let softAp: SoftApSettings | undefined;
  /** The phones on the SoftAP, each with its address once DHCP gave it. */
  const stations = new Map<string, { ip: string; assigned: boolean; timer?: NodeJS.Timeout }>();
  /** The SoftAP's interface: ESP-IDF's address until set, and its DHCP server. */
  let apCreated = false;
  const apAddressing = new Addressing();
  const apAddress = () => apAddressing.addressFor(SOFTAP_IP)!;
  const dhcpServer = new DhcpServer(apAddress);
  apAddressing.onChange = () => dhcpServer.moved();
  const tell = (message: string, ...args: unknown[]) => {
    for (const id of monitors) host.post("wifi", id, message, ...args);
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
      if (!addressing.static) {
        addressing.onLease();
        host.debug(`wifi: DHCP leases ${target.ip} to ${stationMac}`);
        host.capture?.dhcp(target, DHCP_DNS);
      }
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

  function dropStation(mac: string): void {
    const station = stations.get(mac);
    if (!station) return;
    clearTimeout(station.timer);
    stations.delete(mac);
    tell("station_disconnect");
    host.debug(`wifi: ${mac} left the SoftAP`);
  }

  function stopSoftAp(): void {
    for (const mac of [...stations.keys()]) dropStation(mac);
    softAp = undefined;
  }

  host.handle("wifi.monitor", (id: number) => void monitors.add(id));
  host.handle("wifi.unmonitor", (id: number) => void monitors.delete(id));
  host.handle("wifi.mode", (value?: number) => {
    if (value === undefined) return mode;
    if (![-5, 0, 1, 2, 3].includes(value)) throw new PlatformError(`bad Wi-Fi mode ${value}`);
    // Off (-5) leaves the AP and stops the SoftAP, though its bits are set.
    if (value < 0 || !(value & 1)) leave();
    if (value < 0 || !(value & 2)) stopSoftAp();
    mode = value;
    return mode;
  });
  host.handle("wifi.connect", (target: { ssid: string; password?: string; bssid?: Uint8Array }) => {
    const bssid = target.bssid && Array.from(target.bssid, (b) => b.toString(16).padStart(2, "0")).join(":");
    if (wired) throw new PlatformError(`${host.board.id} has no Wi-Fi`);
    if (!(mode & 1)) throw new PlatformError("Wi-Fi is not in station mode");
    leave();
    pending = setTimeout(() => {
      const ap = faults.apDown ? undefined : aps.find((a) => a.ssid === target.ssid && (!bssid || a.bssid === bssid));
      if (!ap || (ap.password ?? "") !== (target.password ?? "")) {
        host.debug(`wifi: ${ap ? "wrong password for" : "no AP named"} "${target.ssid}"`);
        // Moddable's ESP32 reason: -1 when the 4-way handshake failed, else 0.
        tell("disconnect", ap ? -1 : 0);
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
  // WiFi.accessPoint, with the ESP32's checks (modules/network/wifi/esp32/xs6wifi.c).
  host.handle("wifi.accessPoint", (options: { ssid: string; password?: string; channel?: number; hidden?: boolean; max?: number; station?: boolean }) => {
    if (wired) throw new PlatformError(`${host.board.id} has no Wi-Fi`);
    const { ssid, password, channel = 1, hidden = false, max = 4, station = false } = options;
    if (typeof ssid !== "string" || Buffer.byteLength(ssid) > 32) throw new PlatformError("ssid too long - 32 bytes max");
    if (password !== undefined && typeof password !== "string") throw new PlatformError("password must be a string");
    if (password !== undefined && password.length > 64) throw new PlatformError("password too long - 64 bytes max");
    if (password !== undefined && password.length < 8) throw new PlatformError("password too short - 8 bytes min");
    if (!Number.isInteger(channel) || channel < 1 || channel > 13) throw new PlatformError("invalid channel");
    if (!(mode & 2)) mode = station ? 3 : 2;
    // New settings restart the AP: its stations are sent off.
    for (const mac of [...stations.keys()]) dropStation(mac);
    softAp = { ssid, password: password || undefined, channel, hidden, max };
    apCreated = true;
    host.debug(`wifi: SoftAP "${ssid}" on channel ${channel}, ${max} stations at most`);
  });
  host.handle("wifi.ap.stations", () => [...stations].flatMap(([mac, s]) => [mac, s.assigned ? s.ip : "0.0.0.0"]));
  host.handle("wifi.ap.deauth", (mac: string | null) => {
    if (mac === null) {
      const any = stations.size > 0;
      for (const m of [...stations.keys()]) dropStation(m);
      return any;
    }
    if (!stations.has(mac)) return false;
    dropStation(mac);
    return true;
  });
  host.handle("net.get", (what: string, iface: string | null) => {
    if (iface === "ap") {
      if (!softAp) return undefined;
      if (what === "IP") return apAddress().ip;
      if (what === "MAC") return softApMac;
      return undefined;
    }
    switch (what) {
      case "IP":
        return address()?.ip;
      case "MAC":
        return stationMac;
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
    get mac() {
      return stationMac;
    },
    setMac: (mac: string) => setMac(1, mac, (m) => (stationMac = m)),
    drop: leave,
    get softAp() {
      return softAp && { ...softAp };
    },
    softApInterface: {
      get exists() {
        return apCreated;
      },
      get address() {
        return apAddress();
      },
      addressing: apAddressing,
      dhcpServer,
      setMac: (mac: string) => setMac(2, mac, (m) => (softApMac = m)),
    },
    stationJoin(spec: string) {
      const mac = macOf(spec);
      if (!softAp) throw new Error(`the board's SoftAP is off (Wi-Fi mode ${mode}): it needs AT+CWMODE=2 or 3`);
      if (stations.has(mac)) throw new Error(`${mac} is on the SoftAP already`);
      if (stations.size >= softAp.max) throw new Error(`the SoftAP is full: ${softAp.max} station${softAp.max === 1 ? "" : "s"} at most`);
      const ip = dhcpServer.lease(mac);
      const station: { ip: string; assigned: boolean; timer?: NodeJS.Timeout } = { ip: ip ?? NO_ADDRESS, assigned: false };
      stations.set(mac, station);
      tell("station_connect");
      host.debug(`wifi: ${mac} joined the SoftAP`);
      if (!ip) {
        host.debug(`wifi: the SoftAP's DHCP server gives ${mac} no address (${dhcpServer.on ? "its pool is used up" : "it is off"})`);
        return NO_ADDRESS;
      }
      station.timer = setTimeout(() => {
        station.assigned = true;
        const server = apAddress();
        host.capture?.dhcp({ ip, gateway: server.ip, netmask: server.netmask }, [server.ip], { mac, softApMac: SOFTAP_MAC });
        host.debug(`wifi: the SoftAP's DHCP gave ${mac} ${ip}`);
      }, JOIN_MS);
      return ip;
    },
    stationLeave(spec: string) {
      const mac = macOf(spec);
      if (!stations.has(mac)) throw new Error(`${mac} is not on the SoftAP`);
      dropStation(mac);
    },
    close() {
      // The board restarts or stops: its station is gone, and so is its SoftAP.
      if (joined) host.event({ event: "wifi", state: "disconnected" });
      clearTimeout(pending);
      for (const s of stations.values()) clearTimeout(s.timer);
      monitors.clear();
    },
  };
}
