// The Wi-Fi station on Moddable's `wifi`: scans, joins with ESP-AT's outcome codes, and joins
// again after the AP drops it, every reconnect interval, for as long as the join is wanted.
import Net from "net";
import Timer from "timer";
import WiFi from "wifi";
import type { JoinedAp, JoinOutcome, JoinTarget, ScannedAp } from "xsock/net";

/** Moddable's authentication names, in the order of ESP-AT's <ecn>. Frozen: preloaded objects stay in flash. */
const ECN = Object.freeze(["none", "wep", "wpa_psk", "wpa2_psk", "wpa_wpa2_psk", "wpa2_enterprise", "wpa3_psk", "wpa2_wpa3_psk", "wapi_psk", "owe"]);

/** The reason Moddable's ESP32 `disconnect` message carries for a refused handshake (a wrong password). */
export const HANDSHAKE_FAILED = -1;

const netGet = Net.get as (what: string, iface?: string) => unknown;
const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join(":");

/** One scan: every AP in reach. */
export function scan(): Promise<ScannedAp[]> {
  return new Promise((resolve) => {
    const found: ScannedAp[] = [];
    try {
      WiFi.scan({}, (item) => {
        if (!item) return resolve(found);
        const ecn = ECN.indexOf(item.authentication);
        const channel = (item as { channel?: number }).channel ?? 0;
        found.push({ ecn: ecn < 0 ? 3 : ecn, ssid: item.ssid, rssi: item.rssi, mac: hex(item.bssid), channel });
      });
    } catch {
      resolve(found); // the radio is off, or not in station mode
    }
  });
}

interface Join {
  finish(code: JoinOutcome): void;
  /** The scan before the join found no such AP: a failure is 3, not 4. */
  noAp: boolean;
}

export class Station {
  /** Seconds between reconnections after a drop (0: none). */
  reconnectInterval = 1;
  /** Reconnections to try after a drop before giving up (0: no end). */
  reconnectCount = 0;
  /** Reconnections tried since the last drop. */
  private tries = 0;
  private linked = false;
  /** The AP to be on: a drop brings reconnections while it is set. */
  private wanted?: JoinTarget;
  private join?: Join;
  private retry?: Timer;

  get joining(): boolean {
    return this.join !== undefined || this.retry !== undefined;
  }

  get joined(): JoinedAp | undefined {
    if (!this.linked) return undefined;
    const field = (name: string) => netGet(name, "station");
    return {
      ssid: String(field("SSID") ?? ""),
      bssid: String(field("BSSID") ?? "").toLowerCase(),
      channel: Number(field("CHANNEL") ?? 0),
      rssi: Number(field("RSSI") ?? 0),
    };
  }

  /** A message from Moddable's `wifi` monitor; `reason` comes with `disconnect`. */
  message(message: string, reason?: number): void {
    if (message === "connect") this.linked = true;
    else if (message === "gotIP") {
      this.tries = 0;
      this.join?.finish(0);
    }
    else if (message === "disconnect") {
      const was = this.linked;
      this.linked = false;
      if (!was && this.join) this.join.finish(reason === HANDSHAKE_FAILED ? 2 : this.join.noAp ? 3 : 4);
      this.scheduleRetry();
    }
  }

  async connect(target: JoinTarget, timeoutMs: number): Promise<JoinOutcome> {
    this.cancel();
    this.wanted = target;
    this.tries = 0;
    const aps = (await scan()).filter((ap) => ap.ssid === target.ssid && (!target.bssid || ap.mac === target.bssid));
    if (this.wanted !== target) return 4; // another join, or a leave, came meanwhile
    return new Promise<JoinOutcome>((resolve) => {
      const timer = Timer.set(() => {
        this.join?.finish(1);
        disconnect();
      }, timeoutMs);
      const join: Join = {
        noAp: !aps.length,
        finish: (code) => {
          if (this.join !== join) return;
          Timer.clear(timer);
          this.join = undefined;
          if (code) this.wanted = undefined;
          resolve(code);
        },
      };
      this.join = join;
      if (!connect(target)) join.finish(4);
    });
  }

  leave(): void {
    this.cancel();
    this.wanted = undefined;
    disconnect();
  }

  /** The radio left station mode: no joins, no retries. */
  stop(): void {
    this.cancel();
    this.wanted = undefined;
    this.linked = false;
  }

  /** Ends a join under way (its promise settles as failed) and a retry waiting. */
  private cancel(): void {
    this.join?.finish(4);
    if (this.retry) Timer.clear(this.retry);
    this.retry = undefined;
  }

  /** After a drop, or a retry that failed: try again in reconnectInterval seconds. */
  private scheduleRetry(): void {
    if (!this.wanted || this.join || this.retry || !this.reconnectInterval) return;
    if (this.reconnectCount && this.tries >= this.reconnectCount) return;
    this.retry = Timer.set(() => {
      this.retry = undefined;
      this.tries++;
      if (this.wanted && !this.linked && !connect(this.wanted)) this.scheduleRetry();
    }, this.reconnectInterval * 1000);
  }
}

/** WiFi.connect; false when the radio refuses (not in station mode). */
function connect(target: JoinTarget): boolean {
  try {
    // Moddable's connect takes the BSSID as 6 bytes: only that AP of the SSID.
    const bssid = target.bssid ? Uint8Array.from(target.bssid.split(":"), (h) => parseInt(h, 16)).buffer : undefined;
    WiFi.connect({ ssid: target.ssid, password: target.password || undefined, ...(bssid && { bssid }) });
    return true;
  } catch {
    return false;
  }
}

function disconnect(): void {
  try {
    WiFi.disconnect();
  } catch {
    // already off
  }
}
