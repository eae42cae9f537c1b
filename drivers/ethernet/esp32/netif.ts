// The Ethernet driver: the NetworkInterface contract on Moddable's `ethernet` module, which
// drives the ESP32's internal EMAC (LAN87xx, IP101 PHYs) or an SPI chip (W5500, ENC28J60).
import Ethernet from "ethernet";
import Net from "net";
import { isAddress, LinkEvents, type LinkEvent, type NetworkInterface, type StaticAddress } from "xsock/net";

const netGet = Net.get as (what: string, iface?: string) => unknown;

const EVENTS: Record<string, LinkEvent> = { connect: "linkUp", gotIP: "gotIP", lostIP: "lostIP", disconnect: "linkDown" };

export default class EthernetInterface implements NetworkInterface {
  readonly kind = "ethernet";
  private link = false;
  private started = false;
  private wanted?: StaticAddress;
  private readonly events = new LinkEvents();

  constructor() {
    new Ethernet((message) => {
      const event = EVENTS[message];
      if (event === "linkUp") this.link = true;
      if (event === "linkDown") this.link = false;
      if (event) this.events.emit(event);
    });
  }

  get linked(): boolean {
    return this.link;
  }

  get address(): string | undefined {
    const ip = netGet("IP", "ethernet");
    return isAddress(ip) ? ip : undefined;
  }

  get mac(): string {
    return String(netGet("MAC", "ethernet") ?? "").toLowerCase();
  }

  get dns(): string[] {
    const servers = netGet("DNS", "ethernet");
    return Array.isArray(servers) ? (servers as string[]) : [];
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    Ethernet.start();
    if (this.wanted) this.configure(this.wanted);
  }

  configure(address?: StaticAddress): void {
    this.wanted = address;
    if (!this.started) return; // applied by start()
    if (address) Ethernet.useStaticIP(address.ip, address.netmask, address.gateway);
    else Ethernet.useDHCP();
  }

  onEvent(listener: (event: LinkEvent) => void): () => void {
    return this.events.add(listener);
  }
}
