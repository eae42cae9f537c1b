// An HTTP/1.1 client over xsock/socket (TCP, or TLS with wrap_socket), as ESP-IDF's
// esp_http_client serves ESP-AT's HTTP commands: one request per connection; a body by
// Content-Length, chunked, or up to the close; redirects followed as esp_http_client_perform does.
import { AF_INET, AF_INET6, SOCK_STREAM, socket, wrap_socket, type Socket, type TlsOptions } from "xsock/socket";
import { decodeLatin1, encodeLatin1 } from "xsock/latin1";

export interface Url {
  secure: boolean;
  host: string;
  port: number;
  /** The path and query, from its `/`. */
  path: string;
}

/** `http://host[:port][/path][?query]` (or https); undefined when it is not one. */
export function parseUrl(text: string): Url | undefined {
  const m = /^(https?):\/\/(\[[0-9a-fA-F:.]+\]|[^/:?#[\]@\s]+)(?::([0-9]{1,5}))?([/?][^#\s]*)?(#.*)?$/i.exec(text);
  if (!m) return undefined;
  const secure = m[1].toLowerCase() === "https";
  const port = m[3] ? Number(m[3]) : secure ? 443 : 80;
  if (port < 1 || port > 65535) return undefined;
  const host = m[2].startsWith("[") ? m[2].slice(1, -1) : m[2];
  const path = m[4] ? (m[4].startsWith("?") ? `/${m[4]}` : m[4]) : "/";
  return { secure, host, port, path };
}

/** A Location header's target, resolved against the URL it came from. */
export function resolveUrl(base: Url, location: string): Url | undefined {
  if (/^https?:\/\//i.test(location)) return parseUrl(location);
  if (location.startsWith("//")) return parseUrl(`${base.secure ? "https" : "http"}:${location}`);
  const path = location.startsWith("/") ? location : `${base.path.replace(/[?#].*$/, "").replace(/[^/]*$/, "")}${location}`;
  return { ...base, path };
}

export interface Request {
  method: "HEAD" | "GET" | "POST" | "PUT" | "DELETE";
  url: Url;
  /** In order; the client adds User-Agent, Host and Content-Length unless they are here. */
  headers: [name: string, value: string][];
  body?: Uint8Array;
  /** Each network step (connect, send, each read) may take this long, in ms. */
  timeout: number;
  /** For https: TLS as wrap_socket takes it (server_hostname is the URL's host). */
  tls: TlsOptions;
  /** Follow 301, 302, 303, 307 and 308 (as esp_http_client_perform does, up to MAX_REDIRECTS). */
  follow: boolean;
  /** Stop after the response's headers (esp_http_client_fetch_headers). */
  headersOnly?: boolean;
  /** The largest piece of body given to onData at once (esp_http_client's rx buffer). */
  chunk: number;
  /** Sees each response's status and headers before its body (a redirect's too). */
  onHead?: (response: Response) => void;
}

export interface Response {
  status: number;
  headers: [name: string, value: string][];
  /** Content-Length, when the response has one and is not chunked. */
  length?: number;
  chunked?: boolean;
}


/** esp_http_client's max_redirection_count by default. */
export const MAX_REDIRECTS = 10;
const REDIRECTS = [301, 302, 303, 307, 308];
/** esp_http_client's User-Agent. */
export const USER_AGENT = "ESP32 HTTP Client/1.0";

/** The connection failed, timed out, or ended before the response did. */
export class HttpError extends Error {}

/** Bytes read from a socket, taken as lines (the head) or as counted pieces (the body). */
class Reader {
  #buffer: Uint8Array = new Uint8Array(0);
  constructor(
    readonly sock: Socket,
    readonly size: number,
  ) {}

  async #fill(): Promise<boolean> {
    const more = await this.sock.recv(this.size);
    if (!more.length) return false;
    if (!this.#buffer.length) this.#buffer = more;
    else {
      const joined = new Uint8Array(this.#buffer.length + more.length);
      joined.set(this.#buffer);
      joined.set(more, this.#buffer.length);
      this.#buffer = joined;
    }
    return true;
  }

  /** A line without its CR-LF; throws at the end of the stream. */
  async line(): Promise<string> {
    for (;;) {
      const lf = this.#buffer.indexOf(10);
      if (lf >= 0) {
        const line = decodeLatin1(this.#buffer.subarray(0, lf > 0 && this.#buffer[lf - 1] === 13 ? lf - 1 : lf));
        this.#buffer = this.#buffer.subarray(lf + 1);
        return line;
      }
      if (this.#buffer.length > 8192) throw new HttpError("header line too long");
      if (!(await this.#fill())) throw new HttpError("the server closed the connection");
    }
  }

  /** Up to max bytes: what is buffered, or the next read; empty at the end of the stream. */
  async some(max: number): Promise<Uint8Array> {
    if (!this.#buffer.length && !(await this.#fill())) return new Uint8Array(0);
    const n = Math.min(max, this.#buffer.length);
    const piece = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return piece;
  }
}

/**
 * Sends the request and reads the response, giving `onData` the body of each response in pieces
 * (awaited: the caller's backpressure). Follows redirects when asked, and resolves with the last
 * response's status and headers. Throws HttpError when the exchange fails.
 */
export async function request(req: Request, onData: (bytes: Uint8Array) => Promise<void> | void): Promise<Response> {
  // Go on from the bottom of the stack, as a job: the caller is at the end of a long synchronous
  // chain (the UART's callback, the console, the command), and the connect below adds its own;
  // together they outgrew XS's 512-slot stack on the board.
  await Promise.resolve();
  let current = req;
  for (let redirects = 0; ; redirects++) {
    const sock = socket(current.url.host.includes(":") ? AF_INET6 : AF_INET, SOCK_STREAM);
    try {
      const reader = await send(sock, current);
      const response = await readHead(reader);
      current.onHead?.(response);
      const redirect = current.follow && REDIRECTS.includes(response.status);
      // esp_http_client_perform: past MAX_REDIRECTS any response but a 2xx fails.
      if (current.follow && redirects >= MAX_REDIRECTS && (response.status < 200 || response.status >= 300)) throw new HttpError("too many redirects");
      let next: Url | undefined;
      if (redirect) {
        const location = response.headers.find(([name]) => name.toLowerCase() === "location")?.[1];
        next = location === undefined ? undefined : resolveUrl(current.url, location);
        // No target, or https to http (esp_http_client refuses the downgrade): the request fails.
        if (!next || (current.url.secure && !next.secure)) throw new HttpError("bad redirect");
      }
      // A redirect's body is read and given on too, as esp_http_client's HTTP_EVENT_ON_DATA gives it.
      if (!current.headersOnly && current.method !== "HEAD" && response.status !== 204 && response.status !== 304) await readBody(reader, response, current.chunk, onData);
      if (!next) return response;
      // The same method and body to the new URL, whatever the status (esp_http_client_set_redirection).
      current = { ...current, url: next };
    } catch (e) {
      throw e instanceof HttpError ? e : new HttpError((e as Error).message);
    } finally {
      sock.close();
    }
  }
}

async function send(sock: Socket, req: Request): Promise<Reader> {
  const { url } = req;
  if (url.secure) wrap_socket(sock, { ...req.tls, server_hostname: url.host });
  sock.settimeout(req.timeout);
  await sock.connect([url.host, url.port]);
  const has = (name: string) => req.headers.some(([n]) => n.toLowerCase() === name);
  const host = url.host.includes(":") ? `[${url.host}]` : url.host;
  const lines = [`${req.method} ${url.path} HTTP/1.1`];
  if (!has("user-agent")) lines.push(`User-Agent: ${USER_AGENT}`);
  if (!has("host")) lines.push(`Host: ${host}${url.port === (url.secure ? 443 : 80) ? "" : `:${url.port}`}`);
  for (const [name, value] of req.headers) lines.push(`${name}: ${value}`);
  // esp_http_client's Content-Length: with a body, and for methods other than GET, HEAD and DELETE without one (0).
  const length = req.body?.length ?? 0;
  if (!has("content-length") && (length || !["GET", "HEAD", "DELETE"].includes(req.method))) lines.push(`Content-Length: ${length}`);
  await sock.sendall(encodeLatin1(`${lines.join("\r\n")}\r\n\r\n`));
  if (length) await sock.sendall(req.body!); // on its own: a large body is not copied
  return new Reader(sock, Math.max(req.chunk, 512));
}

async function readHead(reader: Reader): Promise<Response> {
  for (;;) {
    const status = /^HTTP\/1\.[01] ([0-9]{3})/.exec(await reader.line());
    if (!status) throw new HttpError("not an HTTP response");
    const headers: [string, string][] = [];
    for (;;) {
      const line = await reader.line();
      if (!line) break;
      const colon = line.indexOf(":");
      if (colon > 0) headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
    }
    const code = Number(status[1]);
    if (code >= 100 && code < 200) continue; // 100 Continue and the like: the real response follows
    const get = (name: string) => headers.find(([n]) => n.toLowerCase() === name)?.[1];
    const chunked = /chunked/i.test(get("transfer-encoding") ?? "");
    const length = chunked || get("content-length") === undefined ? undefined : Number(get("content-length"));
    if (length !== undefined && !(Number.isInteger(length) && length >= 0)) throw new HttpError("bad Content-Length");
    return { status: code, headers, length, chunked };
  }
}

async function readBody(reader: Reader, response: Response, chunk: number, onData: (bytes: Uint8Array) => Promise<void> | void): Promise<void> {
  const pass = async (count: number) => {
    while (count > 0) {
      const piece = await reader.some(Math.min(count, chunk));
      if (!piece.length) throw new HttpError("the server closed the connection before the body's end");
      count -= piece.length;
      await onData(piece);
    }
  };
  if (response.chunked) {
    for (;;) {
      const size = Number.parseInt((await reader.line()).split(";")[0].trim(), 16);
      if (!Number.isInteger(size) || size < 0) throw new HttpError("bad chunk size");
      if (size === 0) {
        while (await reader.line()); // trailers, to the empty line
        return;
      }
      await pass(size);
      if ((await reader.line()) !== "") throw new HttpError("bad chunk end");
    }
  }
  if (response.length !== undefined) return pass(response.length);
  for (;;) {
    const piece = await reader.some(chunk);
    if (!piece.length) return;
    await onData(piece);
  }
}
