// The Ethernet driver: the NetworkInterface contract on Moddable's `ethernet` module, which
// drives the ESP32's internal EMAC (LAN87xx, IP101 PHYs) or an SPI chip (W5500, ENC28J60).
import Ethernet from "ethernet";
import { MonitoredInterface, type NetworkInterface, type StaticAddress } from "xsock/net";

export default class EthernetInterface extends MonitoredInterface implements NetworkInterface {
  readonly kind: NetworkInterface["kind"] = "ethernet";
  private started = false;
  private wanted?: StaticAddress;

  constructor() {
    super("ethernet");
    new Ethernet((message) => this.notify(message));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    Ethernet.start();
    if (this.wanted) this.configure(this.wanted);
  }

  configure(address?: StaticAddress): void {
    this.wanted = address;
    if (!this.started) return; // start() applies it
    if (address) Ethernet.useStaticIP(address.ip, address.netmask, address.gateway);
    else Ethernet.useDHCP();
  }
}
