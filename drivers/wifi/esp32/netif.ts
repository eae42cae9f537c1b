// The Wi-Fi driver: the NetworkInterface contract on Moddable's `wifi` and `net` modules.
// Joining an AP is the station's business (WiFi.connect); this reports what follows.
import WiFi from "wifi";
import InterfaceConfig from "xsock/ipconfig";
import { MonitoredInterface, type NetworkInterface, type StaticAddress } from "xsock/net";

export default class WifiInterface extends MonitoredInterface implements NetworkInterface {
  readonly kind: NetworkInterface["kind"] = "wifi";

  constructor() {
    super("station");
    new WiFi(undefined, (message) => this.notify(message));
  }

  /** The station starts with WiFi.mode; nothing more to do until it joins an AP. */
  start(): void {}

  /** The station's esp_netif (Moddable's wifi has no address, DNS or hostname API of its own). */
  private readonly ipconfig = new InterfaceConfig("WIFI_STA_DEF", this);

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
}
