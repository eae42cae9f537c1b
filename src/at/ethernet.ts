// ESP-AT's Ethernet build on the board's wired interface: the link comes up at boot with no
// CWJAP, +ETH_CONNECTED, +ETH_GOT_IP:<ip> and +ETH_DISCONNECTED come unsolicited, and
// AT+CIPETH queries or sets (static) the address, with the rules of AT+CIPSTA (ipconfig.ts).
import { encodeLatin1, type AtConsole, type CommandTable } from "./console";
import { parseAddress, setStaticAddress } from "./ipconfig";
import type { Settings } from "./settings";
import type { NetworkInterface } from "xsock/net";

/** Starts the wired link (applySavedIpConfig has given it its address) and announces its changes. */
export function startEthernet(at: AtConsole, netif: NetworkInterface): void {
  const say = (line: string) => at.unsolicited(encodeLatin1(`${line}\r\n`));
  netif.onEvent((event) => {
    if (event === "linkUp") say("+ETH_CONNECTED");
    else if (event === "gotIP") say(`+ETH_GOT_IP:${netif.address ?? "0.0.0.0"}`);
    else if (event === "linkDown") say("+ETH_DISCONNECTED");
  });
  netif.start();
}

export function ethernetCommands(netif: NetworkInterface, settings: Settings): CommandTable {
  return {
    "+CIPETH": {
      query: (at) => {
        const ip = netif.address;
        // The driver's own gateway and netmask (esp_netif_get_ip_info).
        at.print(`+CIPETH:ip:${ip ?? "0.0.0.0"}`);
        at.print(`+CIPETH:gateway:${(ip && netif.gateway) || "0.0.0.0"}`);
        at.print(`+CIPETH:netmask:${(ip && netif.netmask) || "0.0.0.0"}`);
      },
      set: (_at, params) => {
        const address = parseAddress(params);
        if (!address) return false;
        setStaticAddress(netif, settings, address);
      },
    },
    "+CIPETHMAC": { query: (at) => at.print(`+CIPETHMAC:"${netif.mac}"`) },
  };
}
