// ESP-AT's Wi-Fi station commands over the Wi-Fi driver (`netif.wifi`):
// CWMODE, CWJAP (and the AT 1.x CWJAP_CUR and CWJAP_DEF), CWQAP, CWLAP, CWLAPOPT, CWAUTOCONN,
// CWSTATE, and the unsolicited WIFI CONNECTED, WIFI GOT IP and WIFI DISCONNECT. The address
// commands are in ipconfig.ts, the SoftAP's in softap.ts.
import { encodeLatin1, onOff, type AtConsole, type CommandTable } from "./console";
import { isInt, isMac, type Param } from "./parser";
import type { Settings } from "./settings";
import type { SoftApConsole } from "./softap";
import { allowedChannel } from "./cwcountry";
import type { JoinOutcome, NetworkInterface, ScannedAp, WifiControl } from "xsock/net";

const isText = (p: Param, max: number): p is string => typeof p === "string" && p.length <= max;

/** +CWJAP's code when the radio cannot join at all (no Wi-Fi, or not in station mode). */
const JOIN_FAILED = 4;

/** The station: its mode, the AP it joins, and what it announces. */
export class Station {
  mode: number;
  ssid = "";
  private password = "";
  private bssid = "";
  private linked = false;
  private hasIp = false;
  /** AT+CWLAPOPT: which fields +CWLAP prints, the weakest AP shown, which <ecn>s. */
  listMask = 0x7ff;
  listRssi = -100;
  listEcns = 0xffff;
  /** AT+CWJAP's <listen_interval>, <scan_mode> and <pmf> as last set, which its query reports. */
  joinOptions = { listen: 3, scanMode: 0, pmf: 1 };
  /** The driver's station and SoftAP; an Ethernet board has none. */
  readonly wifi: WifiControl | undefined;

  constructor(
    private readonly at: AtConsole,
    private readonly settings: Settings,
    netif: NetworkInterface,
  ) {
    this.mode = settings.get("cwmode", 1);
    this.ssid = settings.get("ssid", "");
    this.password = settings.get("pwd", "");
    this.wifi = netif.wifi;
    if (!this.wifi) return;
    this.wifi.mode = this.mode;
    netif.onEvent((event) => {
      if (event === "linkUp") {
        this.linked = true;
        this.announce("WIFI CONNECTED");
      } else if (event === "gotIP") {
        this.hasIp = true;
        this.announce("WIFI GOT IP");
      } else if (event === "lostIP") this.hasIp = false;
      else if (event === "linkDown") {
        const was = this.linked;
        this.linked = this.hasIp = false;
        if (was) this.announce("WIFI DISCONNECT");
      }
    });
  }

  get online(): boolean {
    return this.hasIp;
  }

  /** Seconds between reconnections after the AP drops the station (0: none). */
  get reconnectInterval(): number {
    return this.wifi?.reconnectInterval ?? 0;
  }
  set reconnectInterval(seconds: number) {
    if (this.wifi) this.wifi.reconnectInterval = seconds;
  }

  /** At power-on: join the saved AP when AT+CWAUTOCONN=1. */
  boot(): void {
    if (this.settings.get("autoconn", 1) === 1 && this.mode & 1 && this.ssid) void this.connect();
  }

  private announce(line: string): void {
    this.at.unsolicited(encodeLatin1(`${line}\r\n`));
  }

  /** Joins the configured AP; resolves 0, or a +CWJAP error code. */
  connect(timeoutMs = 15000): Promise<JoinOutcome> {
    if (!this.wifi || !(this.mode & 1)) return Promise.resolve(JOIN_FAILED);
    return this.wifi.join({ ssid: this.ssid, password: this.password, bssid: this.bssid.toLowerCase() || undefined }, timeoutMs);
  }

  disconnect(): void {
    this.wifi?.leave();
  }

  configure(ssid: string, password: string, bssid: string, save: boolean): void {
    this.ssid = ssid;
    this.password = password;
    this.bssid = bssid;
    if (save) {
      this.settings.save("ssid", ssid);
      this.settings.save("pwd", password);
    }
  }

  setMode(mode: number, autoConnect: boolean): void {
    const hadStation = this.mode & 1;
    this.mode = mode;
    this.settings.keep("cwmode", mode);
    if (hadStation && !(mode & 1)) this.disconnect();
    if (this.wifi) this.wifi.mode = mode;
    if (!hadStation && mode & 1 && autoConnect && this.ssid) void this.connect();
  }

  /** AT+CWSTATE's <state>: 0 not started, 1 no IP yet, 2 got IP, 3 connecting, 4 disconnected. */
  get state(): number {
    if (this.hasIp) return 2;
    if (this.linked) return 1;
    if (this.wifi?.joining) return 3;
    return this.ssid ? 4 : 0;
  }

  get connected(): boolean {
    return this.linked;
  }

  /** The APs a scan finds, as +CWLAP lines: those of `ssid`, `mac`, `channel` (or the channels `bitmap`'s bits name) when given. */
  async list(ssid?: string, mac?: string, channel?: number, bitmap?: number): Promise<string[]> {
    const found: ScannedAp[] = this.wifi && this.mode & 1 ? await this.wifi.scan() : [];
    const aps = found.filter(
      (ap) =>
        (ssid === undefined || ap.ssid === ssid) &&
        (mac === undefined || ap.mac === mac.toLowerCase()) &&
        (channel === undefined || ap.channel === channel) &&
        (channel !== undefined || !bitmap || (bitmap >> ap.channel) & 1) &&
        allowedChannel(ap.channel) && // AT+CWCOUNTRY's
        ap.rssi >= this.listRssi &&
        (this.listEcns >> ap.ecn) & 1,
    );
    return aps.map((ap) => {
      const cipher = ap.ecn ? 4 : 0; // CCMP, or none on an open AP
      const fields = [ap.ecn, `"${ap.ssid}"`, ap.rssi, `"${ap.mac}"`, ap.channel, 0, 0, cipher, cipher, 7, 0];
      return `+CWLAP:(${fields.filter((_, i) => (this.listMask >> i) & 1).join(",")})`;
    });
  }
}

export function wifiCommands(station: Station, settings: Settings, softAp: SoftApConsole): CommandTable {

  /** AT+CWJAP and its AT 1.x spellings: `save` says whether the AP goes to flash. */
  const join = (name: string, save: () => boolean, full: boolean) => ({
    query: (at: AtConsole) => {
      const ap = station.wifi?.joined;
      if (!station.connected || !ap) return void at.print("No AP");
      const head = `${name}:"${ap.ssid}","${ap.bssid}",${ap.channel},${ap.rssi}`;
      const { listen, scanMode, pmf } = station.joinOptions;
      at.print(full ? `${head},0,${station.reconnectInterval},${listen},${scanMode},${pmf}` : head);
    },
    set: async (at: AtConsole, params: Param[]) => {
      const [ssid, pwd, bssid, authmode, reconnect, listen, scanMode, timeout, pmf] = params;
      if (params.length > 9 || (ssid !== undefined && !isText(ssid, 32)) || (pwd !== undefined && !isText(pwd, 64))) return false;
      // <authmode> (AT 2.x's <pci_en>): the weakest security to join, 0 to 16; taken, not applied.
      if ((bssid !== undefined && !isMac(bssid)) || (authmode !== undefined && !isInt(authmode, 0, 16))) return false;
      if (reconnect !== undefined && !isInt(reconnect, 0, 7200)) return false;
      if ((listen !== undefined && !isInt(listen, 1, 100)) || (scanMode !== undefined && !isInt(scanMode, 0, 1))) return false;
      if ((timeout !== undefined && !isInt(timeout, 3, 600)) || (pmf !== undefined && !isInt(pmf, 0, 3))) return false;
      if (!(station.mode & 1)) return false;
      if (ssid === undefined && pwd === undefined) {
        if (!station.ssid) return false; // no AP configured to join again
      } else station.configure(ssid ?? station.ssid, pwd ?? "", bssid ?? "", save());
      station.reconnectInterval = (reconnect as number | undefined) ?? 1;
      station.joinOptions = { listen: (listen as number | undefined) ?? 3, scanMode: (scanMode as number | undefined) ?? 0, pmf: (pmf as number | undefined) ?? 1 };
      const code = await station.connect(((timeout as number | undefined) ?? 15) * 1000);
      if (code) at.print(`+CWJAP:${code}`);
      return code === 0;
    },
    execute: async (at: AtConsole) => {
      if (!station.ssid || !(station.mode & 1)) return false;
      const code = await station.connect();
      if (code) at.print(`+CWJAP:${code}`);
      return code === 0;
    },
  });

  return {
    "+CWMODE": {
      query: (at) => at.print(`+CWMODE:${station.mode}`),
      set: (_at, [mode, autoConnect, ...rest]) => {
        if (rest.length || !isInt(mode, 0, 3) || (autoConnect !== undefined && !isInt(autoConnect, 0, 1))) return false;
        station.setMode(mode, autoConnect !== 0);
        softAp.follow(mode);
      },
    },
    "+CWJAP": join("+CWJAP", () => settings.store, true),
    "+CWJAP_CUR": join("+CWJAP_CUR", () => false, false),
    "+CWJAP_DEF": join("+CWJAP_DEF", () => true, false),
    "+CWQAP": { execute: () => station.disconnect() },
    // <"ssid">: the target AP's, whatever the state.
    "+CWSTATE": { query: (at) => at.print(`+CWSTATE:${station.state},"${station.ssid}"`) },
    "+CWLAP": {
      execute: async (at) => {
        for (const line of await station.list()) at.print(line);
      },
      // [<"ssid">][,<"mac">][,<channel>][,<scan_type>][,<scan_time_min>][,<scan_time_max>][,<2ghz_channel_bitmap>]:
      // <channel> 0 is every channel, as is no bitmap; the scan's type and times are checked, not applied.
      set: async (at, [ssid, mac, channel, scanType, timeMin, timeMax, bitmap, ...rest]) => {
        if (rest.length || (ssid !== undefined && !isText(ssid, 32)) || (mac !== undefined && !isText(mac, 17))) return false;
        if ((channel !== undefined && !isInt(channel, 0, 14)) || (scanType !== undefined && !isInt(scanType, 0, 1))) return false;
        if ((timeMin !== undefined && !isInt(timeMin, 0, 1500)) || (timeMax !== undefined && !isInt(timeMax, 0, 1500))) return false;
        if (bitmap !== undefined && !isInt(bitmap, 0, 0x7ffe)) return false;
        for (const line of await station.list(ssid, mac, channel || undefined, bitmap)) at.print(line);
      },
    },
    "+CWLAPOPT": {
      set: (_at, [, mask, rssi, ecns, ...rest]) => {
        if (rest.length || !isInt(mask, 0, 0x7ff)) return false;
        if ((rssi !== undefined && !isInt(rssi, -100, 40)) || (ecns !== undefined && !isInt(ecns, 0, 0xffff))) return false;
        station.listMask = mask;
        station.listRssi = rssi ?? -100;
        station.listEcns = ecns ?? 0xffff;
      },
    },
    // Always saved, whatever AT+SYSSTORE says.
    "+CWAUTOCONN": onOff("+CWAUTOCONN", () => settings.get("autoconn", 1) === 1, (_at, on) => settings.save("autoconn", on ? 1 : 0)),
  };
}
