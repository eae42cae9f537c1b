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
const TOKEN = "0123456789abcdef0123456789abcdef01234567";
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

/** AT+RST, the reboot, then AT+GMR's version line: which firmware the next boot runs. */
async function versionAfterRestart(uart: UartClient): Promise<string> {
  assert.equal(await uart.command("AT+RST"), OK);
  await rebooted(uart);
  return gmrVersion(uart);
}

let image: Buffer;
/** The build's config for the OTA server (docs/console.md), once the servers listen. */
const otaConfig: Record<string, unknown> = {};
let http: Awaited<ReturnType<typeof serve>>;
let https: Awaited<ReturnType<typeof serve>>;

before(async function () {
  this.timeout(60000);
  image = writeImage(await buildFirmware(ROOT, loadBoard(), { version: NEW_VERSION }), "esp32/nodemcu");
  const corrupted = Buffer.from(image);
  corrupted[corrupted.length >> 1] ^= 0x01;
  // The OTA server as at_ota_cmd.c asks it: its versions, the latest, and a version's image; a token in each request.
  const rom: Route = (req, res) => {
    if (req.headers.authorization !== `token ${TOKEN}`) return void res.writeHead(401, { "Content-Length": 0 }).end();
    const query = new URL(req.url!, "http://x").searchParams;
    if (query.get("action") === "download_rom") {
      if (query.get("version") === NEW_VERSION && query.get("filename") === "ota.bin") return sendBytes(image)(req, res);
      return void res.writeHead(404, { "Content-Length": 12 }).end("no such file");
    }
    const body = query.get("is_format_simple")
      ? `{"status": 200, "rom_version": "${NEW_VERSION}", "message": ""}`
      : `{"status": 200, "message": "", "productbatch": {"name": "xsock"}, "roms": [{"version": "v0.1.0", "created": "2026-11-21"}, {"version": "${NEW_VERSION}", "created": "2026-12-07"}]}`;
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": body.length }).end(body);
  };
  const routes = {
    "/v1/device/rom": rom,
    "/v1/device/rom/": rom,
    "/esp-at.bin": sendBytes(image),
    "/truncated.bin": sendBytes(image.subarray(0, image.length - 100)),
    "/corrupted.bin": sendBytes(corrupted),
    "/moved.bin": (_req: IncomingMessage, res: ServerResponse) => res.writeHead(302, { Location: "/esp-at.bin", "Content-Length": 5 }).end("moved"),
  };
  http = await serve(routes);
  https = await serve(routes, true);
  Object.assign(otaConfig, { otaServer: `127.0.0.1:${http.port}`, otaSslServer: `127.0.0.1:${https.port}`, otaToken: TOKEN });
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
    assert.equal(await versionAfterRestart(uart), before.replace("xsock-0.1.0", `xsock-${NEW_VERSION}`));
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
      assert.equal(await versionAfterRestart(uart), before);
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

describe("esp-at TCP/IP AT Commands: AT+CIPFWVER and AT+CIUPDATE, against an OTA server as at_ota_cmd.c speaks to it", function () {
  this.timeout(120000);
  const session = withConsole({ sim: { config: otaConfig } });
  const states = (...n: number[]) => n.map((s) => `+CIPUPDATE:${s}\r\n`).join("");

  it("AT+CIPFWVER?: +CIPFWVER:<\"version\"> for each version on the server, the token sent", async () => {
    const { uart } = session;
    const seen = http.seen.length;
    assert.equal(await uart.command("AT+CIPFWVER?"), `+CIPFWVER:"v0.1.0"\r\n+CIPFWVER:"${NEW_VERSION}"\r\n${OK}`);
    assert.deepEqual(http.seen.slice(seen).map((r) => [r.url, r.headers.authorization]), [["/v1/device/rom", `token ${TOKEN}`]]);
  });

  it("AT+CIUPDATE, Execute Command: +CIPUPDATE:1 to 4, OK, then the board restarts into the server's latest version", async () => {
    const { uart } = session;
    const before = await gmrVersion(uart);
    assert.equal(await uart.command("AT+CIUPDATE?"), `+CIPUPDATE:0\r\n${OK}`);
    const seen = http.seen.length;
    assert.equal(await uart.command("AT+CIUPDATE", 60000), `${states(1, 2, 3, 4)}${OK}`);
    assert.deepEqual(
      http.seen.slice(seen).map((r) => r.url),
      ["/v1/device/rom/?is_format_simple=true", `/v1/device/rom/?action=download_rom&version=${NEW_VERSION}&filename=ota.bin`],
    );
    await rebooted(uart);
    assert.equal(await gmrVersion(uart), before.replace("xsock-0.1.0", `xsock-${NEW_VERSION}`));
  });

  it("AT+CIUPDATE=<ota mode>: mode 1 over HTTPS, from the server the config names for it", async () => {
    const { uart } = session;
    assert.equal(await uart.command("AT+CIUPDATE=1", 60000), `${states(1, 2, 3, 4)}${OK}`);
    await rebooted(uart);
    assert.match(await gmrVersion(uart), new RegExp(`xsock-${NEW_VERSION} `));
  });

  it('AT+CIUPDATE=0,<"version">,<"firmware name">,1: non-blocking, OK first, then the states; no restart until AT+RST', async () => {
    const { uart } = session;
    const before = await gmrVersion(uart);
    await uart.write(`AT+CIUPDATE=0,"${NEW_VERSION}","ota",1\r\n`);
    // A version given: no version request, so no states 2 and 3 (at_ota_cmd.c).
    assert.equal(await uart.expect("+CIPUPDATE:4\r\n", 60000), `${OK}${states(1, 4)}`);
    assert.equal(await uart.command("AT+CIUPDATE?"), `+CIPUPDATE:4\r\n${OK}`);
    assert.equal(await gmrVersion(uart), before);
    assert.equal(await versionAfterRestart(uart), before.replace("xsock-0.1.0", `xsock-${NEW_VERSION}`));
  });

  it('AT+CIUPDATE, "if OTA fails": the last state and ERROR (blocking), or OK, the states and -1 (non-blocking); the firmware runs on', async () => {
    const { uart } = session;
    const before = await gmrVersion(uart);
    // A version the server has not: its 404 is no image.
    assert.equal(await uart.command('AT+CIUPDATE=0,"v9.9.9"', 60000), `${states(1)}${ERROR}`);
    assert.equal(await uart.command("AT+CIUPDATE?"), `+CIPUPDATE:-1\r\n${OK}`);
    await uart.write('AT+CIUPDATE=0,"v9.9.9","ota",1\r\n');
    assert.equal(await uart.expect("+CIPUPDATE:-1\r\n", 60000), `${OK}${states(1, -1)}`);
    // ESP-AT's custom partitions (mqtt_ca, ...) are not on xsock's board: the update fails once it has the version.
    assert.equal(await uart.command('AT+CIUPDATE=0,"","mqtt_ca"', 60000), `${states(1, 2, 3)}${ERROR}`);
    assert.equal(await uart.command("AT"), OK);
    assert.equal(await versionAfterRestart(uart), before);
  });

  it("AT+CIUPDATE=<ota mode>[,<\"version\">][,<\"firmware name\">][,<nonblocking>]: ERROR for parameters out of range", async () => {
    const { uart } = session;
    const seen = http.seen.length;
    for (const bad of ["AT+CIUPDATE=2", "AT+CIUPDATE=-1", 'AT+CIUPDATE=0,"v1","ota",2', "AT+CIUPDATE=0,1", `AT+CIUPDATE=0,"${"v".repeat(65)}"`, 'AT+CIUPDATE=0,"v1","ota",0,1', "AT+CIPFWVER=1", "AT+CIPFWVER"]) {
      assert.equal(await uart.command(bad), ERROR, bad);
    }
    assert.equal(http.seen.length, seen, "no request went out");
    assert.equal(await uart.command("AT+CIUPDATE?"), `+CIPUPDATE:0\r\n${OK}`);
  });
});

describe("esp-at TCP/IP AT Commands: AT+CIPFWVER and AT+CIUPDATE without an OTA server in the build's config", function () {
  this.timeout(60000);
  const session = withConsole({ sim: {} });

  it("AT+CIPFWVER? and AT+CIUPDATE: ERROR, and the console answers on", async () => {
    const { uart } = session;
    assert.equal(await uart.command("AT+CIPFWVER?"), ERROR);
    assert.equal(await uart.command("AT+CIUPDATE"), ERROR);
    assert.equal(await uart.command("AT+CIUPDATE?"), `+CIPUPDATE:-1\r\n${OK}`);
    assert.equal(await uart.command("AT"), OK);
  });
});
