// esp-at's MQTT AT Commands page (docs/en/AT_Command_Set/MQTT_AT_Commands.rst) and its MQTT
// examples, against Debian's Mosquitto broker on loopback, with mosquitto_pub and
// mosquitto_sub as the other client. Each test is named after the doc section it comes from.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { until, withConsole } from "../helpers/console.ts";
import { mosquitto, publish, subscribe, type Broker } from "../helpers/mosquitto.ts";
import { have, needs } from "../helpers/sim.ts";
import type { UartClient } from "../helpers/uart.ts";

const OK = "\r\nOK\r\n";

describe("esp-at MQTT AT Commands, against Mosquitto", function () {
  this.timeout(60000);
  const session = withConsole({ sim: {} });
  let uart: UartClient;
  let broker: Broker | undefined;
  before(function () {
    needs(this, "mosquitto and mosquitto-clients", have("mosquitto") && have("mosquitto_sub") && have("mosquitto_pub"));
  });
  beforeEach(async () => {
    ({ uart } = session);
    broker = await mosquitto();
  });
  afterEach(async () => {
    await broker?.stop();
    broker = undefined;
  });

  /** MQTTUSERCFG and MQTTCONN over TCP, as the MQTT examples' first two steps. */
  async function connect(clientId = "publisher", reconnect = 0): Promise<void> {
    assert.equal(await uart.command(`AT+MQTTUSERCFG=0,1,"${clientId}","espressif","123456789",0,0,""`), OK);
    assert.equal(
      await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${broker!.port},${reconnect}`),
      `+MQTTCONNECTED:0,1,"127.0.0.1","${broker!.port}","",${reconnect}\r\n${OK}`,
    );
  }

  it("MQTT AT Examples, MQTT over TCP: connect, subscribe, a message from mosquitto_pub as +MQTTSUBRECV, publish to mosquitto_sub, clean", async () => {
    await connect("subscriber");
    assert.match(broker!.log, /New client connected from 127\.0\.0\.1:\d+ as subscriber .*u'espressif'/);
    assert.equal(await uart.command('AT+MQTTSUB=0,"topic",1'), OK);
    await publish(broker!.port, "topic", "test", ["-q", "1"]);
    assert.equal(await uart.expect("test\r\n"), '+MQTTSUBRECV:0,"topic",4,test\r\n');

    const sub = subscribe(broker!.port, "board/out", 1);
    await sub.ready;
    assert.equal(await uart.command('AT+MQTTPUB=0,"board/out","hello, broker",1,0'), OK);
    assert.deepEqual(await sub.messages, [{ topic: "board/out", retained: false, payload: Buffer.from("hello, broker") }]);

    assert.equal(await uart.command("AT+MQTTCLEAN=0"), OK);
    assert.equal(await uart.command("AT+MQTTCONN?"), `+MQTTCONN:0,0,0,"127.0.0.1","${broker!.port}","",0\r\n${OK}`);
  });

  it("AT+MQTTPUB: QoS 0, 1 and 2 each reach a subscriber once; a retained message reaches a later one", async () => {
    await connect();
    const sub = subscribe(broker!.port, "qos/#", 3, ["-q", "2"]);
    await sub.ready;
    for (const qos of [0, 1, 2]) assert.equal(await uart.command(`AT+MQTTPUB=0,"qos/${qos}","m${qos}",${qos},0`), OK);
    const got = await sub.messages;
    assert.deepEqual(got.map((m) => `${m.topic}=${m.payload.toString()}`).sort(), ["qos/0=m0", "qos/1=m1", "qos/2=m2"]);
    // QoS 2's whole flow ran: the broker logged the board's PUBREL and sent PUBCOMP.
    assert.match(broker!.log, /Received PUBREL from publisher/);
    assert.match(broker!.log, /Sending PUBCOMP to publisher/);

    assert.equal(await uart.command('AT+MQTTPUB=0,"kept","retained one",1,1'), OK);
    const later = subscribe(broker!.port, "kept", 1);
    assert.deepEqual(await later.messages, [{ topic: "kept", retained: true, payload: Buffer.from("retained one") }]);
  });

  it("AT+MQTTPUBRAW: `>`, the bytes, then +MQTTPUB:OK; 64 KiB of any bytes arrive byte for byte", async () => {
    await connect();
    const payload = randomBytes(65536);
    const sub = subscribe(broker!.port, "raw", 1);
    await sub.ready;
    await uart.write(`AT+MQTTPUBRAW=0,"raw",${payload.length},1,0\r\n`);
    assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
    await uart.write(payload);
    assert.equal(await uart.expect("+MQTTPUB:OK\r\n", 30000), "\r\n+MQTTPUB:OK\r\n");
    const [message] = await sub.messages;
    assert.equal(message.payload.length, payload.length);
    assert.ok(message.payload.equals(payload), "the payload differs");
  });

  it("AT+MQTTSUB: a message of any bytes from mosquitto_pub arrives whole, its length first", async () => {
    await connect();
    assert.equal(await uart.command('AT+MQTTSUB=0,"bin",0'), OK);
    const payload = Buffer.concat([Buffer.from("\r\nOK\r\n+++"), randomBytes(4000)]);
    await publish(broker!.port, "bin", payload);
    const head = `+MQTTSUBRECV:0,"bin",${payload.length},`;
    const got = await uart.expect(new RegExp(`${head.replace(/[+]/g, "\\+")}[\\s\\S]{${payload.length}}\\r\\n`));
    assert.ok(Buffer.from(got.slice(got.indexOf(head) + head.length, -2), "latin1").equals(payload), "the payload differs");
  });

  it("AT+MQTTSUB?, ALREADY SUBSCRIBE, and AT+MQTTUNSUB with NO UNSUBSCRIBE", async () => {
    await connect();
    assert.equal(await uart.command("AT+MQTTSUB?"), OK);
    assert.equal(await uart.command('AT+MQTTSUB=0,"a/b",1'), OK);
    assert.equal(await uart.command('AT+MQTTSUB=0,"c/#",2'), OK);
    assert.equal(await uart.command('AT+MQTTSUB=0,"a/b",1'), `ALREADY SUBSCRIBE\r\n${OK}`);
    assert.equal(await uart.command("AT+MQTTSUB?"), `+MQTTSUB:0,6,"a/b",1\r\n+MQTTSUB:0,6,"c/#",2\r\n${OK}`);
    assert.equal(await uart.command(`AT+MQTTCONN?`), `+MQTTCONN:0,6,1,"127.0.0.1","${broker!.port}","",0\r\n${OK}`);
    assert.equal(await uart.command('AT+MQTTUNSUB=0,"a/b"'), OK);
    assert.equal(await uart.command('AT+MQTTUNSUB=0,"a/b"'), `NO UNSUBSCRIBE\r\n${OK}`);
    assert.equal(await uart.command("AT+MQTTSUB?"), `+MQTTSUB:0,6,"c/#",2\r\n${OK}`);
    // Unsubscribed: a message on a/b no longer arrives, one on c/d does.
    await publish(broker!.port, "a/b", "gone");
    await publish(broker!.port, "c/d", "here");
    assert.equal(await uart.expect("here\r\n"), '+MQTTSUBRECV:0,"c/d",4,here\r\n');
  });

  it("AT+MQTTCONNCFG: the broker publishes the last will when the board's link drops", async () => {
    assert.equal(await uart.command('AT+MQTTUSERCFG=0,1,"willing","","",0,0,""'), OK);
    assert.equal(await uart.command('AT+MQTTCONNCFG=0,30,0,"board/status","offline",1,0'), OK);
    assert.equal(await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${broker!.port},0`), `+MQTTCONNECTED:0,1,"127.0.0.1","${broker!.port}","",0\r\n${OK}`);
    assert.match(broker!.log, /Will message specified \(7 bytes\) \(r0, q1\)/);
    const will = subscribe(broker!.port, "board/status", 1);
    await will.ready;
    session.sim!.fault("link-drop", 500);
    assert.deepEqual(await will.messages, [{ topic: "board/status", retained: false, payload: Buffer.from("offline") }]);
    await uart.expect("+MQTTDISCONNECTED:0\r\n");
  });

  it("AT+MQTTCONN with <reconnect> 1: a broker restart gives +MQTTDISCONNECTED, then +MQTTCONNECTED, and the subscription holds", async () => {
    await connect("steady", 1);
    assert.equal(await uart.command('AT+MQTTSUB=0,"again",1'), OK);
    await broker!.kill();
    assert.equal(await uart.expect("+MQTTDISCONNECTED:0\r\n"), "+MQTTDISCONNECTED:0\r\n");
    assert.equal(await uart.command("AT+MQTTCONN?"), `+MQTTCONN:0,3,1,"127.0.0.1","${broker!.port}","",1\r\n${OK}`);
    await broker!.start();
    // esp-mqtt tries again every 10 s.
    assert.equal(await uart.expect(/\+MQTTCONNECTED:[^\r]*\r\n/, 30000), `+MQTTCONNECTED:0,1,"127.0.0.1","${broker!.port}","",1\r\n`);
    await until(() => /Received SUBSCRIBE from steady[\s\S]*Received SUBSCRIBE from steady/.test(broker!.log), "the subscription again");
    await publish(broker!.port, "again", "back");
    assert.equal(await uart.expect("back\r\n"), '+MQTTSUBRECV:0,"again",4,back\r\n');
  });

  it("AT+MQTTLONGCLIENTID, AT+MQTTLONGUSERNAME: `>`, the bytes, OK; the broker sees them", async () => {
    assert.equal(await uart.command('AT+MQTTUSERCFG=0,1,"short","","",0,0,""'), OK);
    const id = `board-${"x".repeat(300)}`;
    await uart.write(`AT+MQTTLONGCLIENTID=0,${id.length}\r\n`);
    assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
    await uart.write(id);
    assert.equal(await uart.expect("OK\r\n"), "\r\nOK\r\n");
    await uart.write("AT+MQTTLONGUSERNAME=0,9\r\n");
    await uart.expect(">");
    await uart.write("long-user");
    await uart.expect("OK\r\n");
    assert.equal(await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${broker!.port},0`), `+MQTTCONNECTED:0,1,"127.0.0.1","${broker!.port}","",0\r\n${OK}`);
    assert.ok(broker!.log.includes(`as ${id} (p2, c1, k120, u'long-user')`), broker!.log.slice(-400));
  });

  it("AT+MQTTLONGPASSWORD: the largest <length>, 1024 bytes, is taken, and the connection carries it", async () => {
    assert.equal(await uart.command('AT+MQTTUSERCFG=0,1,"longpass","user","",0,0,""'), OK);
    await uart.write("AT+MQTTLONGPASSWORD=0,1024\r\n");
    assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
    await uart.write("p".repeat(1024));
    assert.equal(await uart.expect("OK\r\n"), "\r\nOK\r\n");
    assert.equal(await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${broker!.port},0`), `+MQTTCONNECTED:0,1,"127.0.0.1","${broker!.port}","",0\r\n${OK}`);
    assert.ok(broker!.log.includes("as longpass (p2, c1, k120, u'user')"), broker!.log.slice(-400));
  });

  it("MQTT AT Error Codes: commands out of order, bad parameters and a closed broker get ERROR, with the code under AT+SYSLOG=1", async () => {
    assert.equal(await uart.command("AT+SYSLOG=1"), OK);
    assert.equal(await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${broker!.port},0`), "ERR CODE:0x00006001\r\n\r\nERROR\r\n");
    assert.equal(await uart.command('AT+MQTTUSERCFG=1,1,"id","","",0,0,""'), "ERR CODE:0x00006011\r\n\r\nERROR\r\n");
    assert.equal(await uart.command('AT+MQTTUSERCFG=0,11,"id","","",0,0,""'), "ERR CODE:0x00006013\r\n\r\nERROR\r\n");
    assert.equal(await uart.command('AT+MQTTUSERCFG=0,1,"","","",0,0,""'), "ERR CODE:0x00006015\r\n\r\nERROR\r\n");
    assert.equal(await uart.command('AT+MQTTUSERCFG=0,1,"id","","",0,0,""'), OK);
    assert.equal(await uart.command('AT+MQTTPUB=0,"t","x",0,0'), "ERR CODE:0x00006051\r\n\r\nERROR\r\n");
    assert.equal(await uart.command('AT+MQTTCONNCFG=0,7201,0,"","",0,0'), "ERR CODE:0x0000602d\r\n\r\nERROR\r\n");
    const port = broker!.port;
    await broker!.stop();
    broker = undefined;
    // esp-mqtt reports a failed connection as a disconnection, which ESP-AT prints before the ERROR.
    assert.equal(await uart.command(`AT+MQTTCONN=0,"127.0.0.1",${port},0,3000`), "+MQTTDISCONNECTED:0\r\nERR CODE:0x0000600b\r\n\r\nERROR\r\n");
    assert.equal(await uart.command("AT"), OK);
  });
});
