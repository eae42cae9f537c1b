// The Wi-Fi driver: the NetworkInterface contract on Moddable's `wifi` and `net` modules, and
// its `wifi` facet: the station (joins, scans, reconnections) and the SoftAP.
import WiFi from "wifi";
import InterfaceConfig from "xsock/ipconfig";
import { MonitoredInterface, type NetworkInterface, type WifiControl } from "xsock/net";
import { scan, Station } from "xsock/wifi/station";
import { SoftAp } from "xsock/wifi/softap";

export default class WifiInterface extends MonitoredInterface implements NetworkInterface {
  readonly kind: NetworkInterface["kind"] = "wifi";
  readonly wifi: WifiControl;

  constructor() {
    super("station");
    const station = new Station();
    const softAp = new SoftAp();
    // One monitor for all of it; `disconnect` comes with a reason on the ESP32.
    new WiFi(undefined, ((message: string, reason?: number) => {
      station.message(message, reason);
      softAp.message(message);
      this.notify(message);
    }) as ConstructorParameters<typeof WiFi>[1]);
    this.wifi = {
      get mode() {
        return WiFi.mode;
      },
      set mode(mode: number) {
        if (!(mode & 1)) station.stop();
        WiFi.mode = mode as 0 | 1 | 2 | 3;
        if (!(mode & 2)) softAp.stop();
      },
      get reconnectInterval() {
        return station.reconnectInterval;
      },
      set reconnectInterval(seconds: number) {
        station.reconnectInterval = seconds;
      },
      get reconnectCount() {
        return station.reconnectCount;
      },
      set reconnectCount(count: number) {
        station.reconnectCount = count;
      },
      get joining() {
        return station.joining;
      },
      get joined() {
        return station.joined;
      },
      scan,
      join: (target, timeoutMs) => station.connect(target, timeoutMs),
      leave: () => station.leave(),
      startSoftAp: (config) => softAp.start(config, (WiFi.mode & 1) === 1),
      get softAp() {
        return softAp.state;
      },
      setSoftApAddress: (address) => softAp.setAddress(address),
      setSoftApDhcp: (server) => softAp.setDhcp(server),
      stations: () => softAp.stations(),
      deauth: (mac) => softAp.deauth(mac),
      onSoftAp: (listener) => softAp.onEvent(listener),
      setMac: (iface, mac) => (iface === "station" ? this.ipconfig.setMac(mac) : softAp.setMac(mac)),
    };
  }

  /** The station starts with WiFi.mode; nothing more to do until it joins an AP. */
  start(): void {}

  /** The station's esp_netif (Moddable's wifi has no address, DNS or hostname API of its own). */
  protected readonly ipconfig = new InterfaceConfig("WIFI_STA_DEF", this);
}
