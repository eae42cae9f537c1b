// ESP-AT's SSL client settings, per link id: CIPSSLCCONF (auth mode, client certificate, CA),
// CIPSSLCSNI, CIPSSLCCN, CIPSSLCALPN, CIPSSLCPSK and CIPSSLCPSKHEX. Each keeps until changed and
// applies to the next AT+CIPSTART="SSL" on that id (links.ts turns them into TLS options).
// CIPSSLCCONF is saved to flash when AT+SYSSTORE=1, as ESP-AT saves it in NVS; the others are not.
//
// The table and its handlers are the module's own, not closures made at boot: preloaded, they
// stay in flash and cost the board's heap nothing.
import { decodeLatin1, type AtConsole, type CommandTable } from "./console";
import { isInt, type Param } from "./parser";
import type { Links, SslConf } from "./links";
import type { Settings } from "./settings";

/** ESP-AT's longest PSK and hint. */
const MAX_PSK = 32;
/** An ALPN protocol name is 1 to 255 bytes (RFC 7301); CIPSSLCALPN takes up to 5 of them. */
const MAX_ALPN = 5;

let links: Links;
let settings: Settings;

const isText = (p: Param, max: number): p is string => typeof p === "string" && p.length > 0 && p.length <= max;

const hexOf = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (text: string) => (/^([0-9a-fA-F]{2})*$/.test(text) ? Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16)) : undefined);
const latin1Bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** Whether a CIPSSLCCONF setting names only what is configured: modes 1 and 3 a PKI, 2 and 3 a CA. */
function usable(mode: number, pki: number, ca: number): boolean {
  const shows = mode === 1 || mode === 3;
  const checks = mode === 2 || mode === 3;
  return (!shows || links.pki[pki] !== undefined) && (!checks || links.cas[ca] !== undefined);
}

/** Flash's key for a link id's CIPSSLCCONF, `<auth mode>,<PKI number>,<CA number>`. */
const savedKey = (id: number) => `sslconf${id}`;

/** The link ids the console has: one with CIPMUX=0, else the board's links. */
const ids = () => (links.mux ? links.max : 1);

/**
 * With CIPMUX=1 the first parameter is the link id, 0 to max, max meaning every one; with
 * CIPMUX=0 it is link 0. Returns the ids and the other parameters.
 */
function target(params: Param[]): [number[], Param[]] | undefined {
  if (!links.mux) return [[0], params];
  const [id, ...rest] = params;
  if (!isInt(id, 0, links.max)) return undefined;
  return [id === links.max ? Array.from({ length: links.max }, (_, i) => i) : [id], rest];
}

/** Applies `change` to the settings of the ids the command names; returns the ids, or false. */
function setEach(params: Param[], change: (rest: Param[]) => ((conf: SslConf) => void) | false): number[] | false {
  const which = target(params);
  if (!which) return false;
  const apply = change(which[1]);
  if (!apply) return false;
  for (const id of which[0]) apply(links.ssl[id]!);
  return which[0];
}

/** `+<name>:<id>,<value>` for each link id with a value. */
function printEach(at: AtConsole, name: string, value: (conf: SslConf) => string | undefined): void {
  for (let id = 0; id < ids(); id++) {
    const text = value(links.ssl[id]!);
    if (text !== undefined) at.print(`+${name}:${id},${text}`);
  }
}

/** CIPSSLCPSK and CIPSSLCPSKHEX: `[<id>,]<"psk">,<"hint">`; an empty PSK clears it. */
function setPsk(params: Param[], decode: (text: string) => Uint8Array | undefined): boolean {
  return (
    setEach(params, ([text, hint, ...rest]) => {
      if (rest.length || typeof text !== "string" || typeof hint !== "string" || hint.length > MAX_PSK) return false;
      const key = decode(text);
      if (!key || key.length > MAX_PSK) return false;
      return (conf) => void (conf.psk = key.length ? { key, hint } : undefined);
    }) !== false
  );
}

const SSL_COMMANDS: CommandTable = {
  // `[<id>,]<auth mode>[,<PKI number>][,<CA number>]`: 0 none, 1 the client certificate, 2 the
  // server's checked against the CA, 3 both. A number that names nothing configured is refused.
  "+CIPSSLCCONF": {
    query: (at) => {
      for (let id = 0; id < ids(); id++) {
        const conf = links.ssl[id]!;
        at.print(`+CIPSSLCCONF:${id},${conf.mode},${conf.pki},${conf.ca}`);
      }
    },
    set: (_at, params) => {
      const changed = setEach(params, ([mode, pki = 0, ca = 0, ...rest]) => {
        if (rest.length || !isInt(mode, 0, 3) || !isInt(pki, 0, 255) || !isInt(ca, 0, 255) || !usable(mode, pki, ca)) return false;
        return (conf) => Object.assign(conf, { mode, pki, ca });
      });
      if (!changed) return false;
      for (const id of changed) {
        const conf = links.ssl[id]!;
        settings.keep(savedKey(id), `${conf.mode},${conf.pki},${conf.ca}`);
      }
    },
  },
  // `[<id>,]<"sni">`: the name sent in ClientHello instead of the host.
  "+CIPSSLCSNI": {
    query: (at) => printEach(at, "CIPSSLCSNI", (c) => c.sni && `"${c.sni}"`),
    set: (_at, params) => setEach(params, ([sni, ...rest]) => !rest.length && isText(sni, 253) && ((conf) => void (conf.sni = sni))) !== false,
  },
  // `[<id>,]<"common name">`: the name the server's certificate must carry (auth modes 2 and 3).
  "+CIPSSLCCN": {
    query: (at) => printEach(at, "CIPSSLCCN", (c) => c.cn && `"${c.cn}"`),
    set: (_at, params) => setEach(params, ([cn, ...rest]) => !rest.length && isText(cn, 253) && ((conf) => void (conf.cn = cn))) !== false,
  },
  // `[<id>,]<counts>[,<"alpn">]...`: 0 clears; 1 to 5 protocols, as many as <counts> says.
  "+CIPSSLCALPN": {
    query: (at) => {
      for (let id = 0; id < ids(); id++) at.print(`+CIPSSLCALPN:${[id, ...(links.ssl[id]!.alpn ?? []).map((p) => `"${p}"`)].join(",")}`);
    },
    set: (_at, params) =>
      setEach(params, ([counts, ...names]) => {
        if (!isInt(counts, 0, MAX_ALPN) || names.length !== counts || !names.every((p) => isText(p, 255))) return false;
        return (conf) => void (conf.alpn = counts ? (names as string[]) : undefined);
      }) !== false,
  },
  "+CIPSSLCPSK": {
    query: (at) => printEach(at, "CIPSSLCPSK", (c) => c.psk && `"${decodeLatin1(c.psk.key)}","${c.psk.hint}"`),
    set: (_at, params) => setPsk(params, latin1Bytes),
  },
  // The same with the PSK in hex (two digits a byte), so it may hold `\0`.
  "+CIPSSLCPSKHEX": {
    query: (at) => printEach(at, "CIPSSLCPSKHEX", (c) => c.psk && `"${hexOf(c.psk.key)}","${c.psk.hint}"`),
    set: (_at, params) => setPsk(params, fromHex),
  },
};

/** The SSL commands over the console's links; CIPSSLCCONF starts as flash has it. */
export function sslCommands(consoleLinks: Links, consoleSettings: Settings): CommandTable {
  links = consoleLinks;
  settings = consoleSettings;
  // What flash keeps, unless the config has changed under it since.
  for (let id = 0; id < links.max; id++) {
    const [mode, pki, ca] = settings.get(savedKey(id), "").split(",").map(Number);
    if (isInt(mode, 0, 3) && isInt(pki, 0, 255) && isInt(ca, 0, 255) && usable(mode, pki, ca)) Object.assign(links.ssl[id]!, { mode, pki, ca });
  }
  return SSL_COMMANDS;
}
