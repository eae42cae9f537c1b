// The board's clock: AT+CIPSNTPCFG, AT+CIPSNTPTIME?, AT+CIPSNTPINTV, +TIME_UPDATED and
// AT+SYSTIMESTAMP. Time comes from SNTP servers through Moddable's `sntp`, and is set with
// Moddable's `time`; Date reads it (TLS's certificate dates too, on the board).
import SNTP from "sntp";
import Time from "time";
import type { NetworkInterface } from "xsock/net";
import { encodeLatin1, type AtConsole, type Clock, type CommandTable } from "./console";
import { isInt, type Param } from "./parser";

/** ESP-AT's servers when CIPSNTPCFG=1 names none. */
export const DEFAULT_SNTP_SERVERS = ["cn.ntp.org.cn", "ntp.sjtu.edu.cn", "us.pool.ntp.org"];
/** lwIP's sync interval (CONFIG_LWIP_SNTP_UPDATE_DELAY), in s. */
export const DEFAULT_SNTP_INTERVAL = 3600;
/** After every server failed (Moddable's SNTP asks each 5 times, 5 s apart), the next round. */
export const SNTP_RETRY_S = 15;
/** lwIP's longest server name (SNTP_SERVER_DNS names are kept as given; esp-at takes up to 64). */
const MAX_SERVER = 64;

/**
 * A `<timezone>` as ESP-AT reads it: -12 to 14 whole hours, or else a UTC offset `[+|-][hh]mm`
 * (hh -12 to 14, mm 0 to 59). `shown` is what `CIPSNTPCFG?` prints, the offset's hours (`530`
 * shows 5, `015` 0, as the doc's note has it); `minutes` is the offset.
 */
export function parseTimezone(text: string): { shown: number; minutes: number } | undefined {
  if (!/^[+-]?[0-9]{1,5}$/.test(text)) return undefined;
  const value = Number.parseInt(text, 10);
  if (value >= -12 && value <= 14) return { shown: value, minutes: value * 60 };
  const sign = value < 0 ? -1 : 1;
  const hours = Math.floor(Math.abs(value) / 100);
  const mins = Math.abs(value) % 100;
  if (mins > 59 || sign * hours < -12 || sign * hours > 14) return undefined;
  return { shown: sign * hours, minutes: sign * (hours * 60 + mins) };
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");

/** C's asctime() of a time in ms, read as UTC, without its newline: `Thu Jan  1 00:00:00 1970`. */
export function asctime(ms: number): string {
  const d = new Date(ms);
  const day = String(d.getUTCDate()).padStart(2, " ");
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${day} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** Moddable's SNTP: the callback may return another server to ask after an error (the typings say void), and close() stops it. */
type SntpCallback = (message: number, value?: number | string) => string | undefined;
const Sntp = SNTP as unknown as new (options: { host: string }, callback: SntpCallback) => { close(): void };

/** SNTP as lwIP runs it for ESP-AT: while enabled and the board has an address, a sync every interval. */
class TimeSync {
  enabled = false;
  timezone = { shown: 0, minutes: 0 };
  servers: string[] = [];
  interval = DEFAULT_SNTP_INTERVAL;
  private client?: { close(): void };
  private cancelNext?: () => void;
  /** +TIME_UPDATED goes out for the first sync after CIPSNTPCFG only. */
  private announce = false;

  constructor(
    private readonly at: AtConsole,
    private readonly netif: NetworkInterface,
    private readonly clock: Clock,
  ) {
    netif.onEvent((event) => {
      if (event === "gotIP" && this.enabled && !this.client && !this.cancelNext) this.sync();
    });
  }

  /** CIPSNTPCFG: stops what runs, and with `enabled` asks the servers now. */
  configure(enabled: boolean): void {
    this.stop();
    this.enabled = enabled;
    this.announce = enabled;
    if (enabled && this.netif.address !== undefined) this.sync();
  }

  /** CIPSNTPINTV: the next sync comes one new interval from now. */
  setInterval(seconds: number): void {
    this.interval = seconds;
    if (this.cancelNext) this.schedule(seconds);
  }

  private stop(): void {
    this.client?.close();
    this.client = undefined;
    this.cancelNext?.();
    this.cancelNext = undefined;
  }

  private schedule(seconds: number): void {
    this.cancelNext?.();
    this.cancelNext = this.clock.after(seconds * 1000, () => {
      this.cancelNext = undefined;
      this.sync();
    });
  }

  /** Asks the servers in turn; Moddable's SNTP moves to the next one that the callback returns. */
  private sync(): void {
    if (this.netif.address === undefined) return; // again at gotIP
    let next = 0;
    const servers = this.servers;
    const answer: SntpCallback = (message, value) => {
      if (message === SNTP.time) {
        this.client = undefined;
        Time.set(value as number);
        if (this.announce) this.at.unsolicited(encodeLatin1("+TIME_UPDATED\r\n"));
        this.announce = false;
        this.schedule(this.interval);
      } else if (message === SNTP.error) {
        if (next < servers.length) return servers[next++];
        this.client = undefined; // it closes itself
        this.schedule(SNTP_RETRY_S);
      }
      return undefined;
    };
    try {
      this.client = new Sntp({ host: servers[next++] }, answer);
    } catch {
      this.schedule(SNTP_RETRY_S); // no socket free now
    }
  }
}

export interface TimeBoard {
  at: AtConsole;
  netif: NetworkInterface;
  clock: Clock;
}

// The table and its handlers are the module's own, not closures made at boot: preloaded, they
// live in flash on the board and cost no heap. sntpCommands gives them the clock's sync.
let sync: TimeSync;
const text = (p: Param) => (p === undefined ? undefined : String(p));

const SNTP_COMMANDS: CommandTable = {
  "+CIPSNTPCFG": {
    textFields: true, // <timezone> may be written +530
    query: (at: AtConsole) => {
      const servers = sync.enabled ? sync.servers.map((s) => `,"${s}"`).join("") : "";
      at.print(`+CIPSNTPCFG:${sync.enabled ? 1 : 0},${sync.timezone.shown}${servers}`);
    },
    set: (_at: AtConsole, params: Param[]) => {
      const [enable, timezone, ...servers] = params.map(text);
      if (enable !== "0" && enable !== "1") return false;
      const zone = timezone === undefined ? { shown: 0, minutes: 0 } : parseTimezone(timezone);
      if (!zone || servers.length > 3) return false;
      const named = servers.filter((s): s is string => s !== undefined && s.length > 0 && s.length <= MAX_SERVER);
      if (named.length !== servers.length) return false;
      sync.timezone = zone;
      sync.servers = named.length ? named : DEFAULT_SNTP_SERVERS;
      sync.configure(enable === "1");
    },
  },
  "+CIPSNTPTIME": {
    query: (at: AtConsole) => at.print(`+CIPSNTPTIME:${asctime(Date.now() + sync.timezone.minutes * 60000)}`),
  },
  "+CIPSNTPINTV": {
    query: (at: AtConsole) => at.print(`+CIPSNTPINTV:${sync.interval}`),
    set: (_at: AtConsole, [seconds, ...rest]: Param[]) => {
      if (rest.length || !isInt(seconds, 15, 4294967)) return false;
      sync.setInterval(seconds);
    },
  },
  "+SYSTIMESTAMP": {
    query: (at: AtConsole) => at.print(`+SYSTIMESTAMP:${Math.floor(Date.now() / 1000)}`),
    set: (_at: AtConsole, [seconds, ...rest]: Param[]) => {
      if (rest.length || !isInt(seconds, 0, 0xffffffff)) return false;
      Time.set(seconds);
    },
  },
};

/** AT+CIPSNTPCFG, AT+CIPSNTPTIME, AT+CIPSNTPINTV and AT+SYSTIMESTAMP. */
export function sntpCommands({ at, netif, clock }: TimeBoard): CommandTable {
  sync = new TimeSync(at, netif, clock);
  return SNTP_COMMANDS;
}
