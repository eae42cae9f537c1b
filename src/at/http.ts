// ESP-AT's HTTP commands (HTTP_AT_Commands.rst): HTTPCLIENT, HTTPGETSIZE, HTTPCGET, HTTPCPOST,
// HTTPCPUT, HTTPURLCFG, HTTPCHEAD, HTTPCFG, and the doc's error codes (`ERR CODE:0x010a7xxx`
// with AT+SYSLOG=1). The protocol is src/http's client, over xsock/socket.
import { HttpError, parseUrl, request, type Request, type Response, type Url } from "xsock/http";
import type { TlsOptions } from "xsock/socket";
import type { Pki } from "./cas";
import { decodeLatin1, encodeLatin1, REPLIED, type AtConsole, type CommandTable } from "./console";
import { isInt, type Param } from "./parser";

/** The doc's HTTP error codes: this one is "Connection Failed"; it plus a status of 400 and over is that status's. */
const CONNECTION_FAILED = 0x010a7000;
/** esp_http_client's defaults, and ESP-AT's for the commands' <tx size>, <rx size> and <timeout>. */
const TIMEOUT = { default: 5000, max: 180000 };
const BUFFER = { default: 2048, max: 10240 };
/** HTTPCLIENT's <opt>, 1 to 5. */
const METHODS = ["HEAD", "GET", "POST", "PUT", "DELETE"] as const;
/** HTTPCLIENT's <content-type>, 0 to 3. */
const CONTENT_TYPES = ["application/x-www-form-urlencoded", "application/json", "multipart/form-data", "text/xml"];
/** HTTPURLCFG's <url length>: 0 clears, else 8 to 8192. */
const URL_LENGTH = { min: 8, max: 8192 };
/** The largest HTTPCHEAD header taken. */
const MAX_HEADER = 8192;

export interface HttpDeps {
  at: AtConsole;
  /** The UART's backpressure: a body goes out no faster than the UART takes it. */
  uart: { whenRoom(): Promise<void> };
  /** The station (or Ethernet) has an address: a server can be reached. */
  online: () => boolean;
  /** Free heap, in bytes: HTTPCPOST's and HTTPCPUT's <length> may not be more (the doc's limit). */
  freeHeap: () => number;
  /** CA certificates (DER) and client certificates from the app's config, by number. */
  cas: readonly (ArrayBuffer | undefined)[];
  pki: readonly (Pki | undefined)[];
}

// The table and its handlers are the module's own, not closures made at boot: preloaded, they
// cost no heap. httpCommands gives them the board.
let deps: HttpDeps;
/** AT+HTTPURLCFG's URL, used when a command's <"url"> is "". */
let presetUrl = "";
/** AT+HTTPCHEAD's headers, as entered (`key: value`), sent with every request. */
let globalHeaders: string[] = [];
/** AT+HTTPCFG's TLS: no check by default (auth mode 0). */
let tls: TlsOptions = { verify: false };

/** `key: value` as a header; undefined without a key. */
const splitHeader = (text: string): [string, string] | undefined => {
  const colon = text.indexOf(":");
  const key = text.slice(0, colon).trim();
  return colon > 0 && key ? [key, text.slice(colon + 1).trim()] : undefined;
};

/** The request's headers: the command's, then HTTPCHEAD's, which win over a command's of the same key. */
function headers(own: [string, string][]): [string, string][] {
  const all = [...own];
  for (const text of globalHeaders) {
    const [key, value] = splitHeader(text)!;
    const same = all.findIndex(([k]) => k.toLowerCase() === key.toLowerCase());
    if (same >= 0) all.splice(same, 1);
    all.push([key, value]);
  }
  return all;
}

/** A command's <"url">, or HTTPURLCFG's when it is "". */
const urlParam = (p: Param): Url | undefined => (typeof p === "string" ? parseUrl(p || presetUrl) : undefined);

/** <tx size>, <rx size> or <timeout>: its default when left out, undefined when out of range. */
const optional = (p: Param, fallback: number, max: number): number | undefined => (p === undefined ? fallback : isInt(p, 0, max) ? p : undefined);

/** Header parameters: strings with a key. */
const headerParams = (params: Param[]): [string, string][] | undefined => {
  const out: [string, string][] = [];
  for (const p of params) {
    const header = typeof p === "string" ? splitHeader(p) : undefined;
    if (!header) return undefined;
    out.push(header);
  }
  return out;
};

/** `+<NAME>:<size>,<data>` and CR-LF: a piece of the response, as ESP-AT's HTTP_EVENT_ON_DATA prints it. */
async function emit(name: string, data: Uint8Array): Promise<void> {
  await deps.uart.whenRoom();
  const head = encodeLatin1(`${name}:${data.length},`);
  const line = new Uint8Array(head.length + data.length + 2);
  line.set(head);
  line.set(data, head.length);
  line.set([13, 10], head.length + data.length);
  deps.at.unsolicited(line);
}

/**
 * Runs a request, printing its body as `<name>` pieces (HEAD: its headers, one a piece, as
 * HTTP_EVENT_ON_HEADER prints them). Returns the error code to report, or 0 for success:
 * a status of 400 and over is reported as the doc's 0x7xxx code.
 */
async function perform(name: string, req: Omit<Request, "tls" | "follow" | "chunk"> & { chunk?: number }): Promise<number> {
  if (!deps.online()) return CONNECTION_FAILED;
  let response: Response;
  try {
    response = await request({ ...req, tls, follow: true, chunk: req.chunk || BUFFER.default }, (bytes) => emit(name, bytes));
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    return CONNECTION_FAILED;
  }
  if (req.method === "HEAD") for (const [key, value] of response.headers) await emit(name, encodeLatin1(`${key}: ${value}`));
  return response.status >= 400 ? CONNECTION_FAILED + response.status : 0;
}

const fail = (code: number): typeof REPLIED => {
  deps.at.error(code);
  return REPLIED;
};

/** HTTPCPOST and HTTPCPUT: `>`, <length> bytes, the response's pieces, then SEND OK or SEND FAIL. */
const sendData = (method: "POST" | "PUT", name: string) =>
  async function (a: AtConsole, [urlText, length, count, ...rest]: Param[]): Promise<boolean | typeof REPLIED> {
    const url = urlParam(urlText);
    if (!url || !isInt(length, 1, deps.freeHeap())) return false;
    if (count === undefined ? rest.length : !isInt(count, 0, 32) || rest.length !== count) return false;
    const own = headerParams(rest);
    if (!own) return false;
    // The doc: "the default type of content-type is application/x-www-form-urlencoded".
    if (!own.some(([k]) => k.toLowerCase() === "content-type")) own.unshift(["Content-Type", CONTENT_TYPES[0]]);
    const body = await a.payload(length);
    if (!body) {
      a.send("\r\nSEND FAIL\r\n");
      return REPLIED;
    }
    const code = await perform(name, { method, url, headers: headers(own), body, timeout: TIMEOUT.default });
    if (code && a.syslog) a.send(`ERR CODE:0x${code.toString(16).padStart(8, "0")}\r\n`);
    a.send(code ? "\r\nSEND FAIL\r\n" : "\r\nSEND OK\r\n");
    return REPLIED;
  };

const HTTP_COMMANDS: CommandTable = {
  "+HTTPCLIENT": {
    set: async (_a, params) => {
      const [opt, type, urlText, host, path, transport, ...rest] = params;
      if (!isInt(opt, 1, 5) || !isInt(type, 0, 3) || !isInt(transport ?? 1, 1, 2)) return false;
      if ((urlText !== undefined && typeof urlText !== "string") || (host !== undefined && typeof host !== "string") || (path !== undefined && typeof path !== "string")) return false;
      // <"url"> wins; then HTTPURLCFG's; then <"host"> and <"path"> over <transport_type>.
      const text = urlText || presetUrl || (host ? `${transport === 2 ? "https" : "http"}://${host}${path?.startsWith("/") ? path : `/${path ?? ""}`}` : "");
      const url = parseUrl(text);
      if (!url) return false;
      const method = METHODS[opt - 1];
      // <"data"> is there for POST only.
      const data = method === "POST" ? rest.shift() : "";
      if (typeof data !== "string") return false;
      const own = headerParams(rest);
      if (!own) return false;
      if (!own.some(([k]) => k.toLowerCase() === "content-type")) own.unshift(["Content-Type", CONTENT_TYPES[type]]);
      const body = method === "POST" ? encodeLatin1(data) : undefined;
      const code = await perform("+HTTPCLIENT", { method, url, headers: headers(own), body, timeout: TIMEOUT.default });
      return code ? fail(code) : undefined;
    },
  },
  "+HTTPGETSIZE": {
    set: async (a, [urlText, tx, rx, timeoutMs, ...rest]) => {
      const url = urlParam(urlText);
      const timeout = optional(timeoutMs, TIMEOUT.default, TIMEOUT.max);
      if (!url || rest.length || optional(tx, 0, BUFFER.max) === undefined || optional(rx, 0, BUFFER.max) === undefined || timeout === undefined) return false;
      if (!deps.online()) return false;
      let response: Response;
      try {
        // esp_http_client_open and fetch_headers: a GET whose headers alone are read, not redirected.
        response = await request({ method: "GET", url, headers: headers([]), timeout, tls, follow: false, headersOnly: true, chunk: BUFFER.default }, () => {});
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        return false;
      }
      // ESP-AT prints fetch_headers' length whatever the status: 0 when there is none (chunked).
      a.print(`+HTTPGETSIZE:${response.length ?? 0}`);
    },
  },
  "+HTTPCGET": {
    set: async (_a, [urlText, tx, rx, timeoutMs, ...rest]) => {
      const url = urlParam(urlText);
      const chunk = optional(rx, BUFFER.default, BUFFER.max);
      const timeout = optional(timeoutMs, TIMEOUT.default, TIMEOUT.max);
      if (!url || rest.length || optional(tx, 0, BUFFER.max) === undefined || chunk === undefined || timeout === undefined) return false;
      const code = await perform("+HTTPCGET", { method: "GET", url, headers: headers([]), timeout, chunk });
      return code ? fail(code) : undefined;
    },
  },
  "+HTTPCPOST": { set: sendData("POST", "+HTTPCPOST") },
  "+HTTPCPUT": { set: sendData("PUT", "+HTTPCPUT") },
  "+HTTPURLCFG": {
    query: (a) => {
      if (presetUrl) a.print(`+HTTPURLCFG:${presetUrl.length},${presetUrl}`);
    },
    set: async (a, [length, ...rest]) => {
      if (rest.length || !(length === 0 || isInt(length, URL_LENGTH.min, URL_LENGTH.max))) return false;
      if (length === 0) {
        presetUrl = "";
        return;
      }
      const data = await a.payload(length);
      if (!data) {
        a.error();
        return REPLIED;
      }
      presetUrl = decodeLatin1(data);
      a.send("\r\nSET OK\r\n");
      return REPLIED;
    },
  },
  "+HTTPCHEAD": {
    query: (a) => globalHeaders.forEach((text, i) => a.print(`+HTTPCHEAD:${i},"${text}"`)),
    set: async (a, [length, ...rest]) => {
      if (rest.length || !isInt(length, 0, MAX_HEADER)) return false;
      if (length === 0) {
        globalHeaders = [];
        return;
      }
      const data = await a.payload(length);
      if (!data) {
        a.error();
        return REPLIED;
      }
      const text = decodeLatin1(data);
      const header = splitHeader(text);
      if (!header) {
        a.error();
        return REPLIED;
      }
      // A key set again takes the new value in its place (ESP-AT's at_http_insert_or_update_header, by strcmp).
      const same = globalHeaders.findIndex((h) => splitHeader(h)![0] === header[0]);
      globalHeaders = same >= 0 ? globalHeaders.map((h, i) => (i === same ? text : h)) : [...globalHeaders, text];
      a.send("\r\nOK\r\n");
      return REPLIED;
    },
  },
  "+HTTPCFG": {
    set: (_a, [mode, pkiNumber, caNumber, ...rest]) => {
      if (rest.length || !isInt(mode, 0, 3)) return false;
      const shows = mode === 1 || mode === 3;
      const checks = mode === 2 || mode === 3;
      if (shows ? !isInt(pkiNumber, 0, 255) : pkiNumber !== undefined && !isInt(pkiNumber, 0, 255)) return false;
      if (checks ? !isInt(caNumber, 0, 255) : caNumber !== undefined && !isInt(caNumber, 0, 255)) return false;
      const pki = shows ? deps.pki[pkiNumber as number] : undefined;
      const ca = checks ? deps.cas[caNumber as number] : undefined;
      if ((shows && !pki) || (checks && !ca)) return false; // ESP-AT: NO CERT FOUND, NO CA FOUND
      tls = { verify: checks, ...(ca && { ca }), ...(pki && { certificate: pki.cert, key: pki.key }) };
    },
  },
};

export function httpCommands(board: HttpDeps): CommandTable {
  deps = board;
  return HTTP_COMMANDS;
}
