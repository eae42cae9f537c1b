// AT+SYSMFG: the manufacturing NVS namespaces that hold the PKI (Basic_AT_Commands.rst, and
// sysmfg_at_examples.rst's "PKI Configuration"): erase, read and write their key-value pairs.
// ESP-AT keeps them in its mfg_nvs partition; here they live in flash through Moddable's
// `preference`, one domain per namespace (`mfg.<namespace>`), which AT+RESTORE does not clear.
//
// What they hold is used from then on: SSL links take `client_ca.<n>` as CIPSSLCCONF's CA n and
// `client_cert.<n>` / `client_key.<n>` as its PKI n, and MQTT's TLS schemes take `mqtt_ca`,
// `mqtt_cert` and `mqtt_key`. The build's `config.ca`, `clientCert` and `clientKey` stay behind
// them as the defaults: erasing a key brings the build's entry of that number back.
import Preference from "preference";
import { decodeLatin1, encodeLatin1, REPLIED, type AtConsole, type CommandTable } from "./console";
import { isInt, type Param } from "./parser";
import { readDer, type Pki } from "./cas";

/** The namespaces, in AT+SYSMFG?'s order (the doc's example). server_* are kept only: the console has no TLS server. */
const NAMESPACES = ["client_cert", "client_key", "client_ca", "server_cert", "server_key", "server_ca", "mqtt_cert", "mqtt_key", "mqtt_ca"];

/** `<type>`: 1 u8, 2 i8, 3 u16, 4 i16, 5 u32, 6 i32 (their ranges), 7 string, 8 binary. */
const RANGES: [number, number][] = [[0, 255], [-128, 127], [0, 65535], [-32768, 32767], [0, 4294967295], [-2147483648, 2147483647]];
/** The namespaces of SSL links' CAs and client certificates: their keys are numbered (`client_ca.<n>`). */
const CLIENT = ["client_ca", "client_cert", "client_key"];
const STRING = 7;
const BINARY = 8;

/** The longest value written over the UART (bytes): a certificate chain fits. */
const MAX_VALUE = 8192;
/** Moddable's preference holds up to 4000 bytes a value on the ESP32 (NVS): longer values go in pieces. */
const PIECE = 4000;
/**
 * NVS keys are 15 characters at most; a value's second and later pieces are at `<key>~<n>`, so
 * keys are 13 at most, and hold no `~`.
 */
const MAX_KEY = 13;

/** A value as flash keeps it: its type, and its bytes (a number as its decimal text). */
interface Value {
  type: number;
  data: Uint8Array;
}

const domainOf = (namespace: string) => `mfg.${namespace}`;
const pieceKey = (key: string, n: number) => `${key}~${n}`;
const isKey = (p: Param): p is string => typeof p === "string" && p.length > 0 && p.length <= MAX_KEY && !p.includes("~");
const isNamespace = (p: Param): p is string => typeof p === "string" && NAMESPACES.includes(p);

/** The value at key, or undefined. Its first piece starts with its type and its number of pieces. */
function read(namespace: string, key: string): Value | undefined {
  const domain = domainOf(namespace);
  const head = Preference.get(domain, key);
  if (!(head instanceof ArrayBuffer) || head.byteLength < 2) return undefined;
  const first = new Uint8Array(head);
  const pieces = [first.subarray(2)];
  for (let n = 1; n < first[1]!; n++) {
    const piece = Preference.get(domain, pieceKey(key, n));
    if (!(piece instanceof ArrayBuffer)) return undefined;
    pieces.push(new Uint8Array(piece));
  }
  const data = new Uint8Array(pieces.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    data.set(p, at);
    at += p.length;
  }
  return { type: first[0]!, data };
}

function write(namespace: string, key: string, value: Value): void {
  erase(namespace, key);
  const domain = domainOf(namespace);
  const count = Math.max(1, Math.ceil((value.data.length + 2) / PIECE));
  const head = new Uint8Array(Math.min(PIECE, value.data.length + 2));
  head[0] = value.type;
  head[1] = count;
  head.set(value.data.subarray(0, head.length - 2), 2);
  for (let n = 1; n < count; n++) Preference.set(domain, pieceKey(key, n), value.data.slice(n * PIECE - 2, (n + 1) * PIECE - 2).buffer);
  Preference.set(domain, key, head.buffer); // last: a value is there only once it is whole
}

/** Erases a key and its pieces; false when there was none. */
function erase(namespace: string, key: string): boolean {
  const domain = domainOf(namespace);
  const head = Preference.get(domain, key);
  if (head === undefined) return false;
  Preference.delete(domain, key); // first: a value is gone once this is
  const count = head instanceof ArrayBuffer && head.byteLength >= 2 ? new Uint8Array(head)[1]! : 1;
  for (let n = 1; n < count; n++) Preference.delete(domain, pieceKey(key, n));
  return true;
}

/** The keys a namespace holds, without pieces. */
const keysOf = (namespace: string) => Preference.keys(domainOf(namespace)).filter((k) => !k.includes("~"));

/**
 * The certificates and keys TLS uses: the build's, with what AT+SYSMFG wrote over them. `cas` and
 * `pki` are the arrays the links hold (CIPSSLCCONF's numbers); SYSMFG keeps them up to date.
 */
export class Certificates {
  readonly cas: (ArrayBuffer | undefined)[];
  readonly pki: (Pki | undefined)[];

  constructor(
    private readonly defaults: { cas: readonly (ArrayBuffer | undefined)[]; certs: readonly (ArrayBuffer | undefined)[]; keys: readonly (ArrayBuffer | undefined)[] },
  ) {
    this.cas = defaults.cas.slice();
    this.pki = [];
    for (let n = 0; n < Math.max(defaults.certs.length, defaults.keys.length); n++) this.refresh("client_cert", n);
    for (const namespace of CLIENT) {
      for (const key of keysOf(namespace)) {
        const n = numberOf(namespace, key);
        if (n !== undefined) this.refresh(namespace, n);
      }
    }
  }

  /** MQTT's CA (schemes 3 and 5): `mqtt_ca`, or the build's CA 0. */
  get mqttCa(): ArrayBuffer | undefined {
    return stored("mqtt_ca", "mqtt_ca", "CERTIFICATE", this.defaults.cas[0]);
  }

  /** MQTT's client certificate and key (schemes 4 and 5): `mqtt_cert` and `mqtt_key`, or the build's PKI 0. */
  get mqttPki(): Pki | undefined {
    const cert = stored("mqtt_cert", "mqtt_cert", "CERTIFICATE", this.defaults.certs[0]);
    const key = stored("mqtt_key", "mqtt_key", "PRIVATE KEY", this.defaults.keys[0]);
    return cert && key ? { cert, key } : undefined;
  }

  /** Number n of a client namespace (CA n, or PKI n for a certificate or key) again, after a write or an erase. */
  refresh(namespace: string, n: number): void {
    if (namespace === "client_ca") {
      this.cas[n] = stored(namespace, `client_ca.${n}`, "CERTIFICATE", this.defaults.cas[n]);
      return;
    }
    const cert = stored("client_cert", `client_cert.${n}`, "CERTIFICATE", this.defaults.certs[n]);
    const key = stored("client_key", `client_key.${n}`, "PRIVATE KEY", this.defaults.keys[n]);
    this.pki[n] = cert && key ? { cert, key } : undefined;
  }
}

/** `client_ca.<n>` and the like: n (0 to 255, CIPSSLCCONF's numbers), or undefined. */
function numberOf(namespace: string, key: string): number | undefined {
  const m = /^([a-z_]+)\.(\d{1,3})$/.exec(key);
  const n = m && m[1] === namespace ? Number(m[2]) : -1;
  return n >= 0 && n <= 255 ? n : undefined;
}

/** A stored certificate or key, as DER: `fallback` (the build's) when there is none, undefined when it is not one. */
function stored(namespace: string, key: string, label: "CERTIFICATE" | "PRIVATE KEY", fallback: ArrayBuffer | undefined): ArrayBuffer | undefined {
  const value = read(namespace, key);
  if (!value) return fallback;
  return value.type === STRING || value.type === BINARY ? readDer(value.data, label) : undefined;
}

let certificates: Certificates;

/** After a write or an erase (of one key, or of the namespace): the links see the change. */
function changed(namespace: string, key?: string): void {
  if (!CLIENT.includes(namespace)) return;
  const numbers = key === undefined ? (namespace === "client_ca" ? certificates.cas : certificates.pki).map((_, n) => n) : [numberOf(namespace, key)];
  for (const n of numbers) if (n !== undefined) certificates.refresh(namespace, n);
}

const listNamespaces = (at: AtConsole) => {
  for (const namespace of NAMESPACES) at.print(`+SYSMFG:"${namespace}"`);
};

/** `+SYSMFG:"<namespace>","<key>",<type>,<length>,<value>`, the value's bytes as they are. */
function printValue(at: AtConsole, namespace: string, key: string, type: number, data: Uint8Array): void {
  at.send(`+SYSMFG:"${namespace}","${key}",${type},${data.length},`);
  // A piece at a time: a certificate's bytes are not held twice more as one string and its copy.
  for (let i = 0; i < data.length; i += 1024) at.send(decodeLatin1(data.subarray(i, i + 1024)));
  at.send("\r\n");
}

const SYSMFG_COMMANDS: CommandTable = {
  "+SYSMFG": {
    query: listNamespaces,
    set: async (at, params) => {
      const [operation, namespace, key, ...rest] = params;
      if (operation === 1 && params.length === 1) return listNamespaces(at);
      if (!isNamespace(namespace) || (key !== undefined && !isKey(key))) return false;
      if (operation === 0) {
        // `0,<namespace>[,<key>]`: that key, or every key of the namespace.
        if (rest.length) return false;
        if (key === undefined) for (const k of keysOf(namespace)) erase(namespace, k);
        else if (!erase(namespace, key)) return false;
        changed(namespace, key);
        return;
      }
      if (operation === 1) {
        // `1,<namespace>[,<key>][,<offset>,<length>]`
        if (key === undefined) {
          if (rest.length) return false;
          for (const k of keysOf(namespace)) at.print(`+SYSMFG:"${namespace}","${k}",${read(namespace, k)?.type ?? BINARY}`);
          return;
        }
        const value = read(namespace, key);
        if (!value) return false;
        let data = value.data;
        if (rest.length) {
          const [offset, length, ...extra] = rest;
          if (extra.length || !isInt(offset, 0, data.length - 1) || !isInt(length, 1, data.length - offset)) return false;
          data = data.subarray(offset, offset + length);
        }
        printValue(at, namespace, key, value.type, data);
        return;
      }
      if (operation !== 2 || key === undefined) return false;
      // `2,<namespace>,<key>,<type>,<value>`: a number as it is; a string or binary of <value> bytes after `>`.
      const [type, value, ...extra] = rest;
      if (extra.length || !isInt(type, 1, BINARY)) return false;
      if (type < STRING) {
        const [min, max] = RANGES[type - 1]!;
        if (!isInt(value, min, max)) return false;
        write(namespace, key, { type, data: encodeLatin1(String(value)) });
        changed(namespace, key);
        return;
      }
      if (!isInt(value, 1, MAX_VALUE)) return false;
      const data = await at.payload(value);
      if (!data) {
        at.error();
        return REPLIED;
      }
      write(namespace, key, { type, data: data.slice() });
      changed(namespace, key);
    },
  },
};

/** AT+SYSMFG over flash, keeping `certs` (the links' CAs and client certificates) up to date. */
export function sysmfgCommands(certs: Certificates): CommandTable {
  certificates = certs;
  return SYSMFG_COMMANDS;
}
