// ESP-AT's Ethernet build on the board's wired interface: the link comes up at boot with no
// CWJAP, +ETH_CONNECTED, +ETH_GOT_IP:<ip> and +ETH_DISCONNECTED come unsolicited, and
// AT+CIPETH queries or sets (static) the address.
import { encodeLatin1, type AtConsole, type CommandTable } from "./console";
import type { Param } from "./parser";
import type { Settings } from "./settings";
import type { NetworkInterface, StaticAddress } from "xsock/net";

const DOTTED = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const isDotted = (p: Param | undefined): p is string => typeof p === "string" && DOTTED.test(p);

/** The /24 and its .1 router, for an address given without them (as CIPSTA? reports). */
export const subnetOf = (ip: string) => ({ gateway: ip.replace(/\.\d+$/, ".1"), netmask: "255.255.255.0" });

/** The static address saved by AT+CIPETH=, if any. */
function savedAddress(settings: Settings): StaticAddress | undefined {
  const [ip, gateway, netmask] = settings.get<string>("ethip", "").split(",");
  return ip ? { ip, gateway, netmask } : undefined;
}

/** Starts the wired link (with the saved static address) and announces its changes. */
export function startEthernet(at: AtConsole, netif: NetworkInterface, settings: Settings): void {
  const say = (line: string) => at.unsolicited(encodeLatin1(`${line}\r\n`));
  netif.onEvent((event) => {
    if (event === "linkUp") say("+ETH_CONNECTED");
    else if (event === "gotIP") say(`+ETH_GOT_IP:${netif.address ?? "0.0.0.0"}`);
    else if (event === "linkDown") say("+ETH_DISCONNECTED");
  });
  netif.configure(savedAddress(settings));
  netif.start();
}

export function ethernetCommands(netif: NetworkInterface, settings: Settings): CommandTable {
  return {
    "+CIPETH": {
      query: (at) => {
        const ip = netif.address ?? "0.0.0.0";
        const saved = savedAddress(settings);
        const { gateway, netmask } = ip === "0.0.0.0" ? { gateway: ip, netmask: ip } : saved?.ip === ip ? saved : subnetOf(ip);
        at.print(`+CIPETH:ip:${ip}`);
        at.print(`+CIPETH:gateway:${gateway}`);
        at.print(`+CIPETH:netmask:${netmask}`);
      },
      set: (_at, params) => {
        const [ip, gateway, netmask] = params;
        if (!isDotted(ip) || (params.length !== 1 && params.length !== 3)) return false;
        if (params.length === 3 && (!isDotted(gateway) || !isDotted(netmask))) return false;
        const address = { ip, ...(params.length === 3 ? { gateway: gateway as string, netmask: netmask as string } : subnetOf(ip)) };
        netif.configure(address);
        settings.keep("ethip", `${address.ip},${address.gateway},${address.netmask}`);
      },
    },
    "+CIPETHMAC": { query: (at) => at.print(`+CIPETHMAC:"${netif.mac}"`) },
  };
}
