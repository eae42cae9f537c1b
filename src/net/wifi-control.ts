// Types only (no module of its own at run time). The Wi-Fi driver's own facet of the network interface (`netif.wifi`): what a station and a
// SoftAP do beyond the link events every interface has. The console's Wi-Fi commands use it.

/** An IPv4 address with its gateway and netmask, dotted (every interface's, the SoftAP's too). */
export interface StaticAddress {
  ip: string;
  gateway: string;
  netmask: string;
}

/** An AP a scan found. */
export interface ScannedAp {
  /** ESP-AT's <ecn>: 0 open, 1 WEP, 2 WPA, 3 WPA2, 4 WPA/WPA2, ... */
  ecn: number;
  ssid: string;
  rssi: number;
  /** The BSSID, lower case. */
  mac: string;
  channel: number;
}

/** The AP the station is on, as the radio reports it. */
export interface JoinedAp {
  ssid: string;
  bssid: string;
  channel: number;
  rssi: number;
}

export interface JoinTarget {
  ssid: string;
  password: string;
  /** Only the AP with this BSSID (lower case), when given. */
  bssid?: string;
}

/** What a join came to, as ESP-AT's +CWJAP codes: 0 joined, 1 timeout, 2 wrong password, 3 no such AP, 4 failed. */
export type JoinOutcome = 0 | 1 | 2 | 3 | 4;

export interface SoftApConfig {
  ssid: string;
  /** Empty for an open AP. */
  password: string;
  channel: number;
  /** ESP-AT's <ecn>: 0 open, 2 WPA, 3 WPA2, 4 WPA/WPA2. */
  ecn: number;
  /** Most stations at once. */
  max: number;
  hidden: boolean;
}

/** A station on the SoftAP, and the address its DHCP server gave it (none yet: undefined). */
export interface SoftApStation {
  mac: string;
  ip: string | undefined;
}

/** A station joined the SoftAP, got an address from it, or left it. */
export type SoftApEvent = { kind: "joined"; mac: string } | { kind: "address"; mac: string; ip: string } | { kind: "left"; mac: string };

/** The addresses a SoftAP's DHCP server gives (both ends in), and for how long. */
export interface DhcpPool {
  start: string;
  end: string;
  leaseMinutes: number;
}

/** A SoftAP's DHCP server: on or off, and its pool (ESP-IDF's, after the SoftAP's address, when none). */
export interface DhcpServer {
  on: boolean;
  pool?: DhcpPool;
}

/** The running SoftAP: its settings, the address and MAC of its interface, and its DHCP server. */
export interface SoftApState {
  config: SoftApConfig;
  ip: string;
  gateway: string;
  netmask: string;
  mac: string;
  /** The server as it runs: the pool in force, ESP-IDF's included. */
  dhcp: { on: boolean; pool: DhcpPool } | undefined;
}

export interface WifiControl {
  /** The radio's mode: 0 off, 1 station, 2 SoftAP, 3 both. Leaving a mode stops its side. */
  mode: number;
  /** Seconds between tries to join again after the AP drops the station (0: never). */
  reconnectInterval: number;
  /** How many of those tries before giving up (0: no end). */
  reconnectCount: number;
  /** A join is under way (the first try, or a reconnection). */
  readonly joining: boolean;
  /** The AP the station is on, while it is on one. */
  readonly joined: JoinedAp | undefined;
  /** The APs in reach. */
  scan(): Promise<ScannedAp[]>;
  /** Joins an AP; a join under way gives way to it. Afterwards, a drop brings reconnections. */
  join(target: JoinTarget, timeoutMs: number): Promise<JoinOutcome>;
  /** Leaves the AP and stops reconnecting. */
  leave(): void;
  /** Starts (or restarts) the SoftAP; throws when the radio refuses the settings. */
  startSoftAp(config: SoftApConfig): void;
  /** The SoftAP while it runs. */
  readonly softAp: SoftApState | undefined;
  /** The SoftAP's address (ESP-IDF's 192.168.4.1/24 until set): applied now, or when it starts. Throws when its interface refuses it. */
  setSoftApAddress(address: StaticAddress): void;
  /** The SoftAP's DHCP server: applied now, or when it starts. Throws when its interface refuses the pool. */
  setSoftApDhcp(server: DhcpServer): void;
  /** The stations on the SoftAP now. */
  stations(): SoftApStation[];
  /** Sends a station (or, with no MAC, every station) off the SoftAP; false when none is on. */
  deauth(mac?: string): boolean;
  /** Calls `listener` as stations join, get an address and leave; returns what stops it. */
  onSoftAp(listener: (event: SoftApEvent) => void): () => void;
  /** A new MAC for the station's or the SoftAP's interface; false when the radio refuses it. */
  setMac(iface: "station" | "softAp", mac: string): boolean;
}
