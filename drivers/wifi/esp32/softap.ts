// The SoftAP on Moddable's `wifi` (WiFi.accessPoint) and `net` (its "ap" interface). Moddable's
// station_connect and station_disconnect messages name no station: the native station list
// does, so each message is followed by a look at the list, and while a station waits for its
// address from DHCP the list is read again every POLL_MS. Its address and DHCP server are
// esp_netif's (drivers/ipconfig), applied when it starts.
import Net from "net";
import Timer from "timer";
import WiFi from "wifi";
import InterfaceConfig from "xsock/ipconfig";
import SoftApStations from "xsock/wifi/softap-stations";
import type { DhcpServer, SoftApConfig, SoftApEvent, SoftApState, SoftApStation, StaticAddress } from "xsock/net";

const POLL_MS = 100;
/** A station that has no address after this long is left alone (a static address, or DHCP off). */
const ADDRESS_WAIT_MS = 30000;
const NO_ADDRESS = "0.0.0.0";
/** ESP-IDF's SoftAP netmask, for an interface whose settings cannot be read. */
const DEFAULT_NETMASK = "255.255.255.0";

const netGet = Net.get as (what: string, iface?: string) => unknown;

export class SoftAp {
  private config?: SoftApConfig;
  private readonly native = new SoftApStations();
  /** The SoftAP's esp_netif, which WiFi.accessPoint creates. */
  private readonly ipconfig = new InterfaceConfig("WIFI_AP_DEF");
  /** The stations seen, with the address each had at the last look. */
  private known = new Map<string, string | undefined>();
  private readonly listeners = new Set<(event: SoftApEvent) => void>();
  private poll?: Timer;
  private polledMs = 0;

  /** Starts the SoftAP with these settings; `withStation` keeps the station up beside it. */
  start(config: SoftApConfig, withStation: boolean): void {
    const options: Record<string, unknown> = { ssid: config.ssid, channel: config.channel, hidden: config.hidden, max: config.max, station: withStation };
    // Moddable reads any `password` it is given, undefined too: an open AP gets none.
    if (config.ecn) options.password = config.password;
    WiFi.accessPoint(options as unknown as Parameters<typeof WiFi.accessPoint>[0]);
    this.config = { ...config };
    try {
      this.ipconfig.apply();
    } catch (e) {
      // Settings kept from an earlier boot that the interface refuses: it keeps ESP-IDF's.
      trace(`softap: ${(e as Error).message}\n`);
    }
  }

  /** The SoftAP's address: applied now, or when it starts. */
  setAddress(address: StaticAddress): void {
    this.ipconfig.setAddress(address);
  }

  /** The SoftAP's MAC (esp_wifi_set_mac): false when ESP-IDF refuses it. */
  setMac(mac: string): boolean {
    return this.ipconfig.setMac(mac);
  }

  /** The SoftAP's DHCP server: applied now, or when it starts. */
  setDhcp(server: DhcpServer): void {
    this.ipconfig.setDhcpServer(server);
  }

  /** The radio left SoftAP mode: its stations are gone. */
  stop(): void {
    this.config = undefined;
    this.look();
  }

  get state(): SoftApState | undefined {
    if (!this.config) return undefined;
    const ip = String(netGet("IP", "ap") ?? NO_ADDRESS);
    const address = this.ipconfig.info ?? { ip, gateway: ip, netmask: DEFAULT_NETMASK };
    const ipconfig = this.ipconfig;
    return {
      config: { ...this.config },
      ...address,
      mac: String(netGet("MAC", "ap") ?? "").toLowerCase(),
      get dhcp() {
        return ipconfig.dhcpServer; // read when asked: only CWDHCPS? wants it
      },
    };
  }

  stations(): SoftApStation[] {
    if (!this.config) return [];
    const flat = this.native.list();
    const out: SoftApStation[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ mac: flat[i].toLowerCase(), ip: flat[i + 1] === NO_ADDRESS ? undefined : flat[i + 1] });
    return out;
  }

  deauth(mac?: string): boolean {
    if (!this.config) return false;
    return this.native.deauth(mac?.toLowerCase());
  }

  onEvent(listener: (event: SoftApEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** A message from Moddable's `wifi` monitor. */
  message(message: string): void {
    if (message === "station_connect" || message === "station_disconnect") this.look();
  }

  /** Compares the station list with the last one and tells what changed. */
  private look(): void {
    const now = this.stations();
    const seen = new Set<string>();
    for (const { mac, ip } of now) {
      seen.add(mac);
      const had = this.known.get(mac);
      if (!this.known.has(mac)) {
        this.polledMs = 0;
        this.tell({ kind: "joined", mac });
      }
      if (ip && ip !== had) this.tell({ kind: "address", mac, ip });
      this.known.set(mac, ip);
    }
    for (const mac of [...this.known.keys()]) {
      if (seen.has(mac)) continue;
      this.known.delete(mac);
      this.tell({ kind: "left", mac });
    }
    this.pollForAddresses();
  }

  /** Looks again soon while a station waits for its address. */
  private pollForAddresses(): void {
    const waiting = [...this.known.values()].some((ip) => !ip);
    if (!waiting || this.polledMs >= ADDRESS_WAIT_MS) {
      if (!waiting) this.polledMs = 0;
      return;
    }
    if (this.poll) return;
    this.poll = Timer.set(() => {
      this.poll = undefined;
      this.polledMs += POLL_MS;
      this.look();
    }, POLL_MS);
  }

  private tell(event: SoftApEvent): void {
    for (const l of [...this.listeners]) l(event);
  }
}
