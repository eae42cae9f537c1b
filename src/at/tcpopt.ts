// ESP-AT's AT+CIPTCPOPT: each link id's socket options, SO_LINGER, TCP_NODELAY, SO_SNDTIMEO and
// keep-alive, saved to flash when AT+SYSSTORE=1. Moddable's TCP socket takes `nodelay` when it
// opens: it applies to the next TCP link on the id. SO_SNDTIMEO bounds every send (Links.queueSend);
// linger and keep-alive, which Moddable's socket lacks, are checked, kept and reported.
import type { CommandTable } from "./console";
import { isInt } from "./parser";
import type { Links } from "./links";
import type { Settings } from "./settings";

/** Every link id's options, `<linger>,<nodelay>,<sndtimeo>,<keep alive>` each, `;` between. */
function encode(links: Links): string {
  const all: string[] = [];
  for (let id = 0; id < links.max; id++) {
    const o = links.tcpOptions(id);
    all.push(`${o.linger},${o.nodelay},${o.sndtimeo},${o.keepAlive}`);
  }
  return all.join(";");
}

/** At boot: the options flash holds, for each link id. */
export function applySavedTcpOptions(links: Links, settings: Settings): void {
  const saved = settings.get("tcpopt", "");
  saved.split(";").forEach((entry, id) => {
    const [linger, nodelay, sndtimeo, keepAlive] = entry.split(",").map(Number);
    if (id < links.max && Number.isInteger(keepAlive)) links.setTcpOptions(id, { linger, nodelay: nodelay ? 1 : 0, sndtimeo, keepAlive });
  });
}

export function tcpoptCommands(links: Links, settings: Settings): CommandTable {
  return {
    // `+CIPTCPOPT:<link_id>,<so_linger>,<tcp_nodelay>,<so_sndtimeo>,<keep_alive>` for link 0, or every link id with CIPMUX=1.
    "+CIPTCPOPT": {
      query: (at) => {
        for (let id = 0; id < (links.mux ? links.max : 1); id++) {
          const o = links.tcpOptions(id);
          at.print(`+CIPTCPOPT:${id},${o.linger},${o.nodelay},${o.sndtimeo},${o.keepAlive}`);
        }
      },
      // `[<link ID>,][<so_linger>],[<tcp_nodelay>],[<so_sndtimeo>][,<keep_alive>]`: a left-out one keeps its value; link id max is every one.
      set: (_at, params) => {
        const [id, rest] = links.mux ? [params[0], params.slice(1)] : [0, params];
        const [linger, nodelay, sndtimeo, keepAlive, ...more] = rest;
        if (more.length || rest.length < 3 || !isInt(id, 0, links.max)) return false;
        if (linger !== undefined && !isInt(linger, -1, 2 ** 31 - 1)) return false;
        if ((nodelay !== undefined && !isInt(nodelay, 0, 1)) || (sndtimeo !== undefined && !isInt(sndtimeo, 0, 2 ** 31 - 1))) return false;
        if (keepAlive !== undefined && !isInt(keepAlive, 0, 7200)) return false;
        for (let which = 0; which < links.max; which++) {
          if (id !== links.max && which !== id) continue;
          const o = links.tcpOptions(which);
          links.setTcpOptions(which, {
            linger: linger ?? o.linger,
            nodelay: nodelay === undefined ? o.nodelay : nodelay ? 1 : 0,
            sndtimeo: sndtimeo ?? o.sndtimeo,
            keepAlive: keepAlive ?? o.keepAlive,
          });
        }
        settings.keep("tcpopt", encode(links));
      },
    },
  };
}
