// `xsock/wifi/softap-stations` (drivers/wifi/esp32/esp32/softap-stations.c on the board),
// on the simulator's SoftAP.
import { host } from "./bridge";

class SoftApStations {
  list(): string[] {
    return host<string[]>("wifi.ap.stations");
  }

  deauth(mac?: string): boolean {
    return host<boolean>("wifi.ap.deauth", mac ?? null);
  }
}

export default SoftApStations;
