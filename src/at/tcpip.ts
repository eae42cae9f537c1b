// ESP-AT's TCP/IP commands over the link table: CIPMUX, CIPSTART, CIPSTARTEX, CIPSEND,
// CIPSENDEX, CIPCLOSE, CIPSTATUS, CIPSTATE?, CIPSERVER, CIPSERVERMAXCONN, CIPSTO, CIPDINFO,
// CIPRECVMODE, CIPRECVTYPE, CIPRECVLEN?, CIPRECVDATA, CIPMODE, CIPDOMAIN and PING (SSL settings: ssl.ts).
import { AF_INET, AF_INET6, AF_UNSPEC, getaddrinfo, ping } from "xsock/socket";
import { encodeLatin1, REPLIED, type AtConsole, type CommandTable } from "./console";
import { isInt, type Param } from "./parser";
import { typeName, type Links } from "./links";
import { parseLinkType } from "./ipv6";
import type { Settings } from "./settings";
import { joinBytes } from "./bytes";

/** How long AT+PING waits for its echo reply. */
export const PING_TIMEOUT = 2000;

/** ESP-AT's largest CIPSEND. */
export const MAX_SEND = 8192;

/**
 * `online` says whether the board has an IP address (the station's or the SoftAP's): links, DNS
 * and ping need one. `stationOnline`, whether the station has one: CIPSTATUS's <stat> tells it.
 */
export function tcpipCommands(links: Links, online: () => boolean, settings: Settings, stationOnline = online): CommandTable {
  links.sysmsg = settings.get("sysmsg", 0);
  // AT 2.x's CIPRECVMODE: one mode for every link.
  const recvMode = {
    query: (at: AtConsole) => at.print(`+CIPRECVMODE:${links.passive ? 1 : 0}`),
    set: (_at: AtConsole, [mode, ...rest]: Param[]) => {
      if (rest.length || !isInt(mode, 0, 1)) return false;
      links.passive = mode === 1;
    },
  };
  // AT 3.x's CIPRECVTYPE: `[<link ID>,]<mode>[,<data_len_report_mode>]` per link id, <link ID>
  // max (5) for every one; the query prints `+CIPRECVTYPE:<link ID>,<mode>` for each.
  const recvType = {
    query: (at: AtConsole) => {
      for (let id = 0; id < (links.mux ? links.max : 1); id++) at.print(`+CIPRECVTYPE:${id},${links.passiveIds[id] ? 1 : 0}`);
    },
    set: (_at: AtConsole, params: Param[]) => {
      const [id, rest] = links.mux ? [params[0], params.slice(1)] : [0, params];
      const [mode, report = 0, ...more] = rest;
      if (more.length || !isInt(id, 0, links.max) || !isInt(mode, 0, 1) || !isInt(report, 0, 1)) return false;
      if (id === links.max) links.passive = mode === 1;
      else links.passiveIds[id] = mode === 1;
    },
  };

  /** With CIPMUX=1 the first parameter is the link id; otherwise it is link 0. Returns [id, rest]. */
  const linkOf = (params: Param[]): [number, Param[]] | undefined => {
    if (!links.mux) return [0, params];
    const [id, ...rest] = params;
    return isInt(id, 0, links.max - 1) ? [id, rest] : undefined;
  };

  const describe = (prefix: string, at: AtConsole) => {
    for (const link of links.links) {
      if (!link) continue;
      at.print(`${prefix}:${link.id},"${typeName(link)}","${link.remote[0]}",${link.remote[1]},${link.localPort},${link.server}`);
    }
  };

  /**
   * CIPSTART on link `id`: `"TCP"|"SSL"[v6],<host>,<port>[,<keep alive>][,<"local IP">][,<timeout>]`
   * or `"UDP"[v6],<host>,<port>[,<local port>,<mode>,<"local IP">][,<timeout>]`. The local IP is
   * taken as given (the board has one address); the timeout (ms, 0 to 60000) bounds the connect.
   * The v6 types need AT+CIPV6=1.
   */
  const start = async (at: AtConsole, id: number, [type, host, port, ...options]: Param[]) => {
    const parsed = parseLinkType(type);
    if (!parsed || (parsed.v6 && !links.ipv6) || typeof host !== "string" || !host || host.length > 64 || !isInt(port, 1, 65535)) return false;
    const kind = parsed.kind;
    const [localPort, mode, localIp, timeout, ...rest] = kind === "UDP" ? options : [undefined, undefined, ...options.slice(1)];
    const keepAlive = kind === "UDP" ? undefined : options[0];
    if (rest.length || (keepAlive !== undefined && !isInt(keepAlive, 0, 7200)) || (localPort !== undefined && !isInt(localPort, 0, 65535)) || (mode !== undefined && !isInt(mode, 0, 2)))
      return false;
    if ((localIp !== undefined && typeof localIp !== "string") || (timeout !== undefined && !isInt(timeout, 0, 60000))) return false;
    if (links.links[id]) {
      at.print("ALREADY CONNECTED");
      return false;
    }
    if (!online()) return false;
    if (keepAlive !== undefined) links.setTcpOptions(id, { keepAlive: keepAlive as number }); // as AT+CIPTCPOPT's <keep_alive>
    try {
      await links.open(id, kind, host, port, (localPort as number | undefined) ?? 0, (timeout as number | undefined) ?? 0, parsed.v6, false, (mode as number | undefined) ?? 0);
    } catch {
      return false;
    }
  };

  /** CIPSEND and CIPSENDEX: `[<id>,]<len>[,<host>,<port>]`, then the data after `>`. */
  const send = async (at: AtConsole, params: Param[], escapes: boolean) => {
    const which = linkOf(params);
    if (!which) return false;
    const [id, [length, host, port, ...rest]] = which;
    const link = links.links[id];
    if (!link || rest.length || !isInt(length, 1, MAX_SEND)) return false;
    const to = host === undefined ? undefined : typeof host === "string" && isInt(port, 1, 65535) && link.type === "UDP" ? [host, port] : null;
    if (to === null) return false;
    const data = await at.payload(length, escapes);
    if (!data) {
      at.send("\r\nSEND FAIL\r\n"); // the UART lost bytes of the payload: none of it goes
      return REPLIED;
    }
    at.send(`\r\nRecv ${data.length} bytes\r\n`);
    try {
      if (to) await link.sock.sendto(data, to as [string, number]);
      else await links.queueSend(link, data);
      at.send("\r\nSEND OK\r\n");
    } catch {
      at.send("\r\nSEND FAIL\r\n");
    }
    return REPLIED;
  };

  return {
    // Bit 0: +QUITT when passthrough ends; bit 1: +LINK_CONN for new links; bit 2 is taken, not used.
    "+SYSMSG": {
      query: (at) => at.print(`+SYSMSG:${links.sysmsg}`),
      set: (_at, [state, ...rest]) => {
        if (rest.length || !isInt(state, 0, 7)) return false;
        links.sysmsg = state;
        settings.keep("sysmsg", state);
      },
    },
    "+CIPMUX": {
      query: (at) => at.print(`+CIPMUX:${links.mux}`),
      set: (_at, [mode, ...rest]) => {
        if (rest.length || !isInt(mode, 0, 1)) return false;
        // It changes only while no link is open, and not to 0 while a server runs.
        if (links.count || (mode === 0 && links.serving)) return false;
        links.mux = mode;
      },
    },
    "+CIPDINFO": {
      query: (at) => at.print(`+CIPDINFO:${links.showPeer ? "true" : "false"}`),
      set: (_at, [mode, ...rest]) => {
        if (rest.length || !isInt(mode, 0, 1)) return false;
        links.showPeer = mode === 1;
      },
    },
    "+CIPSTART": {
      set: async (at, params) => {
        const which = linkOf(params);
        return which ? start(at, which[0], which[1]) : false;
      },
    },
    // CIPSTART with the first free id.
    "+CIPSTARTEX": {
      set: async (at, params) => {
        const id = links.mux ? links.freeId() : 0;
        return id === undefined ? false : start(at, id, params);
      },
    },
    "+CIPSEND": {
      // With CIPMODE=1: passthrough until `+++`, on link 0, or with CIPMUX=1 on the server's client.
      execute: (at) => {
        const link = links.mux ? links.links.find((l) => l?.server) : links.links[0];
        if (!links.cipmode || !link) return false;
        at.ok();
        at.send("\r\n>");
        links.enterPassthrough(link);
        return REPLIED;
      },
      set: (at, params) => send(at, params, false),
    },
    // CIPSEND where `\0` ends the data early.
    "+CIPSENDEX": {
      set: (at, params) => send(at, params, true),
    },
    "+CIPCLOSE": {
      execute: () => (links.mux ? false : links.close(0)),
      set: (_at, [id, ...rest]) => {
        if (!links.mux || rest.length || !isInt(id, 0, links.max)) return false;
        if (id < links.max) return links.close(id);
        // id 5 (the link count) closes every link
        for (const link of links.links) if (link) links.close(link.id);
      },
    },
    "+CIPSTATUS": {
      // 2: an IP and no link; 3: links; 4: links, all closed since; 5: no IP (the station's, without links on the SoftAP's).
      execute: (at) => {
        at.print(`STATUS:${!online() ? 5 : links.count ? 3 : !stationOnline() ? 5 : links.opened ? 4 : 2}`);
        describe("+CIPSTATUS", at);
      },
    },
    "+CIPSTATE": {
      query: (at) => describe("+CIPSTATE", at),
    },
    "+CIPSERVER": {
      // `+CIPSERVER:1,<port>,"TCP",0` while a server runs (AT 3.2's four fields; AT 5 adds <netif>).
      query: (at) => at.print(links.serving ? `+CIPSERVER:1,${links.serverPort},"TCP",0` : "+CIPSERVER:0"),
      // `=0[,<close all>]`: 1 closes the server's clients too. A passthrough server (CIPMODE=1) takes one client.
      set: (_at, [mode, port, ...rest]) => {
        if (rest.length || !isInt(mode, 0, 1)) return false;
        if (mode === 0) {
          if (!links.serving || (port !== undefined && !isInt(port, 0, 1))) return false;
          links.stopListening();
          if (port === 1) for (const link of links.links) if (link?.server) links.close(link.id);
          return;
        }
        if (!links.mux || links.serving || (port !== undefined && !isInt(port, 1, 65535)) || !online()) return false;
        if (links.cipmode && links.serverMax !== 1) return false;
        try {
          links.listen((port as number | undefined) ?? 333);
        } catch {
          return false;
        }
      },
    },
    "+CIPMODE": {
      query: (at) => at.print(`+CIPMODE:${links.cipmode}`),
      set: (_at, [mode, ...rest]) => {
        // With CIPMUX=1, passthrough is a server's with one client (AT+CIPSERVERMAXCONN=1), as in ESP-AT's example.
        if (rest.length || !isInt(mode, 0, 1) || (mode === 1 && links.mux && links.serverMax !== 1)) return false;
        links.cipmode = mode;
      },
    },
    "+CIPRECVMODE": recvMode,
    "+CIPRECVTYPE": recvType,
    // `+CIPRECVLEN:<len>` with CIPMUX=0, else one field per link id: 0 for one not open, as
    // ESP-AT 3.x prints it (2.2 to 2.4 printed -1 there).
    "+CIPRECVLEN": {
      query: (at) => {
        const held = (id: number) => links.holding(id)?.heldBytes ?? 0;
        at.print(`+CIPRECVLEN:${links.mux ? links.links.map((_, id) => held(id)).join(",") : held(0)}`);
      },
    },
    // `=<time>` (0 to 7200 s, 0 never) while a server runs; `?` prints `+CIPSTO:<time>` (0 at boot).
    "+CIPSTO": {
      query: (at) => at.print(`+CIPSTO:${links.serverTimeout}`),
      set: (_at, [time, ...rest]) => {
        if (rest.length || !isInt(time, 0, 7200) || !links.serving) return false;
        links.setServerTimeout(time);
      },
    },
    "+CIPRECVDATA": {
      set: (at, params) => {
        const which = linkOf(params);
        if (!which) return false;
        const [id, [n, ...rest]] = which;
        const link = links.holding(id);
        if (!link || rest.length || !isInt(n, 1, MAX_SEND) || !links.passiveIds[id] || !link.heldBytes) return false;
        const data = links.take(link, n);
        const peer = links.showPeer ? `"${link.from[0]}",${link.from[1]},` : "";
        const head = encodeLatin1(`+CIPRECVDATA:${data.length},${peer}`);
        at.unsolicited(joinBytes([head, data]));
        // The reply first; then a link whose peer closed goes, once its data has all been read.
        at.ok();
        links.closeIfDrained(link);
        return REPLIED;
      },
    },
    // 0 closes with FIN, 1 with RST: taken and checked; the link closes with FIN either way.
    "+CIPCLOSEMODE": {
      set: (_at, params) => {
        const which = linkOf(params);
        if (!which) return false;
        const [id, [mode, ...rest]] = which;
        return !rest.length && isInt(mode, 0, 1) && links.links[id] !== undefined;
      },
    },
    "+CIPSERVERMAXCONN": {
      query: (at) => at.print(`+CIPSERVERMAXCONN:${links.serverMax}`),
      set: (_at, [n, ...rest]) => {
        if (rest.length || !isInt(n, 1, links.max) || (n !== 1 && links.cipmode && links.mux)) return false;
        links.serverMax = n;
      },
    },
    "+CIPDOMAIN": {
      // <ip network>: 1 IPv4 first, 2 IPv4 only, 3 IPv6 only.
      set: async (at, [name, network, ...rest]) => {
        if (rest.length > 2 || typeof name !== "string" || !name || name.length > 253 || (network !== undefined && !isInt(network, 1, 3))) return false;
        if (!online()) return false;
        try {
          const found = await getaddrinfo(name, 0, network === 3 ? AF_INET6 : network === 2 ? AF_INET : 0);
          const first = network === 3 || network === 2 ? found[0] : (found.find((a) => a[0] === AF_INET) ?? found[0]);
          if (!first) return false;
          at.print(`+CIPDOMAIN:"${first[4][0]}"`);
        } catch {
          return false;
        }
      },
    },
    "+PING": {
      set: async (at, [host, ...rest]) => {
        if (rest.length || typeof host !== "string" || !host) return false;
        try {
          if (!online()) throw new Error("offline");
          // IPv6 needs AT+CIPV6=1: without it a name resolves to IPv4 only, and an IPv6 address fails.
          if (!links.ipv6 && host.includes(":")) throw new Error("IPv6 is off");
          const reply = await ping(host, PING_TIMEOUT, 1, links.ipv6 ? AF_UNSPEC : AF_INET);
          at.print(`+PING:${reply.time}`);
        } catch {
          at.print("+PING:TIMEOUT"); // a name that does not resolve, or no reply
          return false;
        }
      },
    },
  };
}
