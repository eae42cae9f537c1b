// esp-at's AT+SYSMFG (docs/en/AT_Command_Set/Basic_AT_Commands.rst) and its examples'
// "PKI Configuration" (docs/en/AT_Command_Examples/sysmfg_at_examples.rst): certificates and keys
// written over the UART at run time, kept in flash across AT+RST and AT+RESTORE, and used by SSL
// links (against node:tls servers) and MQTT over TLS (against Mosquitto). Certificates are made
// for the run with openssl.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server, type TlsOptions, type TLSSocket } from "node:tls";
import { BOOT_MS, JOINED, until, withConsole } from "../helpers/console.ts";
import { mosquitto } from "../helpers/mosquitto.ts";
import { freePort } from "../helpers/ports.ts";
import { have, needs } from "../helpers/sim.ts";
import { BIND_HOST, JOIN, PEER_HOST } from "../helpers/target.ts";
import type { UartClient } from "../helpers/uart.ts";

const OK = "\r\nOK\r\n";
const ERROR = "\r\nERROR\r\n";

/**
 * A CA; a server certificate it signs (subjectAltName 127.0.0.1); a client certificate it signs;
 * and a CA that signed neither. EC P-256 keys in PKCS#8, as Moddable's TLS reads them.
 */
function makeCertificates(): Record<"ca" | "otherCa" | "server" | "serverKey" | "client" | "clientKey" | "dir", string> {
  const dir = mkdtempSync(join(tmpdir(), "xsock-sysmfg-"));
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...newKey, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=xsock-sysmfg-ca", "-days", "2");
  openssl("req", "-x509", ...newKey, "-keyout", "other.key", "-out", "other.pem", "-subj", "/CN=xsock-other-ca", "-days", "2");
  const signed = (name: string, subject: string, extensions: string) => {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl("req", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
  };
  signed("server", "/CN=xsock-sysmfg-server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  signed("client", "/CN=xsock-sysmfg-client", "extendedKeyUsage=clientAuth\n");
  const read = (name: string) => readFileSync(join(dir, name), "latin1");
  // The chain, with its CA: Moddable's TLS checks the name only in a certificate that comes with its issuer.
  writeFileSync(join(dir, "chain.pem"), read("server.pem") + read("ca.pem"));
  // Mosquitto, started as root, reads them as its own user.
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) chmodSync(join(dir, name), 0o644);
  return { ca: read("ca.pem"), otherCa: read("other.pem"), server: read("server.pem"), serverKey: read("server.key"), client: read("client.pem"), clientKey: read("client.key"), dir };
}

/** A node:tls server with the run's server certificate; it echoes, and keeps each connection and its client certificate's CN. */
async function tlsServer(options: TlsOptions = {}): Promise<{ server: Server; port: number; seen: TLSSocket[]; clients: string[] }> {
  const seen: TLSSocket[] = [];
  const clients: string[] = [];
  const server = createServer({ cert: certs.server + certs.ca, key: certs.serverKey, ...options }, (c) => {
    c.on("error", () => {});
    seen.push(c);
    clients.push(String(c.getPeerCertificate()?.subject?.CN));
    c.pipe(c);
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, BIND_HOST, () => r()));
  return { server, port: (server.address() as AddressInfo).port, seen, clients };
}

const certs = makeCertificates();
after(() => rmSync(certs.dir, { recursive: true, force: true }));

/** AT+SYSMFG=2,...,<type>,<length>: `OK`, `>`, the bytes, `OK`, as the doc's "Configure Certificates" steps. */
async function writeValue(uart: UartClient, namespace: string, key: string, data: string | Buffer, type = 8): Promise<void> {
  await uart.write(`AT+SYSMFG=2,"${namespace}","${key}",${type},${Buffer.byteLength(data, "latin1")}\r\n`);
  assert.equal(await uart.expect(">"), `${OK}\r\n>`);
  await uart.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  assert.equal(await uart.expect(OK, 20000), OK);
}

/**
 * A command whose OK comes before the board restarts; waits for its ready (and, when the board
 * joins its saved AP at boot, for that), then turns echo off.
 */
async function restarting(uart: UartClient, line: string, joins: boolean): Promise<void> {
  await uart.write(`${line}\r\n`);
  assert.equal(await uart.expect("ready\r\n", BOOT_MS), `${OK}\r\nready\r\n`);
  if (joins) assert.equal(await uart.expect("WIFI GOT IP\r\n", BOOT_MS), "WIFI CONNECTED\r\nWIFI GOT IP\r\n", "the saved AP joined again");
  assert.equal(await uart.command("ATE0"), `ATE0\r\n${OK}`);
}

describe("esp-at AT+SYSMFG, as documented", function () {
  this.timeout(60000);
  const session = withConsole({ join: false, sim: {} });
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  const NAMESPACES = ["client_cert", "client_key", "client_ca", "server_cert", "server_key", "server_ca", "mqtt_cert", "mqtt_key", "mqtt_ca"];
  const listing = NAMESPACES.map((n) => `+SYSMFG:"${n}"\r\n`).join("") + OK;

  it("AT+SYSMFG Query Command, and Read a namespace or key-value pair with <namespace> omitted: every namespace", async () => {
    assert.equal(await uart.command("AT+SYSMFG?"), listing);
    assert.equal(await uart.command("AT+SYSMFG=1"), listing);
  });

  it("PKI Configuration, SSL Client Certificates: write, query, read, read from an offset, erase", async () => {
    assert.equal(await uart.command('AT+SYSMFG=1,"client_cert"'), OK, "nothing written yet");
    await writeValue(uart, "client_cert", "client_cert.0", certs.client);
    await writeValue(uart, "client_cert", "client_cert.1", certs.otherCa);
    assert.equal(await uart.command('AT+SYSMFG=1,"client_cert"'), `+SYSMFG:"client_cert","client_cert.0",8\r\n+SYSMFG:"client_cert","client_cert.1",8\r\n${OK}`);
    assert.equal(await uart.command('AT+SYSMFG=1,"client_cert","client_cert.0"'), `+SYSMFG:"client_cert","client_cert.0",8,${certs.client.length},${certs.client}\r\n${OK}`);
    assert.equal(await uart.command('AT+SYSMFG=1,"client_cert","client_cert.0",100,200'), `+SYSMFG:"client_cert","client_cert.0",8,200,${certs.client.slice(100, 300)}\r\n${OK}`);
    // Erase the client_cert.0 key-value pair, then all of the namespace.
    assert.equal(await uart.command('AT+SYSMFG=0,"client_cert","client_cert.0"'), OK);
    assert.equal(await uart.command('AT+SYSMFG=1,"client_cert"'), `+SYSMFG:"client_cert","client_cert.1",8\r\n${OK}`);
    assert.equal(await uart.command('AT+SYSMFG=1,"client_cert","client_cert.0"'), ERROR, "erased");
    assert.equal(await uart.command('AT+SYSMFG=0,"client_cert"'), OK);
    assert.equal(await uart.command('AT+SYSMFG=1,"client_cert"'), OK);
  });

  it("Write a key-value pair to a namespace: numbers as they are, a string after `>`; <length> is the number's characters", async () => {
    assert.equal(await uart.command('AT+SYSMFG=2,"server_ca","port",6,-115200'), OK);
    assert.equal(await uart.command('AT+SYSMFG=1,"server_ca","port"'), `+SYSMFG:"server_ca","port",6,7,-115200\r\n${OK}`);
    assert.equal(await uart.command('AT+SYSMFG=2,"server_ca","pin",1,17'), OK);
    assert.equal(await uart.command('AT+SYSMFG=1,"server_ca","pin"'), `+SYSMFG:"server_ca","pin",1,2,17\r\n${OK}`);
    await writeValue(uart, "server_ca", "name", "MY-MODULE-01", 7);
    assert.equal(await uart.command('AT+SYSMFG=1,"server_ca","name"'), `+SYSMFG:"server_ca","name",7,12,MY-MODULE-01\r\n${OK}`);
    assert.equal(await uart.command('AT+SYSMFG=1,"server_ca"'), `+SYSMFG:"server_ca","port",6\r\n+SYSMFG:"server_ca","pin",1\r\n+SYSMFG:"server_ca","name",7\r\n${OK}`);
    // A value written again replaces the old one, of any type.
    assert.equal(await uart.command('AT+SYSMFG=2,"server_ca","name",3,65535'), OK);
    assert.equal(await uart.command('AT+SYSMFG=1,"server_ca","name"'), `+SYSMFG:"server_ca","name",3,5,65535\r\n${OK}`);
  });

  it("Write a key-value pair to a namespace: a value longer than one preference (8 KiB) reads back byte for byte", async () => {
    const data = randomBytes(8192);
    await writeValue(uart, "server_cert", "server_cert", data);
    const whole = await uart.command('AT+SYSMFG=1,"server_cert","server_cert"', 20000);
    assert.equal(whole, `+SYSMFG:"server_cert","server_cert",8,8192,${data.toString("latin1")}\r\n${OK}`);
    // Across the first piece's end (its 3998 bytes, after its two of type and count).
    assert.equal(await uart.command('AT+SYSMFG=1,"server_cert","server_cert",3990,20'), `+SYSMFG:"server_cert","server_cert",8,20,${data.subarray(3990, 4010).toString("latin1")}\r\n${OK}`);
  });

  it("AT+SYSMFG errors: bad operations, namespaces, keys, types, values and ranges get ERROR, and lose nothing", async () => {
    await writeValue(uart, "mqtt_ca", "mqtt_ca", "kept");
    for (const line of [
      "AT+SYSMFG=3",
      'AT+SYSMFG=1,"factory_param"', // not a namespace of the console's
      'AT+SYSMFG=1,"nope"',
      'AT+SYSMFG=0,"mqtt_ca","absent"',
      'AT+SYSMFG=1,"mqtt_ca","absent"',
      'AT+SYSMFG=1,"mqtt_ca","mqtt_ca",4,1', // past the value's end
      'AT+SYSMFG=1,"mqtt_ca","mqtt_ca",0,0',
      'AT+SYSMFG=1,"mqtt_ca","mqtt_ca",1',
      'AT+SYSMFG=2,"mqtt_ca","mqtt_ca"',
      'AT+SYSMFG=2,"mqtt_ca","x",9,1',
      'AT+SYSMFG=2,"mqtt_ca","x",1,256',
      'AT+SYSMFG=2,"mqtt_ca","x",2,-129',
      'AT+SYSMFG=2,"mqtt_ca","x",8,0',
      'AT+SYSMFG=2,"mqtt_ca","x",8,8193',
      'AT+SYSMFG=2,"mqtt_ca","fourteen_chars",1,1', // NVS's 15, less two for a value's pieces
      'AT+SYSMFG=2,"mqtt_ca","a~b",1,1',
      'AT+SYSMFG=2,"mqtt_ca",,1,1',
      "AT+SYSMFG=0",
    ]) {
      assert.equal(await uart.command(line), ERROR, line);
    }
    assert.equal(await uart.command('AT+SYSMFG=1,"mqtt_ca"'), `+SYSMFG:"mqtt_ca","mqtt_ca",8\r\n${OK}`);
    assert.equal(await uart.command('AT+SYSMFG=1,"mqtt_ca","mqtt_ca"'), `+SYSMFG:"mqtt_ca","mqtt_ca",8,4,kept\r\n${OK}`);
  });
});

describe("esp-at AT+SYSMFG, PKI Configuration: SSL links use what it writes", function () {
  this.timeout(90000);
  // The build's CA 0 did not sign the server's certificate; the build has no client certificate.
  const session = withConsole({ sim: { config: { ca: [certs.otherCa] } } });
  let uart: UartClient;
  let peer: Awaited<ReturnType<typeof tlsServer>> | undefined;
  beforeEach(() => void ({ uart } = session));
  afterEach(() => {
    peer?.server.close();
    for (const c of peer?.seen ?? []) c.destroy();
    peer = undefined;
  });

  /** One SSL link to the peer, its echo, and its close. */
  async function echoOverSsl(): Promise<void> {
    assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer!.port}`, 20000), `CONNECT\r\n${OK}`);
    await uart.write("AT+CIPSEND=4\r\n");
    assert.equal(await uart.expect(">"), `${OK}\r\n>`);
    await uart.write("ping");
    assert.equal(await uart.expect("+IPD,4:ping"), "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n\r\n+IPD,4:ping");
    assert.equal(await uart.command("AT+CIPCLOSE"), `CLOSED\r\n${OK}`);
  }

  it("SSL Client Certificates, Use Certificates: auth mode 2 fails with the build's CA 0, succeeds with client_ca.0, after AT+RST and after AT+RESTORE", async () => {
    peer = await tlsServer();
    assert.equal(await uart.command("AT+CIPSSLCCONF=2,0,0"), OK);
    assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer.port}`, 20000), ERROR, "the build's CA did not sign the server's certificate");
    await writeValue(uart, "client_ca", "client_ca.0", certs.ca);
    await echoOverSsl();

    await restarting(uart, "AT+RST", true);
    assert.equal(await uart.command("AT+CIPSSLCCONF?"), `+CIPSSLCCONF:0,2,0,0\r\n${OK}`);
    await echoOverSsl();

    // AT+RESTORE forgets the AP and CIPSSLCCONF, not the manufacturing data.
    await restarting(uart, "AT+RESTORE", false);
    assert.equal(await uart.command(JOIN, 20000), JOINED);
    assert.equal(await uart.command("AT+CIPSSLCCONF?"), `+CIPSSLCCONF:0,0,0,0\r\n${OK}`);
    assert.equal(await uart.command('AT+SYSMFG=1,"client_ca"'), `+SYSMFG:"client_ca","client_ca.0",8\r\n${OK}`);
    assert.equal(await uart.command("AT+CIPSSLCCONF=2,0,0"), OK);
    await echoOverSsl();

    // A value that is not a certificate makes CA 0 unusable; erased, CA 0 is the build's again.
    await writeValue(uart, "client_ca", "client_ca.0", "not a certificate");
    assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer.port}`, 20000), ERROR);
    assert.equal(await uart.command("AT+CIPSSLCCONF=2,0,0"), ERROR, "CA 0 is not a certificate");
    assert.equal(await uart.command('AT+SYSMFG=0,"client_ca","client_ca.0"'), OK);
    assert.equal(await uart.command("AT+CIPSSLCCONF=2,0,0"), OK);
    assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer.port}`, 20000), ERROR, "the build's CA did not sign it");
  });

  it("SSL Client Certificates, Configure Certificates: a client certificate and key written at run time are accepted by a server that requires one", async () => {
    peer = await tlsServer({ requestCert: true, rejectUnauthorized: true, ca: certs.ca });
    assert.equal(await uart.command("AT+CIPSSLCCONF=1,0,0"), ERROR, "PKI 0 is not configured yet");
    await writeValue(uart, "client_cert", "client_cert.0", certs.client);
    assert.equal(await uart.command("AT+CIPSSLCCONF=1,0,0"), ERROR, "a certificate without its key");
    await writeValue(uart, "client_key", "client_key.0", certs.clientKey);
    assert.equal(await uart.command("AT+CIPSSLCCONF=1,0,0"), OK);
    await echoOverSsl();
    assert.deepEqual(peer.clients, ["xsock-sysmfg-client"]);

    await restarting(uart, "AT+RST", true);
    await echoOverSsl();
    assert.deepEqual(peer.clients, ["xsock-sysmfg-client", "xsock-sysmfg-client"]);
  });
});

describe("esp-at AT+SYSMFG, PKI Configuration: MQTT over TLS uses mqtt_ca, mqtt_cert and mqtt_key", function () {
  this.timeout(90000);
  const session = withConsole({ sim: {} });
  let uart: UartClient;
  before(function () {
    needs(this, "mosquitto", have("mosquitto"));
  });
  beforeEach(() => void ({ uart } = session));

  it("MQTTUSERCFG scheme 5 (TLS, server and client checked) against Mosquitto with require_certificate, with certificates written by AT+SYSMFG", async () => {
    const tlsPort = await freePort();
    const broker = await mosquitto([
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${join(certs.dir, "ca.pem")}`,
      `certfile ${join(certs.dir, "chain.pem")}`,
      `keyfile ${join(certs.dir, "server.key")}`,
      "require_certificate true",
    ]);
    try {
      assert.equal(await uart.command('AT+MQTTUSERCFG=0,5,"sysmfg-client","","",0,0,""'), OK);
      assert.equal(await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${tlsPort},0`), ERROR, "no MQTT certificates yet");
      await writeValue(uart, "mqtt_ca", "mqtt_ca", certs.ca);
      await writeValue(uart, "mqtt_cert", "mqtt_cert", certs.client);
      await writeValue(uart, "mqtt_key", "mqtt_key", certs.clientKey);
      assert.equal(await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${tlsPort},0`, 30000), `+MQTTCONNECTED:0,5,"127.0.0.1","${tlsPort}","",0\r\n${OK}`);
      await until(() => /New client connected .* as sysmfg-client/.test(broker.log), "the broker's log of the client");
      assert.equal(await uart.command("AT+MQTTCLEAN=0"), OK);
    } finally {
      await broker.stop();
    }
  });
});
