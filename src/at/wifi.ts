// ESP-AT's Wi-Fi station commands over Moddable's `wifi` and `net`: CWMODE, CWJAP (and the AT
// 1.x CWJAP_CUR and CWJAP_DEF), CWQAP, CWLAP, CWLAPOPT, CWAUTOCONN, CWSTATE, and the unsolicited
// WIFI CONNECTED, WIFI GOT IP and WIFI DISCONNECT. The address commands are in ipconfig.ts.
import Net from "net";
import Timer from "timer";
import WiFi from "wifi";
import { encodeLatin1, onOff, type AtConsole, type CommandTable } from "./console";
import { isInt, type Param } from "./parser";
import type { Settings } from "./settings";

const isText = (p: Param, max: number): p is string => typeof p === "string" && p.length <= max;

/** Moddable's authentication names, in the order of ESP-AT's <ecn>. */
const ECN = ["none", "wep", "wpa_psk", "wpa2_psk", "wpa_wpa2_psk", "wpa2_enterprise", "wpa3_psk", "wpa2_wpa3_psk", "wapi_psk", "owe"];

/** +CWJAP error codes. */
const JOIN_TIMEOUT = 1;
const WRONG_PASSWORD = 2;
const NO_AP = 3;
const JOIN_FAILED = 4;

interface ScannedAp {
  ecn: number;
  ssid: string;
  rssi: number;
  mac: string;
  channel: number;
}

/** Net.get, for the names the typings leave out (CHANNEL). */
const netGet = Net.get as (what: string) => string | number | undefined;

/** ESP32's SoftAP MAC: the station's, plus one in the last byte. */
const softApMac = (sta: string) => sta.replace(/[0-9a-f]{2}$/, (b) => ((parseInt(b, 16) + 1) & 0xff).toString(16).padStart(2, "0"));

const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join(":");

function scan(): Promise<ScannedAp[]> {
  return new Promise((resolve) => {
    const found: ScannedAp[] = [];
    WiFi.scan({}, (item) => {
      if (!item) return resolve(found);
      const ecn = ECN.indexOf(item.authentication);
      const channel = (item as { channel?: number }).channel ?? 0;
      found.push({ ecn: ecn < 0 ? 3 : ecn, ssid: item.ssid, rssi: item.rssi, mac: hex(item.bssid), channel });
    });
  });
}

interface Join {
  done(code: number): void;
  /** What a failure means, from the scan before the join. */
  failure: number;
  cancel: () => void;
}

/** The station: its mode, the AP it joins, and what it announces. */
export class Station {
  mode: number;
  ssid = "";
  private password = "";
  private bssid = "";
  /** Seconds between reconnections after the AP drops the station (0: none). */
  reconnectInterval = 1;
  private joined = false;
  private hasIp = false;
  /** The station should be on its AP: it reconnects after a drop. */
  private wanted = false;
  private join?: Join;
  private reconnect?: Timer;
  /** AT+CWLAPOPT: which fields +CWLAP prints, the weakest AP shown, which <ecn>s. */
  listMask = 0x7ff;
  listRssi = -100;
  listEcns = 0xffff;

  constructor(
    private readonly at: AtConsole,
    private readonly settings: Settings,
  ) {
    this.mode = settings.get("cwmode", 1);
    this.ssid = settings.get("ssid", "");
    this.password = settings.get("pwd", "");
    WiFi.mode = this.mode as 0 | 1 | 2 | 3;
    new WiFi(undefined, (message) => this.onEvent(message));
  }

  get online(): boolean {
    return this.hasIp;
  }

  /** At power-on: join the saved AP when AT+CWAUTOCONN=1. */
  boot(): void {
    if (this.settings.get("autoconn", 1) === 1 && this.mode & 1 && this.ssid) void this.connect();
  }

  private announce(line: string): void {
    this.at.unsolicited(encodeLatin1(`${line}\r\n`));
  }

  private onEvent(message: string): void {
    if (message === "connect") {
      this.joined = true;
      this.announce("WIFI CONNECTED");
    } else if (message === "gotIP") {
      this.hasIp = true;
      this.announce("WIFI GOT IP");
      this.join?.done(0);
    } else if (message === "lostIP") {
      this.hasIp = false;
    } else if (message === "disconnect") {
      const was = this.joined;
      this.joined = this.hasIp = false;
      if (was) this.announce("WIFI DISCONNECT");
      else if (this.join) this.join.done(this.join.failure);
      // A drop the host did not ask for, or a retry that failed: try again after ESP-AT's
      // reconnect interval, for as long as the host wants the AP.
      if (this.wanted && !this.join && this.reconnectInterval && !this.reconnect) {
        this.reconnect = Timer.set(() => {
          this.reconnect = undefined;
          if (this.wanted && !this.joined) WiFi.connect({ ssid: this.ssid, password: this.password });
        }, this.reconnectInterval * 1000);
      }
    }
  }

  /** Joins the configured AP; resolves 0, or a +CWJAP error code. */
  async connect(timeoutMs = 15000): Promise<number> {
    if (!(this.mode & 1)) return JOIN_FAILED;
    // A join already under way (the boot's auto-connect) gives way to this one.
    this.join?.cancel();
    this.join = undefined;
    if (this.reconnect) Timer.clear(this.reconnect);
    this.reconnect = undefined;
    this.wanted = true;
    const aps = (await scan()).filter((ap) => ap.ssid === this.ssid && (!this.bssid || ap.mac === this.bssid.toLowerCase()));
    const failure = !aps.length ? NO_AP : aps[0].ecn ? WRONG_PASSWORD : JOIN_FAILED;
    return new Promise((resolve) => {
      const timer = Timer.set(() => {
        WiFi.disconnect();
        this.join?.done(JOIN_TIMEOUT);
      }, timeoutMs);
      this.join = {
        failure,
        cancel: () => Timer.clear(timer),
        done: (code) => {
          this.join?.cancel();
          this.join = undefined;
          if (code) this.wanted = false;
          resolve(code);
        },
      };
      WiFi.connect({ ssid: this.ssid, password: this.password || undefined });
    });
  }

  disconnect(): void {
    this.wanted = false;
    if (this.reconnect) Timer.clear(this.reconnect);
    this.reconnect = undefined;
    WiFi.disconnect();
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
    WiFi.mode = mode as 0 | 1 | 2 | 3;
    if (!hadStation && mode & 1 && autoConnect && this.ssid) void this.connect();
  }

  /** AT+CWSTATE's <state>: 0 not started, 1 no IP yet, 2 got IP, 3 connecting, 4 disconnected. */
  get state(): number {
    if (this.hasIp) return 2;
    if (this.joined) return 1;
    if (this.join) return 3;
    return this.ssid ? 4 : 0;
  }

  get connected(): boolean {
    return this.joined;
  }

  async list(ssid?: string, mac?: string, channel?: number): Promise<string[]> {
    const aps = (await scan()).filter(
      (ap) =>
        (ssid === undefined || ap.ssid === ssid) &&
        (mac === undefined || ap.mac === mac.toLowerCase()) &&
        (channel === undefined || ap.channel === channel) &&
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

export function wifiCommands(station: Station, settings: Settings): CommandTable {
  const mac = () => String(netGet("MAC") ?? "").toLowerCase();

  /** AT+CWJAP and its AT 1.x spellings: `save` says whether the AP goes to flash. */
  const join = (name: string, save: () => boolean, full: boolean) => ({
    query: (at: AtConsole) => {
      if (!station.connected) return void at.print("No AP");
      const head = `${name}:"${netGet("SSID")}","${String(netGet("BSSID")).toLowerCase()}",${netGet("CHANNEL") ?? 0},${netGet("RSSI")}`;
      at.print(full ? `${head},0,${station.reconnectInterval},3,0,1` : head);
    },
    set: async (at: AtConsole, params: Param[]) => {
      const [ssid, pwd, bssid, , reconnect, listen, scanMode, timeout, pmf] = params;
      if (params.length > 9 || (ssid !== undefined && !isText(ssid, 32)) || (pwd !== undefined && !isText(pwd, 64))) return false;
      if (bssid !== undefined && (!isText(bssid, 17) || !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(bssid))) return false;
      if (reconnect !== undefined && !isInt(reconnect, 0, 7200)) return false;
      if ((listen !== undefined && !isInt(listen, 1, 100)) || (scanMode !== undefined && !isInt(scanMode, 0, 1))) return false;
      if ((timeout !== undefined && !isInt(timeout, 3, 600)) || (pmf !== undefined && !isInt(pmf, 0, 3))) return false;
      if (!(station.mode & 1)) return false;
      if (ssid === undefined && pwd === undefined) {
        if (!station.ssid) return false; // no AP configured to join again
      } else station.configure(ssid ?? station.ssid, pwd ?? "", bssid ?? "", save());
      station.reconnectInterval = (reconnect as number | undefined) ?? 1;
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
      },
    },
    "+CWJAP": join("+CWJAP", () => settings.store, true),
    "+CWJAP_CUR": join("+CWJAP_CUR", () => false, false),
    "+CWJAP_DEF": join("+CWJAP_DEF", () => true, false),
    "+CWQAP": { execute: () => station.disconnect() },
    "+CWSTATE": { query: (at) => at.print(`+CWSTATE:${station.state},"${station.connected ? station.ssid : ""}"`) },
    "+CWLAP": {
      execute: async (at) => {
        for (const line of await station.list()) at.print(line);
      },
      set: async (at, [ssid, mac, channel, ...rest]) => {
        if (rest.length > 4 || (ssid !== undefined && !isText(ssid, 32)) || (mac !== undefined && !isText(mac, 17))) return false;
        if (channel !== undefined && !isInt(channel, 1, 14)) return false;
        for (const line of await station.list(ssid, mac, channel)) at.print(line);
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
    "+CIPSTAMAC": { query: (at) => at.print(`+CIPSTAMAC:"${mac()}"`) },
    // The SoftAP is not built: its address is ESP-AT's default, its MAC the station's plus one.
    "+CIPAP": {
      query: (at) => {
        at.print('+CIPAP:ip:"192.168.4.1"');
        at.print('+CIPAP:gateway:"192.168.4.1"');
        at.print('+CIPAP:netmask:"255.255.255.0"');
      },
    },
    "+CIPAPMAC": { query: (at) => at.print(`+CIPAPMAC:"${softApMac(mac())}"`) },
  };
}
