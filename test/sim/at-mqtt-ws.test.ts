// esp-at's MQTT over WebSocket: AT+MQTTUSERCFG's schemes 6 to 10 (MQTT_AT_Commands.rst) and the
// examples' "MQTT over WSS" (MQTT_AT_Examples.rst), against Debian's Mosquitto behind a `ws`
// WebSocket server (test/helpers/ws-bridge.ts: mosquitto 2.0.11 has no websockets listener), with
// mosquitto_pub and mosquitto_sub as the other client. Certificates are made for the run with openssl.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until, withConsole } from "../helpers/console.ts";
import { mosquitto, publish, subscribe, type Broker } from "../helpers/mosquitto.ts";
import { have, needs } from "../helpers/sim.ts";
import { literal } from "../helpers/target.ts";
import type { UartClient } from "../helpers/uart.ts";
import { wsBridge, type Bridge, type BridgeOptions } from "../helpers/ws-bridge.ts";

const OK = "\r\nOK\r\n";
const FAILED = "+MQTTDISCONNECTED:0\r\n\r\nERROR\r\n";

/** A CA, a server certificate it signs (127.0.0.1) with the CA after it, a client certificate it signs, and a CA that signed neither. */
function makeCertificates(): Record<"ca" | "otherCa" | "chain" | "serverKey" | "client" | "clientKey", string> {
  const dir = mkdtempSync(join(tmpdir(), "xsock-mqtt-ws-"));
  try {
    const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl("req", "-x509", ...newKey, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=xsock-ws-ca", "-days", "2");
    openssl("req", "-x509", ...newKey, "-keyout", "other.key", "-out", "other.pem", "-subj", "/CN=xsock-ws-other-ca", "-days", "2");
    const signed = (name: string, extensions: string) => {
      writeFileSync(join(dir, `${name}.ext`), extensions);
      openssl("req", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=xsock-ws-${name}`);
      openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
    };
    signed("server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    signed("client", "extendedKeyUsage=clientAuth\n");
    const read = (name: string) => readFileSync(join(dir, name), "latin1");
    // The chain with its CA: Moddable's TLS checks the name only in a certificate that comes with its issuer.
    return { ca: read("ca.pem"), otherCa: read("other.pem"), chain: read("server.pem") + read("ca.pem"), serverKey: read("server.key"), client: read("client.pem"), clientKey: read("client.key") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The doc's <scheme> list for 6 to 10: what each asks of the server and of the board. */
const SCHEMES = [
  { scheme: 6, doc: "MQTT over WebSocket (based on TCP)", tls: false, ca: false, pki: false },
  { scheme: 7, doc: "MQTT over WebSocket Secure (based on TLS, no certificate verify)", tls: true, ca: false, pki: false },
  { scheme: 8, doc: "MQTT over WebSocket Secure (based on TLS, verify server certificate)", tls: true, ca: true, pki: false },
  { scheme: 9, doc: "MQTT over WebSocket Secure (based on TLS, provide client certificate)", tls: true, ca: false, pki: true },
  { scheme: 10, doc: "MQTT over WebSocket Secure (based on TLS, verify server certificate and provide client certificate)", tls: true, ca: true, pki: true },
];

describe("esp-at MQTT over WebSocket (schemes 6 to 10), against Mosquitto behind a WebSocket bridge", function () {
  this.timeout(90000);
  const session = withConsole({ sim: {} });
  let uart: UartClient;
  let broker: Broker | undefined;
  let bridge: Bridge | undefined;
  let certs: ReturnType<typeof makeCertificates>;
  before(function () {
    needs(this, "mosquitto, mosquitto-clients and openssl", have("mosquitto") && have("mosquitto_sub") && have("mosquitto_pub") && have("openssl"));
    certs = makeCertificates();
  });
  beforeEach(async () => {
    ({ uart } = session);
    broker = await mosquitto();
  });
  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
    await broker?.stop();
    broker = undefined;
  });

  /** A bridge to this test's broker; wss (the server's chain, and the client's CA for 9 and 10) when `tls`. */
  async function startBridge(options: Partial<BridgeOptions> & { secure?: boolean; clientCa?: boolean } = {}): Promise<Bridge> {
    const { secure, clientCa, ...rest } = options;
    bridge = await wsBridge(broker!.port, { path: "/mqtt", ...(secure && { tls: { cert: certs.chain, key: certs.serverKey, ...(clientCa && { ca: certs.ca }) } }), ...rest });
    return bridge;
  }

  /** AT+SYSMFG=2 of a certificate or key, as the doc's PKI Configuration steps write them. */
  async function writePki(namespace: string, data: string): Promise<void> {
    await uart.write(`AT+SYSMFG=2,"${namespace}","${namespace}",8,${data.length}\r\n`);
    assert.equal(await uart.expect(">"), `${OK}\r\n>`);
    await uart.write(Buffer.from(data, "latin1"));
    assert.equal(await uart.expect(OK, 20000), OK);
  }

  /** MQTTUSERCFG with the doc's path "mqtt", and MQTTCONN: +MQTTCONNECTED with the scheme and the path from `/`. */
  async function connect(scheme: number, port: number, clientId = "publisher", reconnect = 0): Promise<void> {
    assert.equal(await uart.command(`AT+MQTTUSERCFG=0,${scheme},"${clientId}","","",0,0,"mqtt"`), OK);
    assert.equal(await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${port},${reconnect}`, 30000), `+MQTTCONNECTED:0,${scheme},"127.0.0.1","${port}","/mqtt",${reconnect}\r\n${OK}`);
  }

  it('MQTT AT Examples, MQTT over WSS: AT+MQTTUSERCFG=0,7,...,"mqtt", +MQTTCONNECTED with "/mqtt", subscribe, a message as +MQTTSUBRECV, publish, clean', async () => {
    const b = await startBridge({ secure: true });
    assert.equal(await uart.command('AT+MQTTUSERCFG=0,7,"subscriber","","",0,0,"mqtt"'), OK);
    assert.equal(await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${b.port},1`, 30000), `+MQTTCONNECTED:0,7,"127.0.0.1","${b.port}","/mqtt",1\r\n${OK}`);
    // The upgrade, as ESP-IDF's WebSocket transport asks for it.
    const [request] = b.requests;
    assert.equal(request.url, "/mqtt");
    assert.equal(request.headers["sec-websocket-protocol"], "mqtt");
    assert.equal(request.headers["sec-websocket-version"], "13");
    assert.equal(request.headers.upgrade, "websocket");
    assert.equal(request.headers.host, `127.0.0.1:${b.port}`);
    assert.match(request.headers["sec-websocket-key"] ?? "", /^[A-Za-z0-9+/]{22}==$/);
    assert.match(broker!.log, /New client connected from 127\.0\.0\.1:\d+ as subscriber/);
    assert.equal(await uart.command("AT+MQTTCONN?"), `+MQTTCONN:0,4,7,"127.0.0.1","${b.port}","/mqtt",1\r\n${OK}`);

    assert.equal(await uart.command('AT+MQTTSUB=0,"topic",1'), OK);
    await publish(broker!.port, "topic", "test", ["-q", "1"]);
    assert.equal(await uart.expect("test\r\n"), '+MQTTSUBRECV:0,"topic",4,test\r\n');
    const sub = subscribe(broker!.port, "topic/out", 1);
    await sub.ready;
    assert.equal(await uart.command('AT+MQTTPUB=0,"topic/out","test",1,0'), OK);
    assert.deepEqual(await sub.messages, [{ topic: "topic/out", retained: false, payload: Buffer.from("test") }]);
    assert.equal(await uart.command("AT+MQTTCLEAN=0"), OK);
    await until(() => /Client subscriber disconnected\./.test(broker!.log), "the DISCONNECT at the broker");
  });

  for (const s of SCHEMES) {
    it(`AT+MQTTUSERCFG <scheme> ${s.scheme}, ${s.doc}: connects, publishes QoS 0, 1 and 2 to mosquitto_sub, receives +MQTTSUBRECV`, async () => {
      const b = await startBridge({ secure: s.tls, clientCa: s.pki });
      if (s.ca) await writePki("mqtt_ca", certs.ca);
      if (s.pki) {
        await writePki("mqtt_cert", certs.client);
        await writePki("mqtt_key", certs.clientKey);
      }
      await connect(s.scheme, b.port, `ws-${s.scheme}`);
      if (s.pki) assert.deepEqual(b.clientNames, ["xsock-ws-client"], "the client certificate at the server");
      const sub = subscribe(broker!.port, "qos/#", 3, ["-q", "2"]);
      await sub.ready;
      for (const qos of [0, 1, 2]) assert.equal(await uart.command(`AT+MQTTPUB=0,"qos/${qos}","m${qos}",${qos},0`), OK);
      assert.deepEqual((await sub.messages).map((m) => `${m.topic}=${m.payload.toString()}`).sort(), ["qos/0=m0", "qos/1=m1", "qos/2=m2"]);
      assert.match(broker!.log, new RegExp(`Received PUBREL from ws-${s.scheme}`), "QoS 2's whole flow");
      assert.equal(await uart.command('AT+MQTTSUB=0,"in",2'), OK);
      await publish(broker!.port, "in", `to ${s.scheme}`, ["-q", "2"]);
      const text = `to ${s.scheme}`;
      assert.equal(await uart.expect(`${text}\r\n`), `+MQTTSUBRECV:0,"in",${text.length},${text}\r\n`);
    });
  }

  it("AT+MQTTPUBRAW and +MQTTSUBRECV: payloads past a frame's 7-bit (125) and 16-bit (65535) lengths, both ways, byte for byte", async () => {
    const b = await startBridge();
    await connect(6, b.port);
    for (const size of [300, 70000]) {
      const payload = randomBytes(size);
      const sub = subscribe(broker!.port, "big/out", 1);
      await sub.ready;
      await uart.write(`AT+MQTTPUBRAW=0,"big/out",${size},1,0\r\n`);
      assert.equal(await uart.expect(">"), `${OK}\r\n>`);
      await uart.write(payload);
      assert.equal(await uart.expect("+MQTTPUB:OK\r\n", 30000), "\r\n+MQTTPUB:OK\r\n");
      const [message] = await sub.messages;
      assert.ok(message.payload.equals(payload), `the ${size}-byte payload at mosquitto_sub`);
    }
    assert.equal(await uart.command('AT+MQTTSUB=0,"big/in",1'), OK);
    for (const size of [300, 70000]) {
      const payload = randomBytes(size);
      await publish(broker!.port, "big/in", payload, ["-q", "1"]);
      const head = `+MQTTSUBRECV:0,"big/in",${size},`;
      const got = await uart.expect(new RegExp(`${literal(head)}[\\s\\S]{${size}}\\r\\n`), 30000);
      assert.ok(Buffer.from(got.slice(got.indexOf(head) + head.length, -2), "latin1").equals(payload), `the ${size}-byte payload at the board`);
    }
  });

  it("a server's messages in fragments (RFC 6455 5.4): CONNACK, SUBACK and a PUBLISH each in three frames, read whole", async () => {
    const b = await startBridge({ fragments: 3 });
    await connect(6, b.port);
    assert.equal(await uart.command('AT+MQTTSUB=0,"pieces",1'), OK);
    const payload = randomBytes(1000).toString("hex");
    await publish(broker!.port, "pieces", payload, ["-q", "1"]);
    assert.equal(await uart.expect(`${payload}\r\n`), `+MQTTSUBRECV:0,"pieces",${payload.length},${payload}\r\n`);
  });

  it("the server's pings get pongs with their payload (RFC 6455 5.5.2), and the connection carries on", async () => {
    const b = await startBridge();
    await connect(6, b.port);
    assert.deepEqual(await b.ping(Buffer.from("are you there")), [Buffer.from("are you there")]);
    assert.equal(await uart.command('AT+MQTTSUB=0,"after/ping",0'), OK);
    await publish(broker!.port, "after/ping", "yes");
    assert.equal(await uart.expect("yes\r\n"), '+MQTTSUBRECV:0,"after/ping",3,yes\r\n');
  });

  it("AT+MQTTCONN to a wrong <path>: the server answers 404, and the connection fails as ESP-AT reports it (+MQTTDISCONNECTED, ERROR)", async () => {
    const b = await startBridge();
    assert.equal(await uart.command('AT+MQTTUSERCFG=0,6,"lost","","",0,0,"elsewhere"'), OK);
    assert.equal(await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${b.port},0`, 30000), FAILED);
    assert.deepEqual(b.requests.map((r) => r.url), ["/elsewhere"]);
    assert.equal(await uart.command("AT+MQTTCONN?"), `+MQTTCONN:0,3,6,"127.0.0.1","${b.port}","/elsewhere",0\r\n${OK}`);
    assert.doesNotMatch(broker!.log, /as lost/, "no client reached the broker");
    assert.equal(await uart.command("AT"), OK);
  });

  it("AT+MQTTCONN to a WebSocket server that does not choose the mqtt subprotocol: the connection fails (+MQTTDISCONNECTED, ERROR)", async () => {
    const b = await startBridge({ subprotocol: false });
    assert.equal(await uart.command('AT+MQTTUSERCFG=0,6,"unheard","","",0,0,"mqtt"'), OK);
    assert.equal(await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${b.port},0`, 30000), FAILED);
    assert.equal(b.requests.length, 1, "the upgrade was asked for");
    assert.doesNotMatch(broker!.log, /as unheard/, "no CONNECT went through");
  });

  it("AT+MQTTUSERCFG <scheme> 8 with a CA that did not sign the server's certificate: the connection fails (+MQTTDISCONNECTED, ERROR)", async () => {
    const b = await startBridge({ secure: true });
    await writePki("mqtt_ca", certs.otherCa);
    assert.equal(await uart.command('AT+MQTTUSERCFG=0,8,"untrusting","","",0,0,"mqtt"'), OK);
    assert.equal(await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${b.port},0`, 30000), FAILED);
    assert.equal(b.requests.length, 0, "no upgrade over an unchecked connection");
    assert.doesNotMatch(broker!.log, /as untrusting/);
  });

  it("+MQTTDISCONNECTED: the WebSocket server's close frame is echoed with its status code (RFC 6455 5.5.1), and the connection ends", async () => {
    const b = await startBridge();
    await connect(6, b.port, "closed");
    assert.deepEqual(await b.closeAll(1001), [1001]);
    assert.equal(await uart.expect("+MQTTDISCONNECTED:0\r\n"), "+MQTTDISCONNECTED:0\r\n");
    assert.equal(await uart.command("AT+MQTTCONN?"), `+MQTTCONN:0,3,6,"127.0.0.1","${b.port}","/mqtt",0\r\n${OK}`);
  });

  it("+MQTTDISCONNECTED: the WebSocket server drops the connection; with <reconnect> 1 the board connects again", async () => {
    const b = await startBridge();
    await connect(6, b.port, "dropped", 1);
    b.drop();
    assert.equal(await uart.expect("+MQTTDISCONNECTED:0\r\n"), "+MQTTDISCONNECTED:0\r\n");
    assert.equal(await uart.command("AT+MQTTCONN?"), `+MQTTCONN:0,3,6,"127.0.0.1","${b.port}","/mqtt",1\r\n${OK}`);
    // esp-mqtt tries again every 10 s.
    assert.equal(await uart.expect(/\+MQTTCONNECTED:[^\r]*\r\n/, 30000), `+MQTTCONNECTED:0,6,"127.0.0.1","${b.port}","/mqtt",1\r\n`);
    assert.equal(b.requests.length, 2, "a second upgrade");
  });
});
