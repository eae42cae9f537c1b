// esp-at's long sends, socket options, passthrough reconnection, saved passthrough link and MAC
// addresses, as its TCP-IP, Basic and Wi-Fi AT Commands pages document them: each test is named
// after the doc section it comes from, and checks the reply the page's response template gives.
// Over the pty, against Node peers on loopback (or at PEER_HOST for a board).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { BOOT_MS, JOINED, leavePassthrough, until, withConsole } from "../helpers/console.ts";
import { tcpPeer as peer } from "../helpers/peer.ts";
import { JOIN, PEER_HOST } from "../helpers/target.ts";
import type { UartClient } from "../helpers/uart.ts";

describe("esp-at AT+CIPSENDL, AT+CIPTCPOPT, AT+CIPRECONNINTV, AT+SAVETRANSLINK and MACs, as documented", function () {
  this.timeout(60000);
  const session = withConsole();
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  /** Opens link 0 (CIPMUX=0) to a new peer and waits for its connection. */
  const connect = async () => {
    const p = await peer();
    assert.equal(await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${p.port}`), "CONNECT\r\n\r\nOK\r\n");
    await until(() => p.conns.length === 1, "the connection");
    return p;
  };

  /** AT+RST, then the boot: `ready`, the saved AP joined, and echo off again (unless the board is in passthrough). */
  const restart = async (passthrough = false) => {
    assert.equal(await uart.command("AT+RST"), "\r\nOK\r\n");
    await uart.expect("ready\r\n", BOOT_MS);
    await uart.expect("WIFI GOT IP\r\n", 20000);
    if (!passthrough) assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
  };

  it("AT+CIPSENDLCFG: the query prints +CIPSENDLCFG:<report size>,<transmit size> (1024 and 2920 by default); out of range is ERROR", async () => {
    assert.equal(await uart.command("AT+CIPSENDLCFG?"), "+CIPSENDLCFG:1024,2920\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSENDLCFG=100"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSENDLCFG?"), "+CIPSENDLCFG:100,2920\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSENDLCFG=1048576,100"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSENDLCFG?"), "+CIPSENDLCFG:1048576,100\r\n\r\nOK\r\n");
    for (const bad of ["99", "1048577", "100,99", "100,2921", "100,200,1", '"100"'])
      assert.equal(await uart.command(`AT+CIPSENDLCFG=${bad}`), "\r\nERROR\r\n", bad);
    assert.equal(await uart.command("AT+CIPSENDLCFG?"), "+CIPSENDLCFG:1048576,100\r\n\r\nOK\r\n", "bad input changed nothing");
  });

  it("AT+CIPSENDL: OK and >, +CIPSENDL:<had sent len>,<port recv len> every <report size> sent, then SEND OK", async () => {
    const p = await connect();
    try {
      assert.equal(await uart.command("AT+CIPSENDLCFG=100,100"), "\r\nOK\r\n");
      await uart.write("AT+CIPSENDL=300\r\n");
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      const data = randomBytes(300);
      await uart.write(data.subarray(0, 100));
      assert.equal(await uart.expect("+CIPSENDL:100,100\r\n"), "+CIPSENDL:100,100\r\n");
      await uart.write(data.subarray(100, 200));
      assert.equal(await uart.expect("+CIPSENDL:200,200\r\n"), "+CIPSENDL:200,200\r\n");
      await uart.write(data.subarray(200));
      assert.equal(await uart.expect("SEND OK\r\n"), "+CIPSENDL:300,300\r\n\r\nSEND OK\r\n");
      await until(() => p.heard().length === 300, "300 bytes at the peer");
      assert.ok(p.heard().equals(data), "the peer got every byte, in order");
      assert.equal(await uart.command("AT"), "\r\nOK\r\n");
    } finally {
      p.server.close();
    }
  });

  it("AT+CIPSENDL: more than AT+CIPSEND's 8192 bytes on a link of several, sent while they come in; the final report is the length", async () => {
    const p = await peer();
    try {
      assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART=2,"TCP","${PEER_HOST}",${p.port}`), "2,CONNECT\r\n\r\nOK\r\n");
      const data = randomBytes(100000);
      await uart.write("AT+CIPSENDL=2,100000\r\n");
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      await uart.write(data);
      const replies = await uart.expect(/SEND (OK|FAIL)\r\n/, 30000);
      const reports = [...replies.matchAll(/\+CIPSENDL:(\d+),(\d+)\r\n/g)].map((m) => [Number(m[1]), Number(m[2])]);
      assert.equal(replies, reports.map(([s, r]) => `+CIPSENDL:${s},${r}\r\n`).join("") + "\r\nSEND OK\r\n");
      assert.deepEqual(reports.at(-1), [100000, 100000]);
      // One report per 1024 bytes crossed: had sent grows, and never passes what the port received.
      assert.ok(reports.length >= 30, `${reports.length} reports`);
      for (const [i, [sent, received]] of reports.entries()) {
        assert.ok(sent <= received && (i === 0 || sent > reports[i - 1][0]), JSON.stringify(reports));
      }
      await until(() => p.heard().length === data.length, "100,000 bytes at the peer");
      assert.ok(p.heard().equals(data), "every byte, in order");
    } finally {
      p.server.close();
    }
  });

  it("AT+CIPSENDL: +++ cancels the transmission: SEND CANCELLED, what came before it is sent", async () => {
    const p = await connect();
    try {
      await uart.write("AT+CIPSENDL=1000\r\n");
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      await uart.write("first 100 bytes".padEnd(100, "."));
      await until(() => p.heard().length === 100, "the first 100 bytes at the peer (after 20 ms without more)");
      await uart.write("+++");
      assert.equal(await uart.expect("SEND CANCELLED\r\n"), "+CIPSENDL:100,100\r\n\r\nSEND CANCELLED\r\n");
      assert.equal(await uart.command("AT"), "\r\nOK\r\n", "back in command mode");
      assert.equal(p.heard().toString(), "first 100 bytes".padEnd(100, "."));
    } finally {
      p.server.close();
    }
  });

  it("AT+CIPSENDL: the connection breaks: data mode lasts for <length>, then SEND FAIL", async () => {
    const p = await connect();
    try {
      assert.equal(await uart.command("AT+CIPSENDLCFG=100,100"), "\r\nOK\r\n");
      await uart.write("AT+CIPSENDL=200\r\n");
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      await uart.write(Buffer.alloc(100, 0x61));
      assert.equal(await uart.expect("+CIPSENDL:100,100\r\n"), "+CIPSENDL:100,100\r\n");
      p.conns[0].destroy();
      assert.equal(await uart.expect("CLOSED\r\n"), "CLOSED\r\n");
      await uart.write(Buffer.alloc(100, 0x62));
      assert.equal(await uart.expect("SEND FAIL\r\n"), "+CIPSENDL:100,200\r\n\r\nSEND FAIL\r\n");
      assert.equal(await uart.command("AT"), "\r\nOK\r\n");
    } finally {
      p.server.close();
    }
  });

  it("AT+CIPSENDL: a UDP link sends to the <\"remote host\">,<remote port> given", async () => {
    const { createSocket } = await import("node:dgram");
    const [a, b] = [createSocket("udp4"), createSocket("udp4")];
    const heard: string[] = [];
    b.on("message", (m) => heard.push(m.toString()));
    try {
      await Promise.all([a, b].map((s) => new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()))));
      assert.equal(await uart.command(`AT+CIPSTART="UDP","127.0.0.1",${a.address().port},0,2`), "CONNECT\r\n\r\nOK\r\n");
      await uart.write(`AT+CIPSENDL=5,"127.0.0.1",${b.address().port}\r\n`);
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      await uart.write("hello");
      assert.equal(await uart.expect("SEND OK\r\n"), "+CIPSENDL:5,5\r\n\r\nSEND OK\r\n");
      await until(() => heard.length === 1, "the datagram at the remote host given");
      assert.deepEqual(heard, ["hello"]);
    } finally {
      a.close();
      b.close();
    }
  });

  it("AT+CIPSENDL: ERROR without a link, for a length of 0, and a remote host on a TCP link", async () => {
    assert.equal(await uart.command("AT+CIPSENDL=10"), "\r\nERROR\r\n");
    const p = await connect();
    try {
      assert.equal(await uart.command("AT+CIPSENDL=0"), "\r\nERROR\r\n");
      assert.equal(await uart.command("AT+CIPSENDL=2147483648"), "\r\nERROR\r\n");
      assert.equal(await uart.command(`AT+CIPSENDL=10,"${PEER_HOST}",${p.port}`), "\r\nERROR\r\n");
      assert.equal(await uart.command("AT+CIPSENDL=0,10"), "\r\nERROR\r\n", "no link id with CIPMUX=0");
    } finally {
      p.server.close();
    }
  });

  it("AT+CIPTCPOPT: +CIPTCPOPT:<link_id>,<so_linger>,<tcp_nodelay>,<so_sndtimeo>,<keep_alive>; defaults -1,0,0,0", async () => {
    assert.equal(await uart.command("AT+CIPTCPOPT?"), "+CIPTCPOPT:0,-1,0,0,0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPTCPOPT=0,1,5000,60"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPTCPOPT?"), "+CIPTCPOPT:0,0,1,5000,60\r\n\r\nOK\r\n");
    // Left out, a value stays.
    assert.equal(await uart.command("AT+CIPTCPOPT=,0,"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPTCPOPT?"), "+CIPTCPOPT:0,0,0,5000,60\r\n\r\nOK\r\n");
    for (const bad of ["-2,0,0", "-1,2,0", "-1,0,-1", "-1,0,0,7201", "-1,0", "-1,0,0,0,0"]) assert.equal(await uart.command(`AT+CIPTCPOPT=${bad}`), "\r\nERROR\r\n", bad);
    assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPTCPOPT=5,10,1,2000"), "\r\nOK\r\n", "link id max: every link");
    assert.equal(await uart.command("AT+CIPTCPOPT=3,-1,0,0,7200"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPTCPOPT=6,-1,0,0"), "\r\nERROR\r\n");
    assert.equal(
      await uart.command("AT+CIPTCPOPT?"),
      "+CIPTCPOPT:0,10,1,2000,60\r\n+CIPTCPOPT:1,10,1,2000,0\r\n+CIPTCPOPT:2,10,1,2000,0\r\n+CIPTCPOPT:3,-1,0,0,7200\r\n+CIPTCPOPT:4,10,1,2000,0\r\n\r\nOK\r\n",
    );
  });

  it("AT+CIPTCPOPT: <keep_alive> takes the value AT+CIPSTART set later; the options are saved when AT+SYSSTORE=1", async () => {
    const p = await peer();
    try {
      assert.equal(await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${p.port},120`), "CONNECT\r\n\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPTCPOPT?"), "+CIPTCPOPT:0,-1,0,0,120\r\n\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPTCPOPT=5,1,3000"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+SYSSTORE=0"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPTCPOPT=-1,0,0"), "\r\nOK\r\n", "kept, not saved");
      assert.equal(await uart.command("AT+CIPTCPOPT?"), "+CIPTCPOPT:0,-1,0,0,120\r\n\r\nOK\r\n");
      await restart();
      assert.equal(await uart.command("AT+CIPTCPOPT?"), "+CIPTCPOPT:0,5,1,3000,120\r\n\r\nOK\r\n", "what flash held");
    } finally {
      p.server.close();
    }
  });


  it("AT+CIPRECONNINTV: +CIPRECONNINTV:<interval> (1 by default, 1 to 36000), saved when AT+SYSSTORE=1", async () => {
    assert.equal(await uart.command("AT+CIPRECONNINTV?"), "+CIPRECONNINTV:1\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPRECONNINTV=10"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPRECONNINTV?"), "+CIPRECONNINTV:10\r\n\r\nOK\r\n");
    for (const bad of ["0", "36001", '"10"', "10,1"]) assert.equal(await uart.command(`AT+CIPRECONNINTV=${bad}`), "\r\nERROR\r\n", bad);
    assert.equal(await uart.command("AT+SYSSTORE=0"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPRECONNINTV=36000"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPRECONNINTV?"), "+CIPRECONNINTV:36000\r\n\r\nOK\r\n");
    await restart();
    assert.equal(await uart.command("AT+CIPRECONNINTV?"), "+CIPRECONNINTV:10\r\n\r\nOK\r\n");
  });

  it("AT+CIPRECONNINTV: a client link that breaks in passthrough is opened again after <interval>, until +++", async () => {
    const p = await peer();
    try {
      assert.equal(await uart.command("AT+CIPRECONNINTV=5"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPMODE=1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${p.port}`), "CONNECT\r\n\r\nOK\r\n");
      await uart.write("AT+CIPSEND\r\n");
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      await until(() => p.conns.length === 1, "the connection");
      p.conns[0].destroy();
      const broke = Date.now();
      await until(() => p.conns.length === 2, "the board's second connection");
      assert.ok(Date.now() - broke >= 400, `reconnected ${Date.now() - broke} ms after the break (interval 500 ms)`);
      p.conns[1].write("down again");
      assert.equal(await uart.expect("down again"), "down again", "no CLOSED or CONNECT in the link's data");
      await uart.write("up again");
      await until(() => p.heard().toString() === "up again", "up again at the peer");
      await leavePassthrough(uart);
      assert.equal(await uart.command("AT+CIPSTATUS"), `STATUS:3\r\n+CIPSTATUS:0,"TCP","${PEER_HOST}",${p.port},0,0\r\n\r\nOK\r\n`);
    } finally {
      p.server.close();
    }
  });

  it("AT+SAVETRANSLINK, TCP/SSL client passthrough on power-up: after AT+RST the board opens the link and passes bytes both ways", async () => {
    const p = await peer();
    try {
      assert.equal(await uart.command(`AT+SAVETRANSLINK=1,"${PEER_HOST}",${p.port},"TCP"`), "\r\nOK\r\n");
      assert.equal(p.conns.length, 0, "it takes effect after a restart");
      await restart(true);
      await until(() => p.conns.length === 1, "the saved link's connection", 20000);
      p.conns[0].write("from the peer");
      assert.equal(await uart.expect("from the peer"), "from the peer", "in passthrough: the link's data as it is");
      await uart.write("from the host");
      await until(() => p.heard().toString() === "from the host", "the host's bytes at the peer");
      // A break: the client opens it again (AT+CIPRECONNINTV), still in passthrough.
      p.conns[0].destroy();
      await until(() => p.conns.length === 2, "the reconnection");
      await uart.write("again");
      await until(() => p.heard().toString() === "from the hostagain", "bytes on the new connection");
      await leavePassthrough(uart);
      assert.equal(await uart.command("AT+CIPMODE?"), "AT+CIPMODE?\r\n+CIPMODE:1\r\n\r\nOK\r\n", "command mode, echo on after the restart");
      assert.equal(await uart.command("AT+SAVETRANSLINK=0"), "AT+SAVETRANSLINK=0\r\n\r\nOK\r\n");
      await uart.write("AT+RST\r\n");
      await uart.expect("ready\r\n", BOOT_MS);
      await uart.expect("WIFI GOT IP\r\n", 20000);
      assert.equal(await uart.command("AT"), "AT\r\n\r\nOK\r\n", "no passthrough at power-up once mode 0 is saved");
      assert.equal(p.conns.length, 2);
    } finally {
      p.server.close();
    }
  });

  it("AT+SAVETRANSLINK: UDP passthrough on power-up, from <local port>", async () => {
    const { createSocket } = await import("node:dgram");
    const udp = createSocket("udp4");
    await new Promise<void>((r) => udp.bind(0, "127.0.0.1", () => r()));
    const heard: { text: string; port: number }[] = [];
    udp.on("message", (m, from) => heard.push({ text: m.toString(), port: from.port }));
    try {
      const local = 20000 + Math.floor(Math.random() * 20000);
      assert.equal(await uart.command(`AT+SAVETRANSLINK=1,"127.0.0.1",${udp.address().port},"UDP",${local}`), "\r\nOK\r\n");
      await restart(true);
      // The link is open once a datagram from the board arrives; send until one does.
      for (let i = 0; !heard.length && i < 200; i++) {
        await uart.write("ping");
        await until(() => heard.length > 0, "a datagram", 100).catch(() => {});
      }
      assert.equal(heard[0]?.port, local, "from the saved local port");
      udp.send("pong", local, "127.0.0.1");
      assert.equal(await uart.expect("pong"), "pong");
    } finally {
      udp.close();
    }
  });

  it("AT+SAVETRANSLINK: ERROR for a bad type, port or host, and for modes 2 (BLE) and 3 (a server), which the console lacks", async () => {
    for (const bad of ['1,"127.0.0.1",0', '1,"127.0.0.1",70000', '1,"",80', '1,"127.0.0.1",80,"TLS"', '1,"127.0.0.1",80,"TCP",7201', "3,1002", '2,2,1,7,1,5,"26:a2:11:22:33:88"', '1,"127.0.0.1"'])
      assert.equal(await uart.command(`AT+SAVETRANSLINK=${bad}`), "\r\nERROR\r\n", bad);
    assert.equal(await uart.command(`AT+SAVETRANSLINK=1,"${"a".repeat(65)}",80`), "\r\nERROR\r\n", "a host of 65 bytes");
  });

  it("AT+CIPCONNPERSIST: off by default, a TCP link closes when the station leaves its AP; on, it stays", async () => {
    assert.equal(await uart.command("AT+CIPCONNPERSIST?"), "+CIPCONNPERSIST:0\r\n\r\nOK\r\n");
    const p = await peer();
    try {
      assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPCONNPERSIST=1,1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPCONNPERSIST?"), "+CIPCONNPERSIST:0,1,0,0,0\r\n\r\nOK\r\n");
      for (const bad of ["5,1", "0,2", "1", "0,1,0"]) assert.equal(await uart.command(`AT+CIPCONNPERSIST=${bad}`), "\r\nERROR\r\n", bad);
      assert.equal(await uart.command(`AT+CIPSTART=0,"TCP","${PEER_HOST}",${p.port}`), "0,CONNECT\r\n\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART=1,"TCP","${PEER_HOST}",${p.port}`), "1,CONNECT\r\n\r\nOK\r\n");
      assert.equal(await uart.command("AT+CWQAP"), "\r\nOK\r\n");
      assert.equal(await uart.expect("0,CLOSED\r\n"), "WIFI DISCONNECT\r\n0,CLOSED\r\n");
      assert.match(await uart.command("AT+CIPSTATUS"), /^STATUS:5\r\n\+CIPSTATUS:1,"TCP",/, "link 1 persists");
    } finally {
      p.server.close();
    }
  });

  it("AT+CIPSTAMAC: sets the station's MAC (the doc's example), ? shows it, and so does +CIFSR; ERROR for the MACs the notes rule out", async () => {
    assert.match(await uart.command("AT+CIPSTAMAC?"), /^\+CIPSTAMAC:"([0-9a-f]{2}:){5}[0-9a-f]{2}"\r\n\r\nOK\r\n$/);
    assert.equal(await uart.command('AT+CIPSTAMAC="1a:fe:35:98:d3:7b"'), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSTAMAC?"), '+CIPSTAMAC:"1a:fe:35:98:d3:7b"\r\n\r\nOK\r\n');
    assert.match(await uart.command("AT+CIFSR"), /\+CIFSR:STAMAC,"1a:fe:35:98:d3:7b"\r\n/);
    assert.equal(await uart.command("AT+CWMODE=3"), "\r\nOK\r\n");
    const ap = /\+CIPAPMAC:"([^"]+)"/.exec(await uart.command("AT+CIPAPMAC?"))![1];
    // Bit 0 set ("15:..."), all ones, all zeros, malformed, and the SoftAP's own MAC.
    for (const bad of ['"15:fe:35:98:d3:7b"', '"ff:ff:ff:ff:ff:ff"', '"00:00:00:00:00:00"', '"1a:fe:35:98:d3"', "1", `"${ap}"`, '"1a:fe:35:98:d3:7c",1'])
      assert.equal(await uart.command(`AT+CIPSTAMAC=${bad}`), "\r\nERROR\r\n", bad);
    assert.equal(await uart.command("AT+CIPSTAMAC?"), '+CIPSTAMAC:"1a:fe:35:98:d3:7b"\r\n\r\nOK\r\n', "bad input changed nothing");
  });

  it("AT+CIPAPMAC: sets the SoftAP's MAC (the doc's example); not the station's; saved when AT+SYSSTORE=1 and applied at boot", async () => {
    assert.equal(await uart.command("AT+CWMODE=3"), "\r\nOK\r\n");
    const station = /\+CIPSTAMAC:"([^"]+)"/.exec(await uart.command("AT+CIPSTAMAC?"))![1];
    assert.equal(await uart.command(`AT+CIPAPMAC="${station}"`), "\r\nERROR\r\n", "the station's MAC");
    assert.equal(await uart.command('AT+CIPAPMAC="18:fe:35:98:d3:7b"'), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPAPMAC?"), '+CIPAPMAC:"18:fe:35:98:d3:7b"\r\n\r\nOK\r\n');
    assert.match(await uart.command("AT+CIFSR"), /\+CIFSR:APMAC,"18:fe:35:98:d3:7b"\r\n/);
    assert.equal(await uart.command('AT+CIPSTAMAC="1a:fe:35:98:d3:7b"'), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+SYSSTORE=0"), "\r\nOK\r\n");
    assert.equal(await uart.command('AT+CIPSTAMAC="2a:fe:35:98:d3:7b"'), "\r\nOK\r\n", "set, not saved");
    await restart();
    assert.equal(await uart.command("AT+CIPSTAMAC?"), '+CIPSTAMAC:"1a:fe:35:98:d3:7b"\r\n\r\nOK\r\n', "what flash held");
    assert.equal(await uart.command("AT+CIPAPMAC?"), '+CIPAPMAC:"18:fe:35:98:d3:7b"\r\n\r\nOK\r\n');
  });
});

describe("AT+CIPSTAMAC in the simulator: its DHCP sees the new MAC", function () {
  this.timeout(60000);
  const session = withConsole({ sim: { verbose: true } });

  it("AT+CIPSTAMAC: the lease after the next join goes to the MAC set", async () => {
    const { uart, sim } = session;
    assert.ok(!sim!.log.includes("to 1a:fe:35:98:d3:7b"));
    assert.equal(await uart.command('AT+CIPSTAMAC="1a:fe:35:98:d3:7b"'), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CWQAP"), "\r\nOK\r\n");
    assert.equal(await uart.expect("WIFI DISCONNECT\r\n"), "WIFI DISCONNECT\r\n");
    assert.equal(await uart.command(JOIN, 20000), JOINED);
    await until(() => sim!.log.includes("wifi: DHCP leases 127.0.0.1 to 1a:fe:35:98:d3:7b"), "the lease to the new MAC in the log");
  });
});
