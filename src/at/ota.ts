// ESP-AT's firmware updates over the network: AT+USEROTA (user_at_commands.rst; esp-at's
// at_user_cmd.c), AT+CIPFWVER and AT+CIUPDATE (TCP-IP_AT_Commands.rst; at_ota_cmd.c, whose
// protocol with its OTA server they speak). The image goes into the next app partition through
// Moddable's `ota` (xsock/ota); once it checks out, the board restarts into it, as ESP-AT does.
import OTA from "xsock/ota";
import { parseUrl, request, type Request, type Response, type Url } from "xsock/http";
import { decodeLatin1, encodeLatin1, REPLIED, type AtConsole, type CommandTable } from "./console";
import { isInt } from "./parser";

/** at_user_cmd.c's AT_USEROTA_URL_LEN_MAX. */
const URL_MAX = 8192;
/** at_user_cmd.c's and CIPFWVER's esp_http_client timeout, for each network step. */
const TIMEOUT = 10000;
/** at_ota_cmd.c's ESP_AT_OTA_TIMEOUT_MS: CIUPDATE's whole update (the doc: 3 minutes). */
const CIUPDATE_TIMEOUT = 180000;
/** esp_http_client's buffer_size in at_user_cmd.c. */
const CHUNK = 2048;
/** at_ota_cmd.c's AT_HTTP_CONTENT_LEN_MAX: the most of CIPFWVER's response it reads. */
const VERSIONS_MAX = 8192;
/** at_ota_cmd.c's ESP_AT_VERSION_LEN_MAX and ESP_AT_PARTITION_NAME_LEN_MAX. */
const NAME_MAX = 64;

/** CIUPDATE's <state>: 1 server found, 2 connected, 3 got the version, 4 done; -1 failed. */
const FAILED = -1;
/** `+CIPUPDATE:<state>`, as at_ota_cmd.c writes it straight to the UART. */
const report = (to: number) => deps.at.unsolicited(encodeLatin1(`+CIPUPDATE:${to}\r\n`));

export interface OtaDeps {
  at: AtConsole;
  /** Restarts once the UART has sent what it holds (the OK). */
  restart(): void;
  /** The OTA server of CIUPDATE's <ota mode> 0 and of CIPFWVER (`host[:port]`, the config's `otaServer`), and of mode 1 (`otaSslServer`, HTTPS). */
  server?: string;
  sslServer?: string;
  /** The token the server knows the board by (the config's `otaToken`). */
  token: string;
}

let deps: OtaDeps;
let state = 0;
let updating = false;

/**
 * Downloads an image into the next app partition and has the next boot start it; false when
 * any step fails (the partition is then left unused). Only a response's body whose head
 * `accept`s is written, and a redirect's never: as esp_https_ota, which wants a 200.
 */
async function download(req: Omit<Request, "chunk" | "onHead" | "tls" | "method">, accept: (head: Response) => boolean): Promise<boolean> {
  let ota: OTA;
  try {
    ota = new OTA();
  } catch {
    return false; // lin: no ota module
  }
  let writing = false;
  try {
    // TLS without a check, as ESP-AT's USEROTA has no CA (the doc advises against verification).
    const onHead = (head: Response) => void (writing = accept(head));
    await request({ ...req, method: "GET", tls: { verify: false }, chunk: CHUNK, onHead }, (bytes) => {
      if (writing) ota.write(bytes); // "write failed": not an image, or past the partition's end
    });
    if (!writing) throw new Error("no image");
    ota.complete(); // "end failed": the image is truncated or corrupted
    return true;
  } catch {
    ota.cancel();
    return false;
  }
}

/** A server's URL for a path, over HTTP or HTTPS; undefined without a server. */
const serverUrl = (server: string | undefined, secure: boolean, path: string): Url | undefined => (server ? parseUrl(`${secure ? "https" : "http"}://${server}${path}`) : undefined);

/** A GET's body as text, up to VERSIONS_MAX bytes; undefined when the exchange fails or its status is 400 and over. */
async function fetchText(url: Url, headers: [string, string][], timeout: number, follow: boolean, connected?: () => void): Promise<string | undefined> {
  let text = "";
  try {
    const onHead = () => connected?.();
    const response = await request({ method: "GET", url, headers, timeout, tls: { verify: false }, follow, chunk: CHUNK, onHead }, (bytes) => {
      if (text.length < VERSIONS_MAX) text += decodeLatin1(bytes.subarray(0, VERSIONS_MAX - text.length));
    });
    return response.status >= 400 ? undefined : text;
  } catch {
    return undefined;
  }
}

/**
 * at_ota_cmd.c's esp_at_upgrade_process: without a version, asks the server for the latest
 * (`rom_version`), then downloads `<name>.bin` of that version; `+CIPUPDATE:<state>` at each step.
 */
async function upgrade(mode: number, version: string | undefined, name: string): Promise<boolean> {
  const secure = mode === 1;
  const server = secure ? deps.sslServer : deps.server;
  const auth: [string, string][] = [["Authorization", `token ${deps.token}`]];
  const step = (to: number) => {
    state = to;
    report(to);
  };
  const versions = serverUrl(server, secure, "/v1/device/rom/?is_format_simple=true");
  if (!versions) return false;
  step(1);
  if (version === undefined) {
    const text = await fetchText(versions, auth, CIUPDATE_TIMEOUT, false, () => step(2));
    // at_ota_cmd.c reads `rom_version": "<version>",` from a response that also says "status".
    const found = text?.includes("status") ? /rom_version": "([^]*?)",/.exec(text) : undefined;
    if (!found) return false;
    version = found[1];
    step(3);
  }
  // Only the app partition: ESP-AT's custom partitions (mqtt_ca, client_cert, ...) are not here.
  if (name !== "ota") return false;
  const url = serverUrl(server, secure, `/v1/device/rom/?action=download_rom&version=${version}&filename=${name}.bin`);
  // A body with a Content-Length, as at_ota_cmd.c reads it.
  if (!url || !(await download({ url, headers: auth, timeout: CIUPDATE_TIMEOUT, follow: false }, (head) => head.length !== undefined))) return false;
  step(4);
  return true;
}

const OTA_COMMANDS: CommandTable = {
  "+USEROTA": {
    set: async (a, [length, ...rest]) => {
      if (rest.length || !isInt(length, 1, URL_MAX)) return false;
      const data = await a.payload(length);
      if (!data) {
        a.error();
        return REPLIED;
      }
      a.send(`\r\nRecv ${length} bytes\r\n`);
      // esp_http_client takes http and https URLs only.
      const url = parseUrl(decodeLatin1(data));
      if (!url || !(await download({ url, headers: [], timeout: TIMEOUT, follow: true }, (head) => head.status === 200))) return false;
      deps.restart();
    },
  },
  "+CIPFWVER": {
    query: async (a) => {
      const url = serverUrl(deps.server, false, "/v1/device/rom");
      const text = url && (await fetchText(url, [["Authorization", `token ${deps.token}`]], TIMEOUT, true));
      if (text === undefined) return false;
      // at_ota_cmd.c prints each `"version": "<version>"` with its quotes, up to the `", ` after it.
      for (const [, version] of text.matchAll(/"version": ("[^]*?"), /g)) a.print(`+CIPFWVER:${version}`);
    },
  },
  "+CIUPDATE": {
    query: (a) => a.print(`+CIPUPDATE:${state}`),
    execute: () => update(0, undefined, "ota", false),
    set: (_a, [mode, version, name, nonblocking, ...rest]) => {
      if (rest.length || !isInt(mode, 0, 1) || !isInt(nonblocking ?? 0, 0, 1)) return false;
      if ((version !== undefined && typeof version !== "string") || (name !== undefined && typeof name !== "string")) return false;
      if ((version ?? "").length > NAME_MAX || (name ?? "").length > NAME_MAX) return false;
      return update(mode, version || undefined, name || "ota", nonblocking === 1);
    },
  },
};

/**
 * Blocking: the states, then OK and a restart, or ERROR. Non-blocking: OK at once (the console
 * takes commands meanwhile), then the states, and -1 for a failure; no restart.
 */
function update(mode: number, version: string | undefined, name: string, nonblocking: boolean): boolean | typeof REPLIED | Promise<boolean | undefined> {
  if (updating) return false;
  updating = true;
  const run = (async () => {
    let done = false;
    try {
      // From a job: the command's synchronous chain plus the connect outgrow XS's stack on the board.
      await Promise.resolve();
      done = await upgrade(mode, version, name);
    } finally {
      updating = false;
      if (!done) state = FAILED;
    }
    return done;
  })();
  if (nonblocking) {
    deps.at.ok();
    void run.then((done) => done || report(FAILED));
    return REPLIED;
  }
  return run.then((done) => {
    if (!done) return false;
    deps.restart();
    return undefined;
  });
}

export function otaCommands(board: OtaDeps): CommandTable {
  deps = board;
  return OTA_COMMANDS;
}
