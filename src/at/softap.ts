// ESP-AT's SoftAP commands over the Wi-Fi driver (`netif.wifi`): CWSAP (and the AT 1.x CWSAP_CUR
// and CWSAP_DEF), CWLIF, CWQIF, CIPAP (its address), CWDHCPS (its DHCP server's pool) (CIPAPMAC is in macs.ts),
// and the unsolicited +STA_CONNECTED, +DIST_STA_IP and +STA_DISCONNECTED. AT+CWMODE=2 or 3
// starts the SoftAP (Station.setMode, then follow()) with the saved settings, or ESP-AT's defaults.
import { encodeLatin1, type AtConsole, type CommandTable } from "./console";
import { DHCP_SOFTAP, dhcpState, isDotted, keepAddress, parseAddress, savedAddress } from "./ipconfig";
import { isInt, isMac, type Param } from "./parser";
import type { Settings } from "./settings";
import { allowedChannel } from "./cwcountry";
import type { DhcpPool, SoftApConfig, StaticAddress, WifiControl } from "xsock/wifi-control";

/** What the SoftAP commands need of the network interface (xsock/net's NetworkInterface has it). */
export interface SoftApInterface {
  /** The station's MAC: the SoftAP's is the next one. */
  readonly mac: string;
  readonly wifi?: WifiControl;
}

/** The <ecn>s a SoftAP takes: open, WPA, WPA2, WPA/WPA2 (no WEP). */
const SOFTAP_ECNS = Object.freeze([0, 2, 3, 4]);
const NO_ADDRESS = "0.0.0.0";

/** The ESP32's SoftAP MAC: the station's, plus one in the last byte. */
export const softApMac = (sta: string) => sta.replace(/[0-9a-f]{2}$/i, (b) => ((parseInt(b, 16) + 1) & 0xff).toString(16).padStart(2, "0"));

/** ESP-AT's SoftAP before any AT+CWSAP: open, "ESP_" and the MAC's last three bytes, channel 1, 4 stations. */
export function defaultSoftAp(apMac: string): SoftApConfig {
  const tail = apMac.replace(/:/g, "").slice(-6).toUpperCase().padStart(6, "0");
  return { ssid: `ESP_${tail}`, password: "", channel: 1, ecn: 0, max: 4, hidden: false };
}

/** AT+CWSAP=<ssid>,<pwd>,<chl>,<ecn>[,<max conn>][,<ssid hidden>] as settings; undefined when out of range. */
export function parseSoftAp(params: Param[]): SoftApConfig | undefined {
  const [ssid, password, channel, ecn, max = 4, hidden = 0, ...rest] = params;
  if (rest.length || typeof ssid !== "string" || typeof password !== "string") return undefined;
  if (!ssid.length || ssid.length > 32) return undefined;
  if (!isInt(channel, 1, 13) || !isInt(ecn, 0, 4) || !SOFTAP_ECNS.includes(ecn)) return undefined;
  if (!isInt(max, 1, 10) || !isInt(hidden, 0, 1)) return undefined;
  // WPA's passphrase: 8 to 63 characters, or 64 hex digits.
  if (ecn && (password.length < 8 || password.length > 64)) return undefined;
  return { ssid, password: ecn ? password : "", channel, ecn, max, hidden: hidden === 1 };
}

/** AT+CIPAP=<"ip">[,<"gateway">,<"netmask">]; the gateway is the SoftAP itself when not given, as ESP-IDF's is. */
export function parseSoftApAddress(params: Param[]): StaticAddress | undefined {
  const [ip] = params;
  if (params.length === 1) return isDotted(ip) && ip !== NO_ADDRESS ? { ip, gateway: ip, netmask: "255.255.255.0" } : undefined;
  return parseAddress(params);
}

/** AT+CWDHCPS=<enable>[,<lease time>,<"start IP">,<"end IP">]: the pool, null for ESP-IDF's (0); undefined when malformed. */
export function parseDhcpPool(params: Param[]): DhcpPool | null | undefined {
  const [enable, leaseMinutes, start, end, ...rest] = params;
  if (enable === 0 && params.length === 1) return null;
  if (rest.length || enable !== 1 || !isInt(leaseMinutes, 1, 2880) || !isDotted(start) || !isDotted(end)) return undefined;
  return { start, end, leaseMinutes };
}

/** The pool AT+CWDHCPS set, as flash keeps it (`lease,start,end`). */
function savedPool(settings: Settings): DhcpPool | undefined {
  const [lease, start, end] = settings.get<string>("dhcps", "").split(",");
  return start ? { start, end, leaseMinutes: Number(lease) } : undefined;
}

/** The settings as they go to flash, and back; undefined for anything else. */
const encode = (c: SoftApConfig) => JSON.stringify([c.ssid, c.password, c.channel, c.ecn, c.max, c.hidden ? 1 : 0]);
function decode(saved: string): SoftApConfig | undefined {
  try {
    const fields = JSON.parse(saved) as Param[];
    return Array.isArray(fields) ? parseSoftAp(fields) : undefined;
  } catch {
    return undefined;
  }
}

/** The SoftAP as the console sees it: its settings, and what it announces. */
export class SoftApConsole {
  readonly wifi: WifiControl | undefined;

  constructor(
    private readonly at: AtConsole,
    private readonly settings: Settings,
    private readonly netif: SoftApInterface,
  ) {
    this.wifi = netif.wifi;
    // What flash keeps of its address and DHCP server: applied when the SoftAP starts.
    const address = savedAddress(settings, "apip");
    if (address) this.wifi?.setSoftApAddress(address);
    const serving = (dhcpState(settings, false) & DHCP_SOFTAP) !== 0;
    if (savedPool(settings) || !serving) this.serveDhcp(serving);
    this.wifi?.onSoftAp((event) => {
      if (event.kind === "joined") this.announce(`+STA_CONNECTED:"${event.mac}"`);
      else if (event.kind === "address") this.announce(`+DIST_STA_IP:"${event.mac}","${event.ip}"`);
      else this.announce(`+STA_DISCONNECTED:"${event.mac}"`);
    });
  }

  private announce(line: string): void {
    this.at.unsolicited(encodeLatin1(`${line}\r\n`));
  }

  get mac(): string {
    return this.wifi?.softAp?.mac || softApMac(this.netif.mac);
  }

  /** The settings the SoftAP starts with: the running ones, the saved ones, or ESP-AT's defaults. */
  get config(): SoftApConfig {
    return this.wifi?.softAp?.config ?? decode(this.settings.get("cwsap", "")) ?? defaultSoftAp(this.mac);
  }

  /** After a change of Wi-Fi mode: the SoftAP runs in modes 2 and 3 (the driver stops it in the others). */
  follow(mode: number): void {
    if (mode & 2 && this.wifi && !this.wifi.softAp) this.start(this.config);
  }

  /** The SoftAP's DHCP server on or off, with the pool AT+CWDHCPS set (null: ESP-IDF's); false when its interface refuses the pool. */
  serveDhcp(on: boolean, pool: DhcpPool | null = savedPool(this.settings) ?? null): boolean {
    try {
      this.wifi?.setSoftApDhcp({ on, pool: pool ?? undefined });
      return this.wifi !== undefined;
    } catch {
      return false;
    }
  }

  /** Starts the SoftAP with these settings; false when the radio refuses them, or AT+CWCOUNTRY rules out the channel. */
  start(config: SoftApConfig): boolean {
    if (!allowedChannel(config.channel)) return false;
    try {
      this.wifi?.startSoftAp(config);
      return this.wifi !== undefined;
    } catch {
      return false;
    }
  }
}

export function softApCommands(softAp: SoftApConsole, settings: Settings): CommandTable {
  const running = () => softAp.wifi?.softAp;
  const inApMode = () => ((softAp.wifi?.mode ?? 0) & 2) === 2;
  return {
    "+CWSAP": {
      query: (at) => {
        if (!inApMode()) return false;
        const c = softAp.config;
        at.print(`+CWSAP:"${c.ssid}","${c.password}",${c.channel},${c.ecn},${c.max},${c.hidden ? 1 : 0}`);
      },
      set: (_at, params) => {
        const config = parseSoftAp(params);
        if (!config || !inApMode() || !softAp.start(config)) return false;
        settings.keep("cwsap", encode(config));
      },
    },
    "+CWLIF": {
      execute: (at) => {
        for (const { ip, mac } of softAp.wifi?.stations() ?? []) at.print(`+CWLIF:${ip ?? NO_ADDRESS},${mac}`);
      },
    },
    "+CWQIF": {
      execute: () => {
        if (!running()) return false;
        softAp.wifi?.deauth();
      },
      set: (_at, [mac, ...rest]) => {
        if (rest.length || !isMac(mac) || !running()) return false;
        return softAp.wifi?.deauth(mac.toLowerCase()) === true;
      },
    },
    "+CIPAP": {
      query: (at) => {
        const ap = running() ?? { ip: NO_ADDRESS, gateway: NO_ADDRESS, netmask: NO_ADDRESS };
        at.print(`+CIPAP:ip:"${ap.ip}"`);
        at.print(`+CIPAP:gateway:"${ap.gateway}"`);
        at.print(`+CIPAP:netmask:"${ap.netmask}"`);
      },
      set: (_at, params) => {
        const address = parseSoftApAddress(params);
        if (!address || !inApMode() || !softAp.wifi) return false;
        try {
          softAp.wifi.setSoftApAddress(address);
        } catch {
          return false;
        }
        keepAddress(settings, "apip", address);
      },
    },
    // The SoftAP's DHCP pool: it needs the SoftAP and its DHCP server (AT+CWDHCP's bit 1) running.
    "+CWDHCPS": {
      query: (at) => {
        const dhcp = running()?.dhcp;
        if (!dhcp) return false;
        at.print(`+CWDHCPS:${dhcp.pool.leaseMinutes},${dhcp.pool.start},${dhcp.pool.end}`);
      },
      set: (_at, params) => {
        const pool = parseDhcpPool(params);
        if (pool === undefined || !running() || !(dhcpState(settings, false) & DHCP_SOFTAP)) return false;
        if (!softAp.serveDhcp(true, pool)) return false;
        settings.keep("dhcps", pool ? `${pool.leaseMinutes},${pool.start},${pool.end}` : "");
      },
    },
  };
}
