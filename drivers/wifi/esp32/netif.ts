// The Wi-Fi driver: the NetworkInterface contract on Moddable's `wifi` and `net` modules.
// Joining an AP is the station's business (WiFi.connect); this reports what follows.
import WiFi from "wifi";
import { MonitoredInterface, type NetworkInterface, type StaticAddress } from "xsock/net";

export default class WifiInterface extends MonitoredInterface implements NetworkInterface {
  readonly kind: NetworkInterface["kind"] = "wifi";

  constructor() {
    super("station");
    new WiFi(undefined, (message) => this.notify(message));
  }

  /** The station starts with WiFi.mode; nothing more to do until it joins an AP. */
  start(): void {}

  /** Moddable's `wifi` has no static address: the station always asks DHCP. */
  configure(address?: StaticAddress): void {
    if (address) throw new Error("Wi-Fi takes its address from DHCP");
  }
}
