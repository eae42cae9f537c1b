// ESP-AT's AT+CIPCONNPERSIST: whether a link id's TCP/SSL link outlives its interface. Off (the
// default), the console closes the link as soon as the interface loses its address or its link;
// on, it leaves the link to the stack. Not saved, as ESP-AT lists it under no AT+SYSSTORE.
import type { Clock, CommandTable } from "./console";
import { isInt } from "./parser";
import type { Links } from "./links";
import type { LinkEvent } from "xsock/net";

export function connPersistCommands(links: Links, netif: { onEvent(listener: (event: LinkEvent) => void): () => void }, clock: Clock): CommandTable {
  /** Bit n: link id n persists. */
  let persist = 0;
  const closeLinks = () => {
    for (const link of links.links) {
      // A passthrough link is the passthrough's: it opens again by itself (AT+CIPRECONNINTV).
      if (link && link.type !== "UDP" && !(persist & (1 << link.id)) && links.transparent !== link) links.close(link.id);
    }
  };
  // After the interface's own message (WIFI DISCONNECT, +ETH_DISCONNECTED): a turn later for
  // the link going down, and after the events already queued for an address lost (a link
  // that goes down with it is announced first).
  netif.onEvent((event) => {
    if (event === "linkDown") void Promise.resolve().then(closeLinks);
    else if (event === "lostIP") clock.after(0, closeLinks);
  });
  return {
    // `+CIPCONNPERSIST:<persist_link>` for link 0, or one field per link id with CIPMUX=1.
    "+CIPCONNPERSIST": {
      query: (at) => {
        let fields = "";
        for (let id = 0; id < (links.mux ? links.max : 1); id++) fields += `${id ? "," : ""}${(persist >> id) & 1}`;
        at.print(`+CIPCONNPERSIST:${fields}`);
      },
      set: (_at, params) => {
        const [id, on, ...rest] = links.mux ? params : [0, ...params];
        if (rest.length || !isInt(id, 0, links.max - 1) || !isInt(on, 0, 1)) return false;
        persist = on ? persist | (1 << id) : persist & ~(1 << id);
      },
    },
  };
}
