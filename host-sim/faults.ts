// Faults the simulator can inject: `--fault link-drop@5s+2s`, `--fault dhcp-fail`,
// `--fault can-bus-off@3s`.

export const FAULT_KINDS = ["link-drop", "dhcp-fail", "can-bus-off"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** Milliseconds after boot; now (or at boot) when left out. */
  at?: number;
  /**
   * How long it lasts, in ms: a link drop keeps the AP out of reach that long; without it, DHCP
   * fails for good; a bus-off controller cannot recover before it is over.
   */
  for?: number;
}

/** `100ms`, `2s`, `1.5s` or a bare number of milliseconds. */
export function parseDuration(text: string | number): number {
  if (typeof text === "number") return text;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text);
  if (!m) throw new Error(`bad duration "${text}": use 100ms, 2s or a number of milliseconds`);
  return Math.round(Number(m[1]) * (m[2] === "s" ? 1000 : 1));
}

/** `KIND[@WHEN][+FOR]`, as --fault takes it. */
export function parseFault(spec: string): FaultSpec {
  const m = /^([a-z-]+)(?:@([\d.]+(?:ms|s)?))?(?:\+([\d.]+(?:ms|s)?))?$/.exec(spec);
  if (!m || !(FAULT_KINDS as readonly string[]).includes(m[1]))
    throw new Error(`bad fault "${spec}": use ${FAULT_KINDS.join(" or ")}, with @WHEN and +FOR if wanted (link-drop@5s+2s)`);
  return { kind: m[1] as FaultKind, at: m[2] === undefined ? undefined : parseDuration(m[2]), for: m[3] === undefined ? undefined : parseDuration(m[3]) };
}

/** What the simulated network is suffering now. It outlives a board restart. */
export class NetworkFaults {
  private apDownUntil = 0;
  private dhcpDownUntil = 0;

  /** The access points are out of reach: joins fail as if there were none. */
  get apDown(): boolean {
    return Date.now() < this.apDownUntil;
  }

  /** Milliseconds until the link drop is over (0 when there is none). */
  get linkDownFor(): number {
    return Math.max(0, this.apDownUntil - Date.now());
  }

  /** Joins associate but get no address. */
  get dhcpDown(): boolean {
    return Date.now() < this.dhcpDownUntil;
  }

  /** The faults under way, as the control socket's status reports them. */
  active(): string[] {
    const dhcp = this.dhcpDownUntil === Infinity ? "dhcp-fail" : this.dhcpDown ? `dhcp-fail (${this.dhcpDownUntil - Date.now()} ms left)` : "";
    return [this.apDown ? `link-drop (${this.linkDownFor} ms left)` : "", dhcp].filter(Boolean);
  }

  /** Records a network fault; the caller drops the link for a link-drop. */
  apply(kind: FaultKind, forMs?: number): void {
    if (kind === "link-drop") this.apDownUntil = Date.now() + (forMs ?? 0);
    else if (kind === "dhcp-fail") this.dhcpDownUntil = forMs === undefined ? Infinity : Date.now() + forMs;
  }
}
