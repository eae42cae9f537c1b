// `xsock/netif`: the board's network driver, picked by the manifest's platform section
// (drivers/wifi/esp32 or drivers/ethernet/esp32). Each exports the same contract.
declare module "xsock/netif" {
  import type { NetworkInterface } from "xsock/net";
  const Interface: new () => NetworkInterface;
  export default Interface;
}
