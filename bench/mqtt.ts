// MQTT through the console of `xsock sim --baud 921600`, against Debian's Mosquitto on loopback.
//   npm run bench:mqtt   (BENCH_MQTT_SECONDS=60: the whole session; 600 for issue 21's 10 minutes)
// Four phases share the session equally: board→broker (AT+MQTTPUB, each sent as the last reply
// ends) and broker→board (a Node MQTT client over a raw TCP socket publishes to a topic the
// board subscribed; the +MQTTSUBRECV lines are counted), each at QoS 0 and QoS 1, with 64-byte
// payloads. Each rate is given as a fraction of the UART line's capacity for those messages' AT
// bytes: messages a second x bytes on the wire per message / (921600 / 10) bytes a second. A
// published message is on the wire as its AT+MQTTPUB line and its reply, one after the other;
// a received one as its +MQTTSUBRECV line. Goal: >= 0.9 at QoS 0, none lost. Bare AT round
// trips, sent the same way, come first: the console's round trip bounds AT+MQTTPUB. The XS heap is
// collected before the traffic (after a warm-up), every 10 s, and after it: it must not grow.
// Exits 1 if a message is lost or a reply is not OK.
import { once } from "node:events";
import { constants, openSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { ReadStream } from "node:tty";
import { startSim, type SimBoard } from "../host-sim/api.ts";
import { mosquitto, type Broker } from "../test/helpers/mosquitto.ts";

const SECONDS = Number(process.env.BENCH_MQTT_SECONDS ?? 60);
/** Messages the broker→board publisher keeps ahead of the +MQTTSUBRECV lines counted. */
const WINDOW = Number(process.env.BENCH_MQTT_WINDOW ?? 32);
const BAUD = 921600;
const LINE_BYTES_PER_SECOND = BAUD / 10;
const PAYLOAD_BYTES = 64;
const UP_TOPIC = "bench/up";
const DOWN_TOPIC = "bench/down";
/** A phase's messages that have not all arrived after this long without progress are lost. */
const STALL_MS = 5000;
const HEAP_EVERY_MS = 10000;

/** 64 bytes: the message's number, then letters (nothing the AT string would need escaped). */
const payload = (n: number) => String(n).padStart(10, "0") + "x".repeat(PAYLOAD_BYTES - 10);

// ---- A minimal MQTT 3.1.1 client over a raw TCP socket: CONNECT, SUBSCRIBE, PUBLISH, PUBACK.

const mqttString = (s: string) => {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);
};

function mqttPacket(first: number, body: Buffer): Buffer {
  const length: number[] = [];
  let n = body.length;
  do {
    length.push((n & 127) | (n > 127 ? 128 : 0));
    n >>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([first, ...length]), body]);
}

class MqttClient {
  /** PUBLISH packets received, by their payload. */
  onMessage?: (payload: Buffer) => void;
  private input: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private waiting = new Map<number, () => void>();

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => this.receive(d));
  }

  static async connect(port: number, clientId: string): Promise<MqttClient> {
    const socket = createConnection(port, "127.0.0.1");
    await once(socket, "connect");
    const client = new MqttClient(socket);
    const acked = client.expect(2);
    // Protocol "MQTT" level 4, clean session, keep-alive 600 s.
    socket.write(mqttPacket(0x10, Buffer.concat([mqttString("MQTT"), Buffer.from([4, 0x02, 600 >> 8, 600 & 255]), mqttString(clientId)])));
    await acked;
    return client;
  }

  async subscribe(topic: string, qos: number): Promise<void> {
    const acked = this.expect(9);
    this.socket.write(mqttPacket(0x82, Buffer.concat([Buffer.from([0, this.nextId++]), mqttString(topic), Buffer.from([qos])])));
    await acked;
  }

  /** Writes a PUBLISH; false when the socket's buffer is full (wait for "drain"). */
  publish(topic: string, message: string, qos: number): boolean {
    const id = qos ? Buffer.from([(this.nextId >> 8) & 255, this.nextId & 255]) : Buffer.alloc(0);
    this.nextId = (this.nextId % 65535) + 1;
    return this.socket.write(mqttPacket(0x30 | (qos << 1), Buffer.concat([mqttString(topic), id, Buffer.from(message)])));
  }

  drained(): Promise<unknown> {
    return once(this.socket, "drain");
  }

  close(): void {
    this.socket.destroy();
  }

  /** Resolves when a packet of this type arrives. */
  private expect(type: number): Promise<void> {
    return new Promise((resolve) => this.waiting.set(type, resolve));
  }

  private receive(d: Buffer): void {
    this.input = this.input.length ? Buffer.concat([this.input, d]) : d;
    for (;;) {
      let length = 0;
      let at = 1;
      for (let shift = 0; ; shift += 7, at++) {
        if (at >= this.input.length) return;
        length |= (this.input[at] & 127) << shift;
        if (!(this.input[at] & 128)) break;
      }
      const end = at + 1 + length;
      if (end > this.input.length) return;
      const type = this.input[0] >> 4;
      const body = this.input.subarray(at + 1, end);
      if (type === 3) {
        const qos = (this.input[0] >> 1) & 3;
        const topicEnd = 2 + body.readUInt16BE(0);
        if (qos) this.socket.write(Buffer.from([0x40, 2, body[topicEnd], body[topicEnd + 1]]));
        this.onMessage?.(body.subarray(topicEnd + (qos ? 2 : 0)));
      }
      this.waiting.get(type)?.();
      this.waiting.delete(type);
      this.input = this.input.subarray(end);
    }
  }
}

// ---- The board's console, read with a small parser of our own (a 10-minute session's output
// would not fit a buffer that keeps it all).

class Console {
  private text = "";
  private reply?: (text: string) => void;
  /** +MQTTSUBRECV lines counted, with their message numbers. */
  onReceived?: (n: number) => void;
  /** Output that was neither a reply nor a +MQTTSUBRECV line. */
  unexpected = "";

  private constructor(private readonly port: ReadStream) {
    port.on("data", (d: Buffer) => this.receive(d.toString("latin1")));
  }

  /**
   * Opens the pty with Node's own tty stream (the relay made it raw). The serialport package
   * reads and writes through libuv's thread pool: a hop each way that is the client's, not the
   * line's, about 0.3 ms of a bare AT round trip.
   */
  static open(path: string): Console {
    return new Console(new ReadStream(openSync(path, constants.O_RDWR | constants.O_NOCTTY)));
  }

  /** Sends a line; resolves with the reply up to its final OK or ERROR. */
  command(line: string, timeout = 15000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${line.slice(0, 40)}: ${JSON.stringify(this.text.slice(-200))}`)), timeout);
      this.reply = (text) => {
        clearTimeout(timer);
        resolve(text);
      };
      this.port.write(`${line}\r\n`);
      this.receive("");
    });
  }

  close(): Promise<void> {
    const closed = once(this.port, "close");
    this.port.destroy();
    return closed.then(() => {});
  }

  private receive(d: string): void {
    this.text += d;
    const records = /\+MQTTSUBRECV:0,"bench\/down",64,(\d{10})x{54}\r\n/g;
    let end = 0;
    for (let m; (m = records.exec(this.text)); end = records.lastIndex) {
      this.unexpected += this.text.slice(end, m.index);
      this.onReceived?.(Number(m[1]));
    }
    this.text = this.text.slice(end);
    if (this.reply) {
      const m = /\r\n(OK|ERROR)\r\n/.exec(this.text);
      if (m) {
        const reply = this.reply;
        this.reply = undefined;
        const at = m.index + m[0].length;
        const text = this.text.slice(0, at);
        this.text = this.text.slice(at);
        reply(text);
      }
    } else if (this.text.length > 4096 && !this.text.includes("+MQTTSUBRECV")) {
      this.unexpected += this.text;
      this.text = "";
    }
  }
}

interface Phase {
  name: string;
  messages: number;
  seconds: number;
  lost: number;
  /** Replies that were not OK. */
  failed: number;
  bytesPerMessage: number;
}

const check = (got: string, want: string, what: string) => {
  if (got !== want) throw new Error(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
};

/** Waits until `done()`, or until `progress()` has not moved for STALL_MS. */
async function settle(done: () => boolean, progress: () => number): Promise<void> {
  let last = progress();
  let lastAt = performance.now();
  while (!done() && performance.now() - lastAt < STALL_MS) {
    await new Promise((r) => setTimeout(r, 20));
    if (progress() !== last) [last, lastAt] = [progress(), performance.now()];
  }
}

/** Board→broker: AT+MQTTPUB, each as the last reply ends; a broker-side subscriber counts. */
async function up(con: Console, listener: MqttClient, qos: number, seconds: number): Promise<Phase> {
  let received = 0;
  listener.onMessage = () => received++;
  let sent = 0;
  let failed = 0;
  let bytes = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    const line = `AT+MQTTPUB=0,"${UP_TOPIC}","${payload(sent)}",${qos},0`;
    const reply = await con.command(line);
    bytes = line.length + 2 + reply.length;
    if (reply === "\r\nOK\r\n") sent++;
    else failed++;
  }
  const elapsed = (performance.now() - start) / 1000;
  await settle(() => received >= sent, () => received);
  listener.onMessage = undefined;
  return { name: `board→broker, AT+MQTTPUB, QoS ${qos}`, messages: sent, seconds: elapsed, lost: sent - received, failed, bytesPerMessage: bytes };
}

/** The reference: bare AT round trips, each sent as the last reply ends, for as long. */
async function roundTrips(con: Console, seconds: number): Promise<Phase> {
  let sent = 0;
  let failed = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    if ((await con.command("AT")) === "\r\nOK\r\n") sent++;
    else failed++;
  }
  return { name: "reference: AT, each as the last OK ends", messages: sent, seconds: (performance.now() - start) / 1000, lost: 0, failed, bytesPerMessage: 4 + 6 };
}

/** Broker→board: our publisher stays WINDOW messages ahead of the +MQTTSUBRECV lines counted. */
async function down(con: Console, publisher: MqttClient, qos: number, seconds: number): Promise<Phase> {
  let received = 0;
  let sent = 0;
  let wake: (() => void) | undefined;
  const start = performance.now();
  let lastAt = start;
  con.onReceived = () => {
    received++;
    lastAt = performance.now();
    wake?.();
  };
  while (performance.now() - start < seconds * 1000) {
    if (sent - received >= WINDOW) {
      const before = received;
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, STALL_MS);
      });
      wake = undefined;
      if (received === before) break; // stalled: what is outstanding is lost
      continue;
    }
    if (!publisher.publish(DOWN_TOPIC, payload(sent++), qos)) await publisher.drained();
  }
  await settle(() => received >= sent, () => received);
  con.onReceived = undefined;
  const bytesPerMessage = `+MQTTSUBRECV:0,"${DOWN_TOPIC}",${PAYLOAD_BYTES},${payload(0)}\r\n`.length;
  // The rate counts the messages received over the time until the last of them arrived.
  return { name: `broker→board, +MQTTSUBRECV, QoS ${qos}`, messages: received, seconds: (lastAt - start) / 1000, lost: sent - received, failed: 0, bytesPerMessage };
}

const broker: Broker = await mosquitto([], false);
const board: SimBoard = await startSim({ uart: "pty", baud: BAUD });
const con = Console.open(board.uart.path);
const phases: Phase[] = [];
const heapSamples: number[] = [];
let heapTimer: NodeJS.Timeout | undefined;
let peakTimer: NodeJS.Timeout | undefined;
let before: number;
let after: number;
let peak = 0;
try {
  await board.uart.expect("ready\r\n", { timeout: 30000 });
  // The pty may or may not hand this client the boot's "ready", by when it opened.
  check((await con.command("ATE0")).replace(/^\r\nready\r\n/, ""), "ATE0\r\n\r\nOK\r\n", "ATE0");
  check(await con.command('AT+CWJAP="xsock-sim",""'), "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n", "AT+CWJAP");
  check(await con.command('AT+MQTTUSERCFG=0,1,"bench","","",0,0,""'), "\r\nOK\r\n", "AT+MQTTUSERCFG");
  check(await con.command(`AT+MQTTCONN=0,"127.0.0.1",${broker.port},0`), `+MQTTCONNECTED:0,1,"127.0.0.1","${broker.port}","",0\r\n\r\nOK\r\n`, "AT+MQTTCONN");
  check(await con.command(`AT+MQTTSUB=0,"${DOWN_TOPIC}",1`), "\r\nOK\r\n", "AT+MQTTSUB");
  const listener = await MqttClient.connect(broker.port, "bench-listener");
  await listener.subscribe(UP_TOPIC, 1);
  const publisher = await MqttClient.connect(broker.port, "bench-publisher");

  // A warm-up of each phase, so that the baseline holds whatever the first messages allocate for good.
  for (const qos of [0, 1]) {
    await up(con, listener, qos, 0.5);
    await down(con, publisher, qos, 0.5);
  }
  before = (await board.collect()).slots;
  heapTimer = setInterval(() => void board.collect().then((h) => heapSamples.push(h.slots)), HEAP_EVERY_MS);
  peakTimer = setInterval(() => (peak = Math.max(peak, board.heap().slots)), 100);
  phases.push(await roundTrips(con, Math.min(10, SECONDS / 8)));
  for (const qos of [0, 1]) {
    phases.push(await up(con, listener, qos, SECONDS / 4));
    phases.push(await down(con, publisher, qos, SECONDS / 4));
  }
  clearInterval(heapTimer);
  clearInterval(peakTimer);
  after = (await board.collect()).slots;
  listener.close();
  publisher.close();
} finally {
  clearInterval(heapTimer);
  clearInterval(peakTimer);
  await con.close();
  await board.stop();
  await broker.stop();
}

const rows: string[][] = [["", "messages", "msg/s", "bytes/msg", "of the line", "goal", "lost", "not OK"]];
for (const p of phases) {
  const rate = p.messages / p.seconds;
  rows.push([
    p.name,
    String(p.messages),
    rate.toFixed(0),
    String(p.bytesPerMessage),
    ((rate * p.bytesPerMessage) / LINE_BYTES_PER_SECOND).toFixed(3),
    p.name.endsWith("QoS 0") ? ">= 0.9" : "",
    String(p.lost),
    String(p.failed),
  ]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  "));
console.log(
  `${BAUD} baud, 64-byte payloads, ${SECONDS} s session (BENCH_MQTT_SECONDS), broker→board window ${WINDOW} messages. ` +
    `XS heap after a collection: ${before} slots before the traffic, ${heapSamples.join(", ")} every ${HEAP_EVERY_MS / 1000} s, ${after} after; ` +
    `at most ${peak} between collections; ${after > before ? `grew by ${after - before} slots` : "did not grow"}`,
);
if (con.unexpected) console.log(`unexpected console output: ${JSON.stringify(con.unexpected.slice(0, 200))}`);
const bad = phases.reduce((n, p) => n + p.lost + p.failed, 0);
if (bad) {
  console.error(`xsock: ${bad} messages lost or refused`);
  process.exit(1);
}
process.exit(0);
