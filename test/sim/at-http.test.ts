// esp-at's HTTP AT Commands page (docs/en/AT_Command_Set/HTTP_AT_Commands.rst) and its HTTP
// examples (docs/en/AT_Command_Examples/http_at_examples.rst), against Node's http and https
// servers on loopback. Each test is named after the doc section it comes from.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type ServerOptions } from "node:https";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { withConsole } from "../helpers/console.ts";
import { literal } from "../helpers/target.ts";
import type { UartClient } from "../helpers/uart.ts";

const OK = "\r\nOK\r\n";
const ERROR = "\r\nERROR\r\n";
const tlsDir = new URL("../fixtures/tls/", import.meta.url);

interface Seen {
  method: string;
  url: string;
  /** The request's header lines, as the board sent them. */
  headers: string[];
  body: Buffer;
}
type Route = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A server on loopback, port 0: each request is recorded, then answered by the route for its path. */
async function serve(routes: Record<string, Route>, secure: boolean | ServerOptions = false): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      const body = Buffer.concat(parts);
      const headers: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      seen.push({ method: req.method!, url: req.url!, headers, body });
      res.sendDate = false;
      const route = routes[req.url!.replace(/\?.*$/, "")];
      if (route) route(req, res, body);
      else res.writeHead(404, { "Content-Type": "text/plain", "Content-Length": 12, Connection: "close" }).end("no such page");
    });
  };
  const fixture = { cert: readFileSync(new URL("cert.pem", tlsDir)), key: readFileSync(new URL("key.pem", tlsDir)) };
  const server = secure ? createHttpsServer(secure === true ? fixture : secure, listener) : createServer(listener);
  server.keepAliveTimeout = 60000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

/** The request's head as the board sends it: esp_http_client's headers, Content-Length when there is a body, or for POST and PUT. */
const requestHeaders = (port: number, more: string[], length?: number) => ["User-Agent: ESP32 HTTP Client/1.0", `Host: 127.0.0.1:${port}`, ...more, ...(length === undefined ? [] : [`Content-Length: ${length}`])];

/**
 * Reads `+<name>:<size>,<data>` pieces up to the final reply (`final`: OK, SEND OK, or an error
 * code and ERROR), checking that nothing else comes between; returns the pieces.
 */
async function pieces(uart: UartClient, name: string, final: string, timeout = 30000): Promise<Buffer[]> {
  const found: Buffer[] = [];
  const end = Date.now() + timeout;
  for (;;) {
    const text = uart.pending;
    let at = 0;
    found.length = 0;
    for (;;) {
      const head = new RegExp(`^\\+${name}:([0-9]+),`).exec(text.slice(at, at + 40));
      if (!head) break;
      const size = Number(head[1]);
      const next = at + head[0].length + size;
      if (text.length < next + 2) break;
      assert.equal(text.slice(next, next + 2), "\r\n", `the piece at ${at} ends with CR-LF`);
      found.push(Buffer.from(text.slice(at + head[0].length, next), "latin1"));
      at = next + 2;
    }
    const rest = text.slice(at);
    const piece = `+${name}:`;
    const more = rest.startsWith(piece) || piece.startsWith(rest); // a piece still coming in
    if (!more && rest.length >= final.length) {
      assert.equal(rest.slice(0, final.length), final, `after ${found.length} pieces`);
      await uart.expect(text.slice(0, at + final.length));
      return found;
    }
    if (Date.now() > end) throw new Error(`no ${JSON.stringify(final)} after the pieces within ${timeout} ms; pending: ${JSON.stringify(text.slice(-200))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("esp-at HTTP AT Commands, against Node's http and https servers", function () {
  this.timeout(90000);
  const session = withConsole({ sim: {} });
  let uart: UartClient;
  let server: Server | undefined;
  beforeEach(() => ({ uart } = session));
  afterEach(() => {
    server?.closeAllConnections?.();
    server?.close();
    server = undefined;
  });
  const start = async (routes: Record<string, Route>, secure = false) => {
    const s = await serve(routes, secure);
    server = s.server;
    return s;
  };

  it("HTTP AT Examples, The HEAD method of HTTP client: each response header as a +HTTPCLIENT piece", async () => {
    const { port, seen } = await start({ "/get": (_q, res) => res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "329", Connection: "close" }).end() });
    assert.equal(
      await uart.command(`AT+HTTPCLIENT=1,0,"http://127.0.0.1:${port}/get",,,1`),
      "+HTTPCLIENT:30,Content-Type: application/json\r\n+HTTPCLIENT:19,Content-Length: 329\r\n+HTTPCLIENT:17,Connection: close\r\n" + OK,
    );
    assert.deepEqual(seen.map((s) => [s.method, s.url, s.headers]), [["HEAD", "/get", requestHeaders(port, ["Content-Type: application/x-www-form-urlencoded"])]]);
  });

  it("AT+HTTPCLIENT example, GET Request: the body as +HTTPCLIENT:<size>,<data>, host and path used when the URL is empty", async () => {
    const body = '{"args": {}, "url": "get"}\n';
    const { port, seen } = await start({ "/get": (_q, res) => res.writeHead(200, { "Content-Type": "application/json" }).end(body) });
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,0,"http://127.0.0.1:${port}/get","127.0.0.1","/get",1`), `+HTTPCLIENT:${body.length},${body}\r\n${OK}`);
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,1,"","127.0.0.1:${port}","/get?x=1",1`), `+HTTPCLIENT:${body.length},${body}\r\n${OK}`);
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.headers]),
      [
        ["GET", "/get", requestHeaders(port, ["Content-Type: application/x-www-form-urlencoded"])],
        ["GET", "/get?x=1", requestHeaders(port, ["Content-Type: application/json"])],
      ],
    );
  });

  it("HTTP AT Examples, The POST method of HTTP client (suitable for POST small amount of data): the data and its content type reach the server", async () => {
    const { port, seen } = await start({ "/post": (_q, res, body) => res.end(`got ${body.length}`) });
    const reply = await uart.command(`AT+HTTPCLIENT=3,1,"http://127.0.0.1:${port}/post",,,1,"{\\"form\\":{\\"purpose\\":\\"test\\"}}","X-Extra: yes"`);
    assert.equal(reply, `+HTTPCLIENT:6,got 27\r\n${OK}`);
    assert.deepEqual(
      seen.map((s) => [s.method, s.headers, s.body.toString()]),
      [["POST", requestHeaders(port, ["Content-Type: application/json", "X-Extra: yes"], 27), '{"form":{"purpose":"test"}}']],
    );
  });

  it("HTTP AT Examples, The PUT method of HTTP client (suitable for no data put) and The DELETE method of HTTP client", async () => {
    const { port, seen } = await start({ "/put": (q, res) => res.end(`put ${q.url}`), "/delete": (_q, res) => res.end("deleted") });
    assert.equal(await uart.command(`AT+HTTPCLIENT=4,0,"http://127.0.0.1:${port}/put?user=foo",,,1`), `+HTTPCLIENT:17,put /put?user=foo\r\n${OK}`);
    assert.equal(await uart.command(`AT+HTTPCLIENT=5,0,"http://127.0.0.1:${port}/delete",,,1`), `+HTTPCLIENT:7,deleted\r\n${OK}`);
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.headers]),
      [
        ["PUT", "/put?user=foo", requestHeaders(port, ["Content-Type: application/x-www-form-urlencoded"], 0)],
        ["DELETE", "/delete", requestHeaders(port, ["Content-Type: application/x-www-form-urlencoded"])],
      ],
    );
  });

  it("AT+HTTPCLIENT: a chunked response (Transfer-Encoding: chunked) comes out whole, in pieces", async () => {
    const parts = ["first part, ", "a second, longer part\r\n with a CR-LF inside, ", "x".repeat(5000), " and the end"];
    const { port } = await start({
      "/chunked": async (_q, res) => {
        for (const part of parts) {
          res.write(part);
          await new Promise((r) => setTimeout(r, 20));
        }
        res.end();
      },
    });
    await uart.write(`AT+HTTPCLIENT=2,0,"http://127.0.0.1:${port}/chunked",,,1\r\n`);
    const got = await pieces(uart, "HTTPCLIENT", OK);
    assert.equal(Buffer.concat(got).toString(), parts.join(""));
    assert.ok(got.every((p) => p.length <= 2048 && p.length > 0), "each piece is at most the rx buffer");
  });

  it("AT+HTTPCGET: a 1 MB body, reassembled from +HTTPCGET pieces, has the server's SHA-256", async () => {
    const body = randomBytes(1 << 20);
    const { port } = await start({ "/big": (_q, res) => res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": body.length }).end(body) });
    await uart.write(`AT+HTTPCGET="http://127.0.0.1:${port}/big"\r\n`);
    const got = await pieces(uart, "HTTPCGET", OK, 120000);
    const all = Buffer.concat(got);
    assert.equal(all.length, body.length);
    assert.equal(createHash("sha256").update(all).digest("hex"), createHash("sha256").update(body).digest("hex"));
  });

  it("HTTP AT Error Codes: 404 and 500 answer ERROR, with ERR CODE:0x010a7194 and 0x010a71f4 under AT+SYSLOG=1", async () => {
    const { port } = await start({ "/fail": (_q, res) => res.writeHead(500, { "Content-Type": "text/plain" }).end("broken") });
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,0,"http://127.0.0.1:${port}/missing",,,1`), `+HTTPCLIENT:12,no such page\r\n${ERROR}`);
    assert.equal(await uart.command("AT+SYSLOG=1"), OK);
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,0,"http://127.0.0.1:${port}/missing",,,1`), `+HTTPCLIENT:12,no such page\r\nERR CODE:0x010a7194\r\n${ERROR}`);
    assert.equal(await uart.command(`AT+HTTPCGET="http://127.0.0.1:${port}/fail"`), `+HTTPCGET:6,broken\r\nERR CODE:0x010a71f4\r\n${ERROR}`);
    // HTTPGETSIZE reads no status (ESP-AT's calls esp_http_client_fetch_headers alone): the 404's size.
    assert.equal(await uart.command(`AT+HTTPGETSIZE="http://127.0.0.1:${port}/missing"`), `+HTTPGETSIZE:12\r\n${OK}`);
  });

  it("HTTP AT Error Codes, 0x7000 Connection Failed: a server that closes before the body's end, and a refused connection", async () => {
    const { port } = await start({
      "/short": (_q, res) => {
        res.writeHead(200, { "Content-Length": "100" });
        res.write("only ten b");
        setTimeout(() => res.socket?.destroy(), 100);
      },
    });
    assert.equal(await uart.command("AT+SYSLOG=1"), OK);
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,0,"http://127.0.0.1:${port}/short",,,1`), `+HTTPCLIENT:10,only ten b\r\nERR CODE:0x010a7000\r\n${ERROR}`);
    server!.close();
    server = undefined;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,0,"http://127.0.0.1:${port}/short",,,1`), `ERR CODE:0x010a7000\r\n${ERROR}`);
  });

  it("AT+HTTPCLIENT: a body with neither Content-Length nor chunks ends at the close (an HTTP/1.0 server)", async () => {
    const raw = createNetServer((c) => {
      c.once("data", () => {
        c.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst, ");
        setTimeout(() => c.end("then the rest"), 50);
      });
    });
    await new Promise<void>((r) => raw.listen(0, "127.0.0.1", () => r()));
    try {
      await uart.write(`AT+HTTPCLIENT=2,0,"http://127.0.0.1:${(raw.address() as AddressInfo).port}/",,,1\r\n`);
      assert.equal(Buffer.concat(await pieces(uart, "HTTPCLIENT", OK)).toString(), "first, then the rest");
    } finally {
      raw.close();
    }
  });

  it("AT+HTTPCGET <timeout>: a server that does not answer meets the timeout, and the console goes on", async () => {
    const { port } = await start({ "/slow": () => {} });
    const began = Date.now();
    assert.equal(await uart.command(`AT+HTTPCGET="http://127.0.0.1:${port}/slow",2048,2048,1500`, 30000), ERROR);
    const took = Date.now() - began;
    assert.ok(took >= 1400 && took < 4500, `ERROR came after ${took} ms, not at the 1,500 ms timeout`);
    assert.equal(await uart.command("AT"), OK);
  });

  it("AT+HTTPCLIENT: redirects (301, 302, 303, 307, 308) are followed as esp_http_client_perform follows them: same method and body, each response's body printed", async () => {
    const { port, seen } = await start({
      "/301": (_q, res) => res.writeHead(301, { Location: "/302" }).end("moved"),
      "/302": (_q, res) => res.writeHead(302, { Location: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/307` }).end(),
      "/307": (_q, res) => res.writeHead(307, { Location: "308" }).end(),
      "/308": (_q, res) => res.writeHead(308, { Location: "/target" }).end(),
      "/303": (_q, res) => res.writeHead(303, { Location: "/target" }).end(),
      "/loop": (_q, res) => res.writeHead(302, { Location: "/loop" }).end(),
      "/nowhere": (_q, res) => res.writeHead(302).end(),
      "/target": (q, res, body) => res.end(`${q.method} target ${body.toString()}`),
    });
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,0,"http://127.0.0.1:${port}/301",,,1`), `+HTTPCLIENT:5,moved\r\n+HTTPCLIENT:11,GET target \r\n${OK}`);
    assert.deepEqual(seen.map((s) => s.url), ["/301", "/302", "/307", "/308", "/target"]);
    assert.equal(await uart.command(`AT+HTTPCLIENT=3,0,"http://127.0.0.1:${port}/303",,,1,"a=1"`), `+HTTPCLIENT:15,POST target a=1\r\n${OK}`);
    assert.deepEqual(seen.slice(5).map((s) => [s.method, s.url, s.body.toString()]), [["POST", "/303", "a=1"], ["POST", "/target", "a=1"]]);
    // esp_http_client's max_redirection_count, 10: the 11th redirect fails.
    assert.equal(await uart.command("AT+SYSLOG=1"), OK);
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,0,"http://127.0.0.1:${port}/loop",,,1`), `ERR CODE:0x010a7000\r\n${ERROR}`);
    assert.equal(seen.filter((s) => s.url === "/loop").length, 11);
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,0,"http://127.0.0.1:${port}/nowhere",,,1`), `ERR CODE:0x010a7000\r\n${ERROR}`);
  });

  it("HTTP AT Examples, The GET method of HTTP client over https (transport_type 2)", async () => {
    const { port, seen } = await start({ "/secure": (_q, res) => res.end("over TLS") }, true);
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,0,"https://127.0.0.1:${port}/secure",,,2`), `+HTTPCLIENT:8,over TLS\r\n${OK}`);
    assert.equal(await uart.command(`AT+HTTPCGET="https://127.0.0.1:${port}/secure"`), `+HTTPCGET:8,over TLS\r\n${OK}`);
    assert.equal(seen.length, 2);
  });

  it("HTTP AT Examples, The POST method of HTTP client (recommended method): AT+HTTPCPOST with 2 headers, `>`, the data, SEND OK", async () => {
    const data = `{"headers": {"Accept": "application/json", "pad": "${"p".repeat(380)}"}}`;
    const { port, seen } = await start({ "/post": (_q, res, body) => res.end(`got ${body.length}`) });
    assert.equal(await uart.command(`AT+HTTPCPOST="http://127.0.0.1:${port}/post",${data.length},2,"connection: keep-alive","content-type: application/json"`), "\r\nOK\r\n");
    await uart.expect("\r\n>");
    await uart.write(data);
    assert.equal(await uart.expect("SEND OK\r\n"), `+HTTPCPOST:7,got ${data.length}\r\n\r\nSEND OK\r\n`);
    assert.deepEqual(seen.map((s) => [s.method, s.headers, s.body.toString()]), [["POST", requestHeaders(port, ["connection: keep-alive", "content-type: application/json"], data.length), data]]);
  });

  it("AT+HTTPCPOST <length>: 48 KiB of any bytes reach the server whole; more than the free heap (AT+SYSRAM) gets ERROR", async () => {
    const data = randomBytes(48 * 1024);
    const { port, seen } = await start({ "/post": (_q, res, body) => res.end(createHash("sha256").update(body).digest("hex")) });
    assert.equal(await uart.command(`AT+HTTPCPOST="http://127.0.0.1:${port}/post",${data.length}`), OK);
    await uart.expect("\r\n>");
    await uart.write(data);
    assert.equal(await uart.expect("SEND OK\r\n", 30000), `+HTTPCPOST:64,${createHash("sha256").update(data).digest("hex")}\r\n\r\nSEND OK\r\n`);
    assert.equal(seen[0].body.length, data.length);
    const free = Number(/\+SYSRAM:(\d+),/.exec(await uart.command("AT+SYSRAM?"))![1]);
    assert.equal(await uart.command(`AT+HTTPCPOST="http://127.0.0.1:${port}/post",${free * 2}`), ERROR); // the figure moves with the GC: twice it is surely over
    assert.equal(await uart.command("AT"), OK);
  });

  it("HTTP AT Examples, The PUT method of HTTP client (recommended method): AT+HTTPCPUT, its default content type; SEND FAIL on a 404", async () => {
    const { port, seen } = await start({ "/put": (_q, res, body) => res.end(`put ${body.toString()}`) });
    assert.equal(await uart.command(`AT+HTTPCPUT="http://127.0.0.1:${port}/put",5`), OK);
    await uart.expect("\r\n>");
    await uart.write("hello");
    assert.equal(await uart.expect("SEND OK\r\n"), `+HTTPCPUT:9,put hello\r\n\r\nSEND OK\r\n`);
    assert.deepEqual(seen.map((s) => s.headers), [requestHeaders(port, ["Content-Type: application/x-www-form-urlencoded"], 5)]);
    assert.equal(await uart.command(`AT+HTTPCPUT="http://127.0.0.1:${port}/nowhere",2`), OK);
    await uart.expect("\r\n>");
    await uart.write("hi");
    assert.equal(await uart.expect("SEND FAIL\r\n"), `+HTTPCPUT:12,no such page\r\n\r\nSEND FAIL\r\n`);
  });

  it("AT+HTTPURLCFG: a URL longer than a command line is set, queried, used by AT+HTTPCGET and AT+HTTPGETSIZE with <\"url\"> \"\", and cleared", async () => {
    const body = "long url body";
    const { port, seen } = await start({ "/long": (_q, res) => res.writeHead(200, { "Content-Length": body.length }).end(body) });
    const url = `http://127.0.0.1:${port}/long?q=${"a".repeat(300)}`;
    assert.equal(await uart.command(`AT+HTTPCGET="${url}"`), ERROR); // the command line is over 256 bytes
    assert.equal(await uart.command(`AT+HTTPURLCFG=${url.length}`), OK);
    await uart.expect("\r\n>");
    await uart.write(url);
    assert.equal(await uart.expect("SET OK\r\n"), "\r\nSET OK\r\n");
    assert.equal(await uart.command("AT+HTTPURLCFG?"), `+HTTPURLCFG:${url.length},${url}\r\n${OK}`);
    assert.equal(await uart.command('AT+HTTPCGET=""'), `+HTTPCGET:${body.length},${body}\r\n${OK}`);
    assert.equal(await uart.command('AT+HTTPGETSIZE=""'), `+HTTPGETSIZE:${body.length}\r\n${OK}`);
    assert.equal(seen.at(-1)!.url, url.slice(url.indexOf("/long")));
    assert.equal(await uart.command("AT+HTTPURLCFG=0"), OK);
    assert.equal(await uart.command("AT+HTTPURLCFG?"), OK);
    assert.equal(await uart.command('AT+HTTPCGET=""'), ERROR);
  });

  it("AT+HTTPGETSIZE example: the resource's Content-Length, from its headers alone", async () => {
    const { port, seen } = await start({
      "/img/bdlogo.gif": (_q, res) => res.writeHead(200, { "Content-Type": "image/gif", "Content-Length": 1489 }).end(Buffer.alloc(1489)),
      "/chunked": (_q, res) => {
        res.write("a");
        res.end("b");
      },
    });
    assert.equal(await uart.command(`AT+HTTPGETSIZE="http://127.0.0.1:${port}/img/bdlogo.gif"`), `+HTTPGETSIZE:1489\r\n${OK}`);
    assert.equal(await uart.command(`AT+HTTPGETSIZE="http://127.0.0.1:${port}/img/bdlogo.gif",0,0,1000`), `+HTTPGETSIZE:1489\r\n${OK}`);
    assert.deepEqual(seen.map((s) => [s.method, s.headers]), [["GET", requestHeaders(port, [])], ["GET", requestHeaders(port, [])]]);
    assert.equal(await uart.command(`AT+HTTPGETSIZE="http://127.0.0.1:${port}/chunked"`), `+HTTPGETSIZE:0\r\n${OK}`); // no Content-Length: 0, as fetch_headers gives
  });

  it("AT+HTTPCHEAD example: a Range header set, queried, sent with every HTTP command (over a command's own), replaced by key, and cleared", async () => {
    const { port, seen } = await start({ "/index.html": (q, res) => res.end(`range ${q.headers.range ?? "none"}`) });
    assert.equal(await uart.command("AT+HTTPCHEAD=18"), OK);
    await uart.expect("\r\n>");
    await uart.write("Range: bytes=0-255");
    assert.equal(await uart.expect("OK\r\n"), OK);
    assert.equal(await uart.command("AT+HTTPCHEAD?"), `+HTTPCHEAD:0,"Range: bytes=0-255"\r\n${OK}`);
    assert.equal(await uart.command(`AT+HTTPCGET="http://127.0.0.1:${port}/index.html"`), `+HTTPCGET:17,range bytes=0-255\r\n${OK}`);
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,0,"http://127.0.0.1:${port}/index.html",,,1,"Range: bytes=9-9"`), `+HTTPCLIENT:17,range bytes=0-255\r\n${OK}`);
    for (const header of ["X-Second:2", "Range: bytes=1-2"]) {
      assert.equal(await uart.command(`AT+HTTPCHEAD=${header.length}`), OK);
      await uart.expect("\r\n>");
      await uart.write(header);
      assert.equal(await uart.expect("OK\r\n"), OK);
    }
    assert.equal(await uart.command("AT+HTTPCHEAD?"), `+HTTPCHEAD:0,"Range: bytes=1-2"\r\n+HTTPCHEAD:1,"X-Second:2"\r\n${OK}`);
    assert.equal(await uart.command("AT+HTTPCHEAD=0"), OK);
    assert.equal(await uart.command("AT+HTTPCHEAD?"), OK);
    assert.equal(await uart.command(`AT+HTTPCGET="http://127.0.0.1:${port}/index.html"`), `+HTTPCGET:10,range none\r\n${OK}`);
    assert.ok(seen[0].headers.includes("Range: bytes=0-255"));
  });

  it("AT+HTTPCFG: auth mode 0 is taken; a CA or certificate that is not configured gets ERROR", async () => {
    assert.equal(await uart.command("AT+HTTPCFG=0"), OK);
    assert.equal(await uart.command("AT+HTTPCFG=2,0,0"), ERROR);
    assert.equal(await uart.command("AT+HTTPCFG=1,0,0"), ERROR);
    assert.equal(await uart.command("AT+HTTPCFG=4"), ERROR);
  });

  it("HTTP AT commands: bad parameters get ERROR, and the console goes on", async () => {
    for (const line of [
      'AT+HTTPCLIENT=6,0,"http://127.0.0.1/",,,1',
      'AT+HTTPCLIENT=2,4,"http://127.0.0.1/",,,1',
      'AT+HTTPCLIENT=2,0,"ftp://127.0.0.1/",,,1',
      'AT+HTTPCLIENT=2,0,"http://127.0.0.1/",,,3',
      "AT+HTTPCLIENT=3,0,\"http://127.0.0.1/\",,,1",
      'AT+HTTPCLIENT=2,0,"http://127.0.0.1/",,,1,"no colon"',
      "AT+HTTPCGET=1",
      'AT+HTTPCGET="http://127.0.0.1/",2048,2048,180001',
      'AT+HTTPCPOST="http://127.0.0.1/",0',
      'AT+HTTPCPOST="http://127.0.0.1/",5,2,"a: b"',
      "AT+HTTPURLCFG=7",
      "AT+HTTPURLCFG=8193",
      "AT+HTTPCHEAD=-1",
    ])
      assert.equal(await uart.command(line), ERROR, line);
    assert.equal(await uart.command("AT+HTTPCHEAD=5"), OK);
    await uart.expect("\r\n>");
    await uart.write("nokey");
    assert.equal(await uart.expect(/ERROR\r\n/), ERROR);
    assert.equal(await uart.command("AT+HTTPCHEAD?"), OK);
    assert.match(await uart.command("AT+CMD?"), new RegExp(literal('"AT+HTTPCLIENT"')));
  });
});

/** A CA, a server certificate it signs (for 127.0.0.1), a client certificate it signs, and another CA: EC P-256, PKCS#8, made for the run. */
function makeCertificates(): Record<"ca" | "otherCa" | "server" | "serverKey" | "client" | "clientKey", string> {
  const dir = mkdtempSync(join(tmpdir(), "xsock-http-"));
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  try {
    openssl("req", "-x509", ...newKey, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=xsock-http-ca", "-days", "2");
    openssl("req", "-x509", ...newKey, "-keyout", "other.key", "-out", "other.pem", "-subj", "/CN=xsock-other-ca", "-days", "2");
    for (const [name, extensions] of [
      ["server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"],
      ["client", "extendedKeyUsage=clientAuth\n"],
    ]) {
      writeFileSync(join(dir, `${name}.ext`), extensions);
      openssl("req", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=xsock-http-${name}`);
      openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
    }
    const read = (name: string) => readFileSync(join(dir, name), "utf8");
    return { ca: read("ca.pem"), otherCa: read("other.pem"), server: read("server.pem"), serverKey: read("server.key"), client: read("client.pem"), clientKey: read("client.key") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("esp-at HTTP AT Commands, AT+HTTPCFG: https with the config's CAs and client certificate", function () {
  this.timeout(60000);
  const certs = makeCertificates();
  const session = withConsole({ sim: { config: { ca: [certs.ca, certs.otherCa], clientCert: [certs.client], clientKey: [certs.clientKey] } } });
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections?.();
    server?.close();
    server = undefined;
  });

  it("AT+HTTPCFG=2,0,<ca_number>: https succeeds against the CA that signed the server's certificate, and fails (0x010a7000) against another", async () => {
    const { uart } = session;
    const s = await serve({ "/": (_q, res) => res.end("checked") }, { cert: certs.server, key: certs.serverKey });
    server = s.server;
    const url = `https://127.0.0.1:${s.port}/`;
    assert.equal(await uart.command("AT+SYSLOG=1"), OK);
    assert.equal(await uart.command("AT+HTTPCFG=2,0,0"), OK);
    assert.equal(await uart.command(`AT+HTTPCGET="${url}"`), `+HTTPCGET:7,checked\r\n${OK}`);
    assert.equal(await uart.command("AT+HTTPCFG=2,0,1"), OK);
    assert.equal(await uart.command(`AT+HTTPCGET="${url}"`), `ERR CODE:0x010a7000\r\n${ERROR}`);
    assert.equal(await uart.command("AT+HTTPCFG=2,0,2"), `ERR CODE:0x010a0000\r\n${ERROR}`); // no CA 2
    assert.equal(await uart.command("AT+HTTPCFG=0"), OK);
    assert.equal(await uart.command(`AT+HTTPCGET="${url}"`), `+HTTPCGET:7,checked\r\n${OK}`);
  });

  it("AT+HTTPCFG=3,0,0 (mutual authentication): a server that requires a client certificate gets the config's; without it (mode 2) the request fails", async () => {
    const { uart } = session;
    const s = await serve(
      { "/": (q, res) => res.end(`hello ${(q.socket as TLSSocket).getPeerCertificate().subject.CN}`) },
      { cert: certs.server, key: certs.serverKey, ca: certs.ca, requestCert: true, rejectUnauthorized: true },
    );
    server = s.server;
    const url = `https://127.0.0.1:${s.port}/`;
    assert.equal(await uart.command("AT+HTTPCFG=3,0,0"), OK);
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,0,"${url}",,,2`), `+HTTPCLIENT:23,hello xsock-http-client\r\n${OK}`);
    assert.equal(await uart.command("AT+HTTPCFG=2,0,0"), OK);
    assert.equal(await uart.command(`AT+HTTPCLIENT=2,0,"${url}",,,2`), ERROR);
    assert.equal(await uart.command("AT+HTTPCFG=3,1,0"), ERROR); // no client certificate 1
  });
});
