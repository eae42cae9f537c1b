// ESP-AT's passthrough that outlives its link: a client link that breaks in passthrough is
// opened again every AT+CIPRECONNINTV interval until `+++`, and AT+SAVETRANSLINK saves a link
// that the board opens at power-up, entering passthrough by itself.
import type { AtConsole, Clock, CommandTable } from "./console";
import { isInt } from "./parser";
import type { Link, Links, LinkType } from "./links";
import type { Settings } from "./settings";

/** What AT+SAVETRANSLINK saves: the link to open, and its keep-alive (TCP, SSL) or local port (UDP). */
interface SavedLink {
  type: LinkType;
  host: string;
  port: number;
  extra: number;
}

const TYPES = ["TCP", "TCPv6", "SSL", "SSLv6", "UDP", "UDPv6"];

function decode(text: string): SavedLink | undefined {
  const [type, port, extra, ...host] = text.split(",");
  return type ? { type: type as LinkType, port: Number(port), extra: Number(extra), host: host.join(",") } : undefined;
}

export class PassthroughLinks {
  constructor(
    private readonly at: AtConsole,
    private readonly links: Links,
    private readonly settings: Settings,
    private readonly clock: Clock,
    /** The board has an IP address: links need one. */
    private readonly online: () => boolean,
  ) {
    links.onPassthroughBreak = (link) => {
      if (link.server) return false;
      this.reconnect(link.type, link.remote[0], link.remote[1], link.type === "UDP" ? link.localPort : 0, false, link.v6 === true);
      return true;
    };
  }

  /** AT+CIPRECONNINTV, in 100 ms. */
  get interval(): number {
    return this.settings.get("reconnintv", 1);
  }

  /**
   * Opens link 0 (over IPv6 with `v6`) into the passthrough under way, trying every interval
   * (the first time at once with `now`) while the passthrough lasts.
   */
  private reconnect(type: LinkType, host: string, port: number, localPort: number, now: boolean, v6: boolean): void {
    const attempt = async () => {
      if (!this.at.inPassthrough || this.links.transparent) return;
      if (this.online() && !this.links.links[0]) {
        let link: Link | undefined;
        try {
          link = await this.links.open(0, type, host, port, localPort, 0, v6, true);
        } catch {
          link = undefined;
        }
        if (link && this.at.inPassthrough) {
          this.links.transparent = link;
          return;
        }
        if (link) {
          // `+++` came while it connected: ESP-AT stops reconnecting, and the link goes unannounced.
          this.links.links[0] = undefined;
          link.sock.close();
          return;
        }
      }
      this.clock.after(this.interval * 100, () => void attempt());
    };
    if (now) void attempt();
    else this.clock.after(this.interval * 100, () => void attempt());
  }

  /** At power-up: the saved link, in passthrough from the start (the UART's bytes are dropped until it is open). */
  boot(): void {
    const saved = decode(this.settings.get("translink", ""));
    if (!saved) return;
    const kind = saved.type.replace(/v6$/, "") as LinkType;
    if (kind !== "UDP") this.links.setTcpOptions(0, { keepAlive: saved.extra }); // as AT+CIPTCPOPT's <keep_alive>
    this.links.cipmode = 1;
    this.links.enterPassthrough();
    this.reconnect(kind, saved.host, saved.port, kind === "UDP" ? saved.extra : 0, true, saved.type.endsWith("v6"));
  }

  commands(): CommandTable {
    return {
      "+CIPRECONNINTV": {
        query: (at) => at.print(`+CIPRECONNINTV:${this.interval}`),
        set: (_at, [interval, ...rest]) => {
          if (rest.length || !isInt(interval, 1, 36000)) return false;
          this.settings.keep("reconnintv", interval);
        },
      },
      // `1,<"remote host">,<remote port>[,<"type">,<keep_alive>|<local port>]`, or 0: always saved.
      // Modes 2 (BLE) and 3 (a server) are not supported.
      "+SAVETRANSLINK": {
        set: (_at, [mode, host, port, type = "TCP", extra = 0, ...rest]) => {
          if (mode === 0 && !rest.length) return void this.settings.save("translink", "");
          if (mode !== 1 || rest.length || typeof host !== "string" || !host || host.length > 64 || !isInt(port, 1, 65535)) return false;
          if (typeof type !== "string" || !TYPES.includes(type) || !isInt(extra, 0, type.startsWith("UDP") ? 65535 : 7200)) return false;
          this.settings.save("translink", `${type},${port},${extra},${host}`);
        },
      },
    };
  }
}
