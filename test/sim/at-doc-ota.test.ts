// Firmware updates over the network: esp-at's AT+USEROTA (docs/en/AT_Command_Set/user_at_commands.rst,
// and what esp-at's components/at/src/at_user_cmd.c does after the download), AT+CIPFWVER and
// AT+CIUPDATE (TCP-IP_AT_Commands.rst; the OTA server's protocol as components/at/src/at_ota_cmd.c
// speaks it). The image is the simulator's (xsock build --sim, host-sim/ota-image.ts) with another
// version, served by Node's http and https servers on loopback; the board restarts into it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { loadBoard } from "../../host-sim/board.ts";
import { buildFirmware } from "../../host-sim/firmware.ts";
import { writeImage } from "../../host-sim/ota-image.ts";
import { BOOT_MS, withConsole } from "../helpers/console.ts";
import { ROOT } from "../helpers/sim.ts";
import type { UartClient } from "../helpers/uart.ts";

const OK = "\r\nOK\r\n";
const ERROR = "\r\nERROR\r\n";
const NEW_VERSION = "0.2.0-ota";
const tlsDir = new URL("../fixtures/tls/", import.meta.url);

type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** A server on loopback, port 0, answering each path by its route (the query aside), else 404; it records each request's path and query. */
async function serve(routes: Record<string, Route>, secure = false): Promise<{ server: Server; port: number; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    seen.push(req);
    const route = routes[req.url!.replace(/\?.*$/, "")];
    if (route) route(req, res);
    else res.writeHead(404, { "Content-Type": "text/plain", "Content-Length": 12 }).end("no such page");
  };
  const server = secure ? createHttpsServer({ cert: readFileSync(new URL("cert.pem", tlsDir)), key: readFileSync(new URL("key.pem", tlsDir)) }, listener) : createServer(listener);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

const sendBytes = (body: Buffer): Route => (_req, res) => res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": body.length }).end(body);

/** AT+GMR's version line. */
async function gmrVersion(uart: UartClient): Promise<string> {
  const reply = await uart.command("AT+GMR");
  return /AT version:[^\r]*/.exec(reply)![0];
}

/** AT+USEROTA=<url len>, the URL after `>`, and the reply up to OK or ERROR (the download's included). */
async function userOta(uart: UartClient, url: string): Promise<string> {
  assert.equal(await uart.command(`AT+USEROTA=${url.length}`), OK);
  await uart.expect(">", 5000);
  await uart.write(url);
  return uart.expect(/\r\n(OK|ERROR)\r\n/, 60000);
}

/** After a restart: ready, the saved AP joined again (CWAUTOCONN), and echo off. */
async function rebooted(uart: UartClient): Promise<void> {
  await uart.expect("\r\nready\r\n", BOOT_MS);
  await uart.expect("WIFI GOT IP\r\n", BOOT_MS);
  assert.equal(await uart.command("ATE0"), `ATE0\r\n${OK}`);
}

let image: Buffer;
let http: Awaited<ReturnType<typeof serve>>;
let https: Awaited<ReturnType<typeof serve>>;

before(async function () {
  this.timeout(60000);
  image = writeImage(await buildFirmware(ROOT, loadBoard(), { version: NEW_VERSION }), "esp32/nodemcu");
  const corrupted = Buffer.from(image);
  corrupted[corrupted.length >> 1] ^= 0x01;
  const routes = {
    "/esp-at.bin": sendBytes(image),
    "/truncated.bin": sendBytes(image.subarray(0, image.length - 100)),
    "/corrupted.bin": sendBytes(corrupted),
    "/moved.bin": (_req: IncomingMessage, res: ServerResponse) => res.writeHead(302, { Location: "/esp-at.bin", "Content-Length": 5 }).end("moved"),
  };
  http = await serve(routes);
  https = await serve(routes, true);
});

after(() => {
  http?.server.close();
  https?.server.close();
});

describe("esp-at User AT Commands: AT+USEROTA", function () {
  this.timeout(120000);
  const session = withConsole({ sim: {} });

  it("AT+USEROTA, Example: OK, >, the URL, Recv <url len> bytes, OK; the board restarts into the new firmware and keeps its saved settings", async () => {
    const { uart } = session;
    const before = await gmrVersion(uart);
    assert.match(before, /^AT version:3\.2\.0\.0\(xsock-0\.1\.0 - ESP32 - /);
    assert.equal(await uart.command("AT+CWRECONNCFG=5,10"), OK); // saved in flash (SYSSTORE=1)
    const url = `http://127.0.0.1:${http.port}/esp-at.bin`;
    assert.equal(await userOta(uart, url), `\r\nRecv ${url.length} bytes\r\n${OK}`);
    // at_user_cmd.c: OK, then esp_restart(); the new firmware prints ready and joins the saved AP.
    await rebooted(uart);
    assert.match(session.sim!.log, new RegExp(`sim: ota: ${image.length} bytes, version ${NEW_VERSION}: the next boot is from it`));
    assert.equal(await gmrVersion(uart), before.replace("xsock-0.1.0", `xsock-${NEW_VERSION}`));
    assert.match(await uart.command("AT+GMR"), new RegExp(`Bin version:xsock-${NEW_VERSION}\\(esp32/nodemcu\\)\r\n`));
    assert.equal(await uart.command("AT+CWRECONNCFG?"), `+CWRECONNCFG:5,10\r\n${OK}`);
    // The new firmware's own restart boots it again, not the old one.
    assert.equal(await uart.command("AT+RST"), OK);
    await rebooted(uart);
    assert.equal(await gmrVersion(uart), before.replace("xsock-0.1.0", `xsock-${NEW_VERSION}`));
  });

  it("AT+USEROTA over HTTPS, following a redirect (the doc: it supports HTTP and HTTPS)", async () => {
    const { uart } = session;
    const url = `https://127.0.0.1:${https.port}/moved.bin`;
    assert.equal(await userOta(uart, url), `\r\nRecv ${url.length} bytes\r\n${OK}`);
    assert.deepEqual(https.seen.map((r) => r.url), ["/moved.bin", "/esp-at.bin"]);
    await rebooted(uart);
    assert.match(await gmrVersion(uart), new RegExp(`xsock-${NEW_VERSION} `));
  });

  for (const [what, path, refused] of [
    ["a truncated image (esp_ota_end refuses it)", "/truncated.bin", /the image is refused: the image is \d+ bytes; its header says \d+/],
    ["an image with a corrupted byte (its SHA-256 does not match)", "/corrupted.bin", /the image is refused: the image's SHA-256 does not match/],
    ["a 404", "/missing.bin", undefined],
  ] as const) {
    it(`AT+USEROTA, "the firmware upgrade fails": ERROR for ${what}; the old firmware runs on and answers`, async () => {
      const { uart } = session;
      const before = await gmrVersion(uart);
      const url = `http://127.0.0.1:${http.port}${path}`;
      assert.equal(await userOta(uart, url), `\r\nRecv ${url.length} bytes\r\n${ERROR}`);
      if (refused) assert.match(session.sim!.log, refused);
      else assert.doesNotMatch(session.sim!.log, /sim: ota:/);
      assert.equal(await uart.command("AT"), OK);
      assert.equal(await gmrVersion(uart), before);
      // No restart comes, and none boots the refused image.
      assert.equal(await uart.command("AT+RST"), OK);
      await rebooted(uart);
      assert.equal(await gmrVersion(uart), before);
    });
  }

  it('AT+USEROTA, "the parameter is wrong": ERROR for a URL that is not http or https, and for <url len> out of 1 to 8192', async () => {
    const { uart } = session;
    const downloads = http.seen.length;
    const url = `ftp://127.0.0.1:${http.port}/esp-at.bin`;
    assert.equal(await userOta(uart, url), `\r\nRecv ${url.length} bytes\r\n${ERROR}`);
    for (const bad of ["AT+USEROTA=0", "AT+USEROTA=8193", "AT+USEROTA=-1", "AT+USEROTA", "AT+USEROTA=10,1", 'AT+USEROTA="10"']) {
      assert.equal(await uart.command(bad), ERROR, bad);
    }
    assert.equal(await uart.command("AT"), OK);
    assert.equal(http.seen.length, downloads, "nothing was downloaded");
  });
});
