// The Wi-Fi driver: the NetworkInterface contract on Moddable's `wifi` and `net` modules.
// Joining an AP is the station's business (WiFi.connect); this reports what follows.
import Net from "net";
import WiFi from "wifi";
import { isAddress, LinkEvents, type LinkEvent, type NetworkInterface, type StaticAddress } from "xsock/net";

const netGet = Net.get as (what: string, iface?: string) => unknown;

const EVENTS: Record<string, LinkEvent> = { connect: "linkUp", gotIP: "gotIP", lostIP: "lostIP", disconnect: "linkDown" };

export default class WifiInterface implements NetworkInterface {
  readonly kind = "wifi";
  private link = false;
  private readonly events = new LinkEvents();

  constructor() {
    new WiFi(undefined, (message) => {
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
    const ip = netGet("IP", "station");
    return isAddress(ip) ? ip : undefined;
  }

  get mac(): string {
    return String(netGet("MAC", "station") ?? "").toLowerCase();
  }

  get dns(): string[] {
    const servers = netGet("DNS", "station");
    return Array.isArray(servers) ? (servers as string[]) : [];
  }

  /** The station starts with WiFi.mode; nothing more to do until it joins an AP. */
  start(): void {}

  /** Moddable's `wifi` has no static address: the station always asks DHCP. */
  configure(address?: StaticAddress): void {
    if (address) throw new Error("Wi-Fi takes its address from DHCP");
  }

  onEvent(listener: (event: LinkEvent) => void): () => void {
    return this.events.add(listener);
  }
}
