// The console's TCP/IP commands, over serialport, against peers on this machine: on loopback
// for the simulator, at PEER_HOST for a board (TEST_PORT).
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { createConnection } from "node:net";
import { leavePassthrough, passthrough64k, until, withConsole } from "../helpers/console.ts";
import { tcpPeer as peer } from "../helpers/peer.ts";
import { freePort } from "../helpers/ports.ts";
import { readFileSync } from "node:fs";
import { TEST_CERT, tlsEchoServer } from "../helpers/tls.ts";
import { python } from "../helpers/python.ts";
import { startSim } from "../helpers/sim.ts";
import { BIND_HOST, literal, PEER_HOST, simOnly } from "../helpers/target.ts";
import type { UartClient } from "../helpers/uart.ts";

describe("console TCP/IP commands", function () {
  this.timeout(20000);
  const session = withConsole();
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  it("opens a single TCP link, sends with CIPSEND, receives +IPD, and closes", async () => {
    const p = await peer();
    assert.equal(await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${p.port}`), "CONNECT\r\n\r\nOK\r\n");
    assert.equal(await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${p.port}`), "ALREADY CONNECTED\r\n\r\nERROR\r\n");
    await uart.write("AT+CIPSEND=5\r\n");
    assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
    await uart.write("hello");
    assert.equal(await uart.expect("SEND OK\r\n"), "\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n");
    await until(() => p.heard().toString() === "hello", "hello at the peer");
    p.conns[0].write("world");
    assert.equal(await uart.expect("world"), "\r\n+IPD,5:world");
    assert.equal(await uart.command("AT+CIPCLOSE"), "CLOSED\r\n\r\nOK\r\n");
    p.server.close();
  });

  it("runs several links with CIPMUX=1, reports them, and refuses a sixth", async () => {
    const p = await peer();
    assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
    for (let id = 0; id < 5; id++) assert.equal(await uart.command(`AT+CIPSTART=${id},"TCP","${PEER_HOST}",${p.port}`), `${id},CONNECT\r\n\r\nOK\r\n`);
    assert.equal(await uart.command(`AT+CIPSTART=5,"TCP","${PEER_HOST}",${p.port}`), "\r\nERROR\r\n");
    assert.equal(await uart.command("AT+CIPMUX=0"), "\r\nERROR\r\n", "CIPMUX changes only with no link open");
    const status = await uart.command("AT+CIPSTATUS");
    assert.match(status, new RegExp(`^STATUS:3\r\n(\\+CIPSTATUS:\\d,"TCP","${literal(PEER_HOST)}",\\d+,0,0\r\n){5}\r\nOK\r\n$`));
    assert.match(await uart.command("AT+CIPSTATE?"), new RegExp(`^(\\+CIPSTATE:\\d,"TCP","${literal(PEER_HOST)}",\\d+,0,0\r\n){5}\r\nOK\r\n$`));
    await uart.write("AT+CIPSEND=3,4\r\n");
    await uart.expect(">");
    await uart.write("four");
    await uart.expect("SEND OK\r\n");
    await until(() => p.heard().toString() === "four", "four at the peer");
    // A peer reset closes that one link; the others carry on.
    await until(() => p.conns.length === 5, "five connections");
    const victim = p.conns.find((c) => c.bytesRead === 4)!;
    victim.resetAndDestroy();
    assert.equal(await uart.expect("3,CLOSED\r\n"), "3,CLOSED\r\n");
    p.conns[0].write("still");
    assert.match(await uart.expect("still"), /\+IPD,\d,5:still$/);
    assert.equal(await uart.command("AT+CIPCLOSE=5"), "0,CLOSED\r\n1,CLOSED\r\n2,CLOSED\r\n4,CLOSED\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSTATUS"), "STATUS:4\r\n\r\nOK\r\n", "4: every link has closed");
    p.server.close();
  });

  it("sends 64 KB of binary data in CIPSEND chunks, byte for byte", async () => {
    const p = await peer();
    assert.equal(await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${p.port}`), "CONNECT\r\n\r\nOK\r\n");
    const data = randomBytes(64 * 1024);
    for (let at = 0; at < data.length; at += 8192) {
      await uart.write("AT+CIPSEND=8192\r\n");
      await uart.expect(">");
      await uart.write(data.subarray(at, at + 8192));
      await uart.expect("SEND OK\r\n");
    }
    await until(() => p.heard().length === data.length, "64 KB at the peer");
    assert.ok(p.heard().equals(data));
    p.server.close();
  });

  it("runs a UDP link with a local port, shows the peer with CIPDINFO, and sends to another peer", async () => {
    const a = createSocket("udp4");
    const b = createSocket("udp4");
    await new Promise<void>((r) => a.bind(0, BIND_HOST, () => r()));
    await new Promise<void>((r) => b.bind(0, BIND_HOST, () => r()));
    const heard: string[] = [];
    b.on("message", (m) => heard.push(m.toString()));
    try {
      assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPDINFO=1"), "\r\nOK\r\n");
      const local = await freePort([session.ip], ["udp"]);
      assert.equal(await uart.command(`AT+CIPSTART=0,"UDP","${PEER_HOST}",${a.address().port},${local},0`), "0,CONNECT\r\n\r\nOK\r\n");
      a.send("ping", local, session.ip);
      assert.equal(await uart.expect("ping"), `\r\n+IPD,0,4,"${PEER_HOST}",${a.address().port}:ping`);
      await uart.write(`AT+CIPSEND=0,3,"${PEER_HOST}",${b.address().port}\r\n`);
      await uart.expect(">");
      await uart.write("abc");
      await uart.expect("SEND OK\r\n");
      await until(() => heard.includes("abc"), "abc at the second peer");
    } finally {
      a.close();
      b.close();
    }
  });

  it("serves with CIPSERVER: an incoming client becomes a link", async () => {
    const port = await freePort([session.ip]);
    assert.equal(await uart.command(`AT+CIPSERVER=1,${port}`), "\r\nERROR\r\n", "CIPSERVER needs CIPMUX=1");
    assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
    assert.equal(await uart.command(`AT+CIPSERVER=1,${port}`), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSERVER?"), `+CIPSERVER:1,${port},"TCP",0\r\n\r\nOK\r\n`);
    const client = createConnection(port, session.ip);
    assert.equal(await uart.expect("0,CONNECT\r\n"), "0,CONNECT\r\n");
    client.write("hi board");
    assert.equal(await uart.expect("hi board"), "\r\n+IPD,0,8:hi board");
    client.end();
    assert.equal(await uart.expect("0,CLOSED\r\n"), "0,CLOSED\r\n");
    assert.equal(await uart.command("AT+CIPSERVER=0"), "\r\nOK\r\n");
  });

  it("opens an SSL link to a TLS peer with a test certificate, and talks through it", async () => {
    const tls = await tlsEchoServer();
    try {
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${tls.port}`), "CONNECT\r\n\r\nOK\r\n");
      assert.match(await uart.command("AT+CIPSTATUS"), new RegExp(`^STATUS:3\r\n\\+CIPSTATUS:0,"SSL","${literal(PEER_HOST)}",${tls.port},0,0\r\n`));
      const secret = randomBytes(300);
      await uart.write("AT+CIPSEND=300\r\n");
      await uart.expect(">");
      await uart.write(secret);
      await uart.expect("SEND OK\r\n");
      // The echo may come back in pieces: gather the +IPD payloads.
      let echoed = Buffer.alloc(0);
      while (echoed.length < 300) {
        const head = /\r\n\+IPD,(\d+):/.exec(await uart.expect(/\r\n\+IPD,\d+:/));
        const n = Number(head![1]);
        await until(() => uart.pending.length >= n, "the +IPD payload");
        echoed = Buffer.concat([echoed, Buffer.from(uart.pending.slice(0, n), "latin1")]);
        await uart.expect(uart.pending.slice(0, n));
      }
      assert.ok(echoed.equals(secret), "the TLS peer echoed every byte");
      assert.equal(await uart.command("AT+CIPCLOSE"), "CLOSED\r\n\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",1`), "\r\nERROR\r\n", "nothing listens there");
    } finally {
      tls.server.close();
    }
  });

  it("ends CIPSENDEX data early at \\0, and takes a backslash's next byte as it is", async () => {
    const p = await peer();
    assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
    assert.equal(await uart.command(`AT+CIPSTARTEX="TCP","${PEER_HOST}",${p.port}`), "0,CONNECT\r\n\r\nOK\r\n");
    assert.equal(await uart.command(`AT+CIPSTARTEX="TCP","${PEER_HOST}",${p.port}`), "1,CONNECT\r\n\r\nOK\r\n", "the next free id");
    await uart.write("AT+CIPSENDEX=1,100\r\n");
    assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
    await uart.write("a\\\\0b\\,c\\0");
    assert.equal(await uart.expect("SEND OK\r\n"), "\r\nRecv 6 bytes\r\n\r\nSEND OK\r\n");
    await until(() => p.heard().toString() === "a\\0b,c", "the unescaped data at the peer");
    // Without \0 it takes exactly len bytes, as CIPSENDEX=<len> says.
    await uart.write("AT+CIPSENDEX=0,3\r\n");
    await uart.expect(">");
    await uart.write("xyz");
    await uart.expect("SEND OK\r\n");
    await until(() => p.heard().toString().endsWith("xyz"), "xyz at the peer");
    assert.equal(await uart.command("AT"), "\r\nOK\r\n");
    p.server.close();
  });

  it("resolves names with CIPDOMAIN and pings with AT+PING", async function () {
    simOnly(this); // localhost, and the host's ICMP permissions
    assert.equal(await uart.command('AT+CIPDOMAIN="localhost"'), '+CIPDOMAIN:"127.0.0.1"\r\n\r\nOK\r\n');
    assert.equal(await uart.command('AT+CIPDOMAIN="localhost",3'), '+CIPDOMAIN:"::1"\r\n\r\nOK\r\n');
    assert.equal(await uart.command('AT+CIPDOMAIN="localhost",4'), "\r\nERROR\r\n");
    const ping = await uart.command('AT+PING="127.0.0.1"', 5000);
    // Raw ICMP sockets need root (or CAP_NET_RAW) on the host; without them ping cannot run.
    if (process.getuid?.() !== 0) return void assert.equal(ping, "+PING:TIMEOUT\r\n\r\nERROR\r\n");
    assert.match(ping, /^\+PING:\d+\r\n\r\nOK\r\n$/);
    // A name that does not resolve gets TIMEOUT, as in ESP-AT.
    assert.equal(await uart.command('AT+PING="no-such-host.invalid"', 5000), "+PING:TIMEOUT\r\n\r\nERROR\r\n");
  });

  it("answers ERROR to bad and out-of-place TCP/IP commands, and keeps serving", async () => {
    for (const line of [
      "AT+CIPSEND=5",
      `AT+CIPSTART="TCP","${PEER_HOST}",70000`,
      `AT+CIPSTART="FTP","${PEER_HOST}",21`,
      `AT+CIPSTART="TCP","${PEER_HOST}`,
      "AT+CIPSTART=0",
      "AT+CIPCLOSE",
      "AT+CIPMUX=2",
      "AT+CIPSEND=0",
      "AT+CIPSEND=8193",
      `AT+CIPSTART="TCP","${PEER_HOST}",1`,
    ])
      assert.equal(await uart.command(line), "\r\nERROR\r\n", line);
    assert.equal(await uart.command("AT"), "\r\nOK\r\n");
  });
});

describe("console SSL certificate checking (AT+CIPSSLCCONF)", function () {
  this.timeout(20000);
  // CA 0 signed the echo server's certificate; CA 1 did not.
  const OTHER_CA = readFileSync(new URL("../fixtures/tls/other-ca.pem", import.meta.url), "utf8");
  const session = withConsole({ sim: { config: { ca: [TEST_CERT, OTHER_CA] } } });
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  const roundTrip = async (id: number) => {
    const data = randomBytes(64);
    await uart.write(`AT+CIPSEND=${id},64\r\n`);
    await uart.expect(">");
    await uart.write(data);
    await uart.expect("SEND OK\r\n");
    let echoed = Buffer.alloc(0);
    while (echoed.length < 64) {
      const n = Number(/\+IPD,\d+,(\d+):/.exec(await uart.expect(/\+IPD,\d+,\d+:/))![1]);
      await until(() => uart.pending.length >= n, "the +IPD payload");
      echoed = Buffer.concat([echoed, Buffer.from(uart.pending.slice(0, n), "latin1")]);
      await uart.expect(uart.pending.slice(0, n));
    }
    assert.ok(echoed.equals(data), "the TLS peer echoed every byte");
  };

  it("checks the server against the CA it names, per link id, and refuses a server another CA did not sign", async () => {
    const tls = await tlsEchoServer();
    try {
      assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCCONF=0,2,0,0"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCCONF=1,2,0,1"), "\r\nOK\r\n");
      assert.equal(
        await uart.command("AT+CIPSSLCCONF?"),
        "+CIPSSLCCONF:0,2,0,0\r\n+CIPSSLCCONF:1,2,0,1\r\n+CIPSSLCCONF:2,0,0,0\r\n+CIPSSLCCONF:3,0,0,0\r\n+CIPSSLCCONF:4,0,0,0\r\n\r\nOK\r\n",
      );
      assert.equal(await uart.command(`AT+CIPSTART=0,"SSL","${PEER_HOST}",${tls.port}`), "0,CONNECT\r\n\r\nOK\r\n");
      await roundTrip(0);
      assert.equal(await uart.command(`AT+CIPSTART=1,"SSL","${PEER_HOST}",${tls.port}`), "\r\nERROR\r\n", "CA 1 did not sign the server's certificate");
      assert.equal(await uart.command("AT"), "\r\nOK\r\n");
      assert.match(await uart.command("AT+CIPSTATUS"), /^STATUS:3\r\n\+CIPSTATUS:0,"SSL",[^\r]*\r\n\r\nOK\r\n$/, "only link 0 is open");
      // The setting stays with the id: link 0 closed and reopened checks again.
      assert.equal(await uart.command("AT+CIPCLOSE=0"), "0,CLOSED\r\n\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART=0,"SSL","${PEER_HOST}",${tls.port}`), "0,CONNECT\r\n\r\nOK\r\n");
      await roundTrip(0);
      // Auth mode 0 connects to any server.
      assert.equal(await uart.command("AT+CIPSSLCCONF=1,0"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART=1,"SSL","${PEER_HOST}",${tls.port}`), "1,CONNECT\r\n\r\nOK\r\n");
      await roundTrip(1);
    } finally {
      tls.server.close();
    }
  });

  it("takes the single-link form, and answers ERROR to bad arguments, client certificates and unknown CAs", async () => {
    const tls = await tlsEchoServer();
    try {
      assert.equal(await uart.command("AT+CIPSSLCCONF?"), "+CIPSSLCCONF:0,0,0,0\r\n\r\nOK\r\n");
      for (const line of [
        "AT+CIPSSLCCONF=1",
        "AT+CIPSSLCCONF=3,0,0",
        "AT+CIPSSLCCONF=4",
        "AT+CIPSSLCCONF=2,0,2",
        "AT+CIPSSLCCONF=2,0,-1",
        "AT+CIPSSLCCONF=2,0,0,0",
        'AT+CIPSSLCCONF="2"',
        "AT+CIPSSLCCONF",
      ])
        assert.equal(await uart.command(line), "\r\nERROR\r\n", line);
      assert.equal(await uart.command("AT+CIPSSLCCONF?"), "+CIPSSLCCONF:0,0,0,0\r\n\r\nOK\r\n", "a refused setting changes nothing");
      assert.equal(await uart.command("AT+CIPSSLCCONF=2,0,1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${tls.port}`), "\r\nERROR\r\n");
      assert.equal(await uart.command("AT+CIPSSLCCONF=2"), "\r\nOK\r\n", "CA 0 by default");
      assert.equal(await uart.command("AT+CIPSSLCCONF?"), "+CIPSSLCCONF:0,2,0,0\r\n\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${tls.port}`), "CONNECT\r\n\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCCONF=0,2,0,0"), "\r\nERROR\r\n", "no link id in single-link mode");
    } finally {
      tls.server.close();
    }
  });
});

describe("a console with no CA configured", function () {
  this.timeout(20000);
  const session = withConsole({ sim: {} });
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  it("refuses auth mode 2, and auth mode 0 still connects to any server", async () => {
    const tls = await tlsEchoServer();
    try {
      assert.equal(await uart.command("AT+CIPSSLCCONF=2,0,0"), "\r\nERROR\r\n");
      assert.equal(await uart.command("AT+CIPSSLCCONF=0"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${tls.port}`), "CONNECT\r\n\r\nOK\r\n");
    } finally {
      tls.server.close();
    }
  });
});

describe("console passive receive and passthrough", function () {
  this.timeout(30000);
  const session = withConsole();
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  it("holds data in passive mode for CIPRECVLEN and CIPRECVDATA after the peer closes, and says CLOSED once it is read", async () => {
    const p = await peer();
    assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPRECVMODE=1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPRECVMODE?"), "+CIPRECVMODE:1\r\n\r\nOK\r\n");
    assert.equal(await uart.command(`AT+CIPSTART=0,"TCP","${PEER_HOST}",${p.port}`), "0,CONNECT\r\n\r\nOK\r\n");
    await until(() => p.conns.length === 1, "the connection");
    p.conns[0].end("hello world");
    assert.equal(await uart.expect("+IPD,0,11\r\n"), "\r\n+IPD,0,11\r\n");
    // The peer has closed, but the link stays while its data is unread (esp-at's CIPRECVTYPE note).
    await until(() => p.conns[0].writableFinished, "the peer's FIN sent");
    assert.equal(await uart.command("AT+CIPRECVLEN?"), "+CIPRECVLEN:11,0,0,0,0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPRECVDATA=0,5"), "+CIPRECVDATA:5,hello\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPDINFO=1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPRECVDATA=0,100"), `+CIPRECVDATA:6,"${PEER_HOST}",${p.port}, world\r\nOK\r\n`);
    assert.equal(await uart.expect("0,CLOSED\r\n"), "0,CLOSED\r\n", "CLOSED once the last byte is read");
    assert.equal(await uart.command("AT+CIPRECVLEN?"), "+CIPRECVLEN:0,0,0,0,0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPRECVDATA=0,1"), "\r\nERROR\r\n");
    p.server.close();
  });

  it("bridges 64 KB both ways in passthrough, byte for byte, and leaves it on +++ alone", async () => {
    const p = await peer();
    const { up, down } = await passthrough64k(uart, p, PEER_HOST, 10000);
    assert.ok(p.heard().equals(up), "the peer got every byte the UART sent");
    assert.ok(Buffer.from(uart.pending, "latin1").equals(down), "the UART got every byte the peer sent");
    await uart.expect(uart.pending.slice(-8));
    // `+++` inside data is data; alone, with silence around it, it leaves passthrough.
    await uart.write("a+++b");
    await until(() => p.heard().length === up.length + 5, "a+++b at the peer");
    await leavePassthrough(uart);
    assert.equal(await uart.command("AT"), "\r\nOK\r\n");
    assert.equal(p.heard().length, up.length + 5, "+++ did not go to the peer");
    p.server.close();
  });
});

describe("passthrough under backpressure", function () {
  this.timeout(30000);
  before(function () {
    simOnly(this); // a python peer on loopback, and the simulator's pacing
  });

  describe("a slow peer", () => {
    const session = withConsole();

    it("stops reading the UART instead of buffering: the host's writes wait, and no byte is lost", async () => {
      const { uart } = session;
      // A peer with a 4 KB receive buffer that reads nothing for 1.5 s.
      const slow = python(`
import hashlib, socket, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
srv.bind(('127.0.0.1', 0)); srv.listen(1)
print('port', srv.getsockname()[1])
c, _ = srv.accept()
time.sleep(1.5)
h, n = hashlib.sha256(), 0
while n < ${8 << 20}:
    d = c.recv(65536)
    if not d: break
    h.update(d); n += len(d)
print(n, h.hexdigest())
`);
      const port = (await slow.line(/port (\d+)/))[1];
      assert.equal(await uart.command("AT+CIPMODE=1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="TCP","127.0.0.1",${port}`), "CONNECT\r\n\r\nOK\r\n");
      await uart.write("AT+CIPSEND\r\n");
      await uart.expect(">");
      // 8 MB: more than the host kernel's send buffer (up to 4 MB) and the pipes can hold.
      const data = randomBytes(8 << 20);
      const start = Date.now();
      await uart.write(data);
      const waited = Date.now() - start;
      const [, count, digest] = /(\d+) (\w+)/.exec(await slow.done)!;
      assert.equal(Number(count), data.length);
      assert.equal(digest, createHash("sha256").update(data).digest("hex"), "the peer got every byte, in order");
      // Had the console buffered what came, the write would have finished at once.
      assert.ok(waited > 1000, `the UART took 8 MB in ${waited} ms, while the peer read nothing`);
    });
  });

  describe("a fast peer and a slow UART (--baud 921600)", () => {
    const session = withConsole({ sim: { baud: 921600 } });

    it("passes 256 KB to the UART at the line's pace, none dropped", async () => {
      const { uart } = session;
      const p = await peer();
      assert.equal(await uart.command("AT+CIPMODE=1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="TCP","127.0.0.1",${p.port}`), "CONNECT\r\n\r\nOK\r\n");
      await uart.write("AT+CIPSEND\r\n");
      await uart.expect(">");
      await until(() => p.conns.length === 1, "the connection");
      const data = randomBytes(256 * 1024);
      const start = Date.now();
      p.conns[0].write(data);
      await until(() => uart.pending.length >= data.length, "256 KB on the UART", 10000);
      const seconds = (Date.now() - start) / 1000;
      assert.ok(Buffer.from(uart.pending, "latin1").equals(data), "every byte, in order");
      assert.ok(seconds >= (data.length * 10) / 921600 * 0.9, `256 KB in ${seconds} s is faster than the line`);
      p.server.close();
    });
  });
});

describe("console driven by pyserial", function () {
  this.timeout(20000);

  it("opens a link, sends and receives, from a python3 script", async function () {
    simOnly(this);
    const { spawnSync } = await import("node:child_process");
    const { needs } = await import("../helpers/sim.ts");
    needs(this, "pyserial (python3-serial)", spawnSync("/usr/bin/python3", ["-c", "import serial"]).status === 0);
    const sim = await startSim();
    try {
      const script = `
import serial, socket, sys
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)
s = serial.Serial(sys.argv[1], 115200, timeout=3)
s.read_until(b'ready\\r\\n')
s.write(b'ATE0\\r\\n'); s.read_until(b'OK\\r\\n')
s.write(b'AT+CWJAP="xsock-sim",""\\r\\n'); print(s.read_until(b'OK\\r\\n'))
s.write(b'AT+CIPSTART="TCP","127.0.0.1",%d\\r\\n' % srv.getsockname()[1])
print(s.read_until(b'OK\\r\\n'))
conn, _ = srv.accept()
s.write(b'AT+CIPSEND=4\\r\\n'); print(s.read_until(b'>'))
s.write(b'ping'); print(s.read_until(b'SEND OK\\r\\n'))
print(conn.recv(10))
conn.sendall(b'pong'); print(s.read_until(b'pong'))
`;
      const out = spawnSync("/usr/bin/python3", ["-c", script, sim.uart], { encoding: "utf8", timeout: 15000 });
      assert.equal(out.status, 0, out.stderr);
      assert.equal(out.stdout, "b'WIFI CONNECTED\\r\\nWIFI GOT IP\\r\\n\\r\\nOK\\r\\n'\nb'CONNECT\\r\\n\\r\\nOK\\r\\n'\nb'\\r\\nOK\\r\\n\\r\\n>'\nb'\\r\\nRecv 4 bytes\\r\\n\\r\\nSEND OK\\r\\n'\nb'ping'\nb'\\r\\n+IPD,4:pong'\n");
    } finally {
      await sim.stop();
    }
  });
});
