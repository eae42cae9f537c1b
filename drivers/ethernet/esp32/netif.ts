// The Ethernet driver: the NetworkInterface contract on Moddable's `ethernet` module, which
// drives the ESP32's internal EMAC (LAN87xx, IP101 PHYs) or an SPI chip (W5500, ENC28J60).
import Ethernet from "ethernet";
import InterfaceConfig from "xsock/ipconfig";
import { MonitoredInterface, type NetworkInterface } from "xsock/net";

export default class EthernetInterface extends MonitoredInterface implements NetworkInterface {
  readonly kind: NetworkInterface["kind"] = "ethernet";
  private started = false;
  /** The esp_netif Moddable's Ethernet.start() creates: what is set before waits for it. */
  protected readonly ipconfig = new InterfaceConfig("ETH_DEF", this);

  constructor() {
    super("ethernet");
    new Ethernet((message) => this.notify(message));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    Ethernet.start();
    this.ipconfig.apply();
  }
}
