// IPv6 in the console, as esp-at's TCP-IP AT Commands page documents it (AT+CIPV6, the v6 link
// types of AT+CIPSTART, IPv6 addresses in +IPD, CIPSTATE, CIPSTATUS, +LINK_CONN, CIFSR and
// CIPDOMAIN) and the Wi-Fi page's AT+CIPSTA?: each test is named after the doc section, and
// checks the reply its response template gives. Against Node peers on ::1, the simulated
// board's global address (its link-local one comes from its MAC).
import assert from "node:assert/strict";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { startSim } from "xsock/sim";
import { until, withConsole } from "../helpers/console.ts";
import { dnsResponder, type DnsResponder } from "../helpers/dns.ts";
import { tcpPeer } from "../helpers/peer.ts";
import { simOnly } from "../helpers/target.ts";
import { tlsEchoServer } from "../helpers/tls.ts";
import { UartClient } from "../helpers/uart.ts";

/** The simulated station's addresses: fe80:: with its MAC's EUI-64 (24:0a:c4:00:00:01), and loopback. */
const STAIP6LL = "FE80::260A:C4FF:FE00:1";
const STAIP6GL = "::1";

async function udp6Peer(): Promise<{ socket: UdpSocket; port: number; heard: Array<{ data: string; port: number }> }> {
  const socket = createSocket({ type: "udp6", ipv6Only: true });
  const heard: Array<{ data: string; port: number }> = [];
  socket.on("message", (data, rinfo) => heard.push({ data: data.toString(), port: rinfo.port }));
  await new Promise<void>((r) => socket.bind(0, "::1", () => r()));
  socket.unref();
  return { socket, port: socket.address().port, heard };
}

describe("esp-at IPv6 (TCP-IP AT Commands), as documented", function () {
  this.timeout(30000);
  // The board's IPv6 addresses and ::1 peers are the simulator's: on a board the suite is skipped.
  const session = withConsole({ sim: {} });
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  it("AT+CIPV6: +CIPV6:<enable>, 0 by default; =<0|1>; other values get ERROR; AT+CMD? lists it", async () => {
    assert.equal(await uart.command("AT+CIPV6?"), "+CIPV6:0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPV6?"), "+CIPV6:1\r\n\r\nOK\r\n");
    for (const bad of ["AT+CIPV6=2", "AT+CIPV6=-1", 'AT+CIPV6="1"', "AT+CIPV6=1,0", "AT+CIPV6=", "AT+CIPV6"])
      assert.equal(await uart.command(bad), "\r\nERROR\r\n", bad);
    assert.equal(await uart.command("AT+CIPV6?"), "+CIPV6:1\r\n\r\nOK\r\n", "bad input changed nothing");
    assert.equal(await uart.command("AT+CIPV6=0"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPV6?"), "+CIPV6:0\r\n\r\nOK\r\n");
    assert.match(await uart.command("AT+CMD?"), /\+CMD:\d+,"AT\+CIPV6",0,1,1,0\r\n/);
  });

  /** AT+RST, its ready, and echo off again. */
  async function restart(): Promise<void> {
    assert.equal(await uart.command("AT+RST"), "\r\nOK\r\n");
    await uart.expect("ready\r\n", 15000);
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
  }

  it("AT+CIPV6: saved in the NVS partition with AT+SYSSTORE=1, not with AT+SYSSTORE=0", async () => {
    assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
    await restart();
    assert.equal(await uart.command("AT+CIPV6?"), "+CIPV6:1\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+SYSSTORE=0"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPV6=0"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPV6?"), "+CIPV6:0\r\n\r\nOK\r\n");
    await restart();
    assert.equal(await uart.command("AT+CIPV6?"), "+CIPV6:1\r\n\r\nOK\r\n");
  });

  it('AT+CIPSTART, TCP: "TCPv6" needs AT+CIPV6=1, and takes the type as written', async () => {
    const p = await tcpPeer("::1");
    try {
      assert.equal(await uart.command(`AT+CIPSTART="TCPv6","::1",${p.port}`), "\r\nERROR\r\n", "AT+CIPV6=0");
      assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
      // ESP-AT compares the type with strcmp (at_get_socket_type_id_by_type_str).
      for (const type of ["tcpv6", "TCPV6", "TCP6", "TCPv6 "])
        assert.equal(await uart.command(`AT+CIPSTART="${type}","::1",${p.port}`), "\r\nERROR\r\n", type);
      assert.equal(await uart.command(`AT+CIPSTART="TCPv6","127.0.0.1",${p.port}`), "\r\nERROR\r\n", "an IPv4 address");
      assert.equal(await uart.command(`AT+CIPSTART="TCP","::1",${p.port}`), "\r\nERROR\r\n", "TCP is IPv4");
      // Moddable's lwIP TCP takes an address of 31 characters at most (modules/io/socket/lwip/tcp.c).
      assert.equal(await uart.command(`AT+CIPSTART="TCPv6","0000:0000:0000:0000:0000:0000:0000:0001",${p.port}`), "\r\nERROR\r\n", "::1 in 39 characters");
      assert.equal(p.conns.length, 0);
      assert.equal(await uart.command(`AT+CIPSTART="TCPv6","::1",${p.port}`), "CONNECT\r\n\r\nOK\r\n");
      await until(() => p.conns.length === 1, "the connection");
    } finally {
      p.server.close();
    }
  });

  it("AT+CIPSTART, TCP: TCPv6 to ::1; +IPD with AT+CIPDINFO=1, AT+CIPSTATE? and AT+CIPSTATUS show the IPv6 peer", async () => {
    const p = await tcpPeer("::1");
    try {
      assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPDINFO=1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART=0,"TCPv6","::1",${p.port}`), "0,CONNECT\r\n\r\nOK\r\n");
      await until(() => p.conns.length === 1, "the connection");
      await uart.write("AT+CIPSEND=0,5\r\n");
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      await uart.write("hello");
      assert.equal(await uart.expect("SEND OK\r\n"), "\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n");
      await until(() => p.heard().toString() === "hello", "hello at the peer");
      p.conns[0].write("world");
      assert.equal(await uart.expect("world"), `\r\n+IPD,0,5,"::1",${p.port}:world`);
      assert.equal(await uart.command("AT+CIPSTATE?"), `+CIPSTATE:0,"TCPv6","::1",${p.port},0,0\r\n\r\nOK\r\n`);
      assert.equal(await uart.command("AT+CIPSTATUS"), `STATUS:3\r\n+CIPSTATUS:0,"TCPv6","::1",${p.port},0,0\r\n\r\nOK\r\n`);
      assert.equal(await uart.command("AT+CIPCLOSE=0"), "0,CLOSED\r\n\r\nOK\r\n");
    } finally {
      p.server.close();
    }
  });

  it('AT+CIPSTART, TCP: with AT+SYSMSG=2, +LINK_CONN:0,<id>,"TCPv6",0,"::1",<port>,<local port>', async () => {
    const p = await tcpPeer("::1");
    try {
      assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+SYSMSG=2"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="TCPv6","::1",${p.port}`), `+LINK_CONN:0,0,"TCPv6",0,"::1",${p.port},0\r\n\r\nOK\r\n`);
    } finally {
      p.server.close();
    }
  });

  it("AT+CIPSTARTEX: a TCPv6 link on the first free id", async () => {
    const p = await tcpPeer("::1");
    try {
      assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTARTEX="TCPv6","::1",${p.port}`), "0,CONNECT\r\n\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTARTEX="tcpv6","::1",${p.port}`), "\r\nERROR\r\n");
      assert.equal(await uart.command(`AT+CIPSTARTEX="TCPv6","::1",${p.port}`), "1,CONNECT\r\n\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSTATE?"), `+CIPSTATE:0,"TCPv6","::1",${p.port},0,0\r\n+CIPSTATE:1,"TCPv6","::1",${p.port},0,0\r\n\r\nOK\r\n`);
    } finally {
      p.server.close();
    }
  });

  it("AT+CIPSTART, UDP: UDPv6 to ::1 with a local port; +IPD shows the IPv6 sender with AT+CIPDINFO=1", async () => {
    const peer = await udp6Peer();
    try {
      assert.equal(await uart.command(`AT+CIPSTART="UDPv6","::1",${peer.port}`), "\r\nERROR\r\n", "AT+CIPV6=0");
      assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPDINFO=1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="UDPv6","::1",${peer.port},0,0`), "CONNECT\r\n\r\nOK\r\n");
      const state = await uart.command("AT+CIPSTATE?");
      const local = Number(/^\+CIPSTATE:0,"UDPv6","::1",\d+,(\d+),0\r\n\r\nOK\r\n$/.exec(state)?.[1]);
      assert.equal(state, `+CIPSTATE:0,"UDPv6","::1",${peer.port},${local},0\r\n\r\nOK\r\n`);
      await uart.write("AT+CIPSEND=4\r\n");
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      await uart.write("ping");
      assert.equal(await uart.expect("SEND OK\r\n"), "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
      await until(() => peer.heard.length === 1, "the datagram at the peer");
      assert.deepEqual(peer.heard[0], { data: "ping", port: local });
      peer.socket.send("pong", local, "::1");
      assert.equal(await uart.expect("pong"), `\r\n+IPD,4,"::1",${peer.port}:pong`);
    } finally {
      peer.socket.close();
    }
  });

  it("AT+CIPSTART, SSL: SSLv6 to a TLS server on ::1, data both ways", async () => {
    const tls = await tlsEchoServer(undefined, "::1");
    try {
      assert.equal(await uart.command(`AT+CIPSTART="SSLv6","::1",${tls.port}`), "\r\nERROR\r\n", "AT+CIPV6=0");
      assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSLv6","::1",${tls.port}`, 20000), "CONNECT\r\n\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSTATE?"), `+CIPSTATE:0,"SSLv6","::1",${tls.port},0,0\r\n\r\nOK\r\n`);
      await uart.write("AT+CIPSEND=4\r\n");
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      await uart.write("echo");
      assert.equal(await uart.expect("SEND OK\r\n"), "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
      assert.equal(await uart.expect("echo"), "\r\n+IPD,4:echo");
    } finally {
      tls.server.close();
    }
  });

  it("AT+CIFSR: +CIFSR:STAIP6LL and +CIFSR:STAIP6GL with AT+CIPV6=1, between STAIP and STAMAC", async () => {
    const v4 = `+CIFSR:STAIP,"${session.ip}"\r\n`;
    const mac = '+CIFSR:STAMAC,"24:0a:c4:00:00:01"\r\n';
    assert.equal(await uart.command("AT+CIFSR"), `${v4}${mac}\r\nOK\r\n`, "AT+CIPV6=0");
    assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIFSR"), `${v4}+CIFSR:STAIP6LL,"${STAIP6LL}"\r\n+CIFSR:STAIP6GL,"${STAIP6GL}"\r\n${mac}\r\nOK\r\n`);
    // Without an AP the station has no addresses to show.
    assert.equal(await uart.command("AT+CWQAP"), "\r\nOK\r\n");
    await uart.expect("WIFI DISCONNECT\r\n");
    assert.equal(await uart.command("AT+CIFSR"), `+CIFSR:STAIP,"0.0.0.0"\r\n${mac}\r\nOK\r\n`);
  });

  it("AT+CIPSTA (Wi-Fi AT Commands): the query adds +CIPSTA:ip6ll and +CIPSTA:ip6gl with AT+CIPV6=1", async () => {
    const v4 = `+CIPSTA:ip:"${session.ip}"\r\n+CIPSTA:gateway:"127.0.0.1"\r\n+CIPSTA:netmask:"255.255.255.0"\r\n`;
    assert.equal(await uart.command("AT+CIPSTA?"), `${v4}\r\nOK\r\n`);
    assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSTA?"), `${v4}+CIPSTA:ip6ll:"${STAIP6LL}"\r\n+CIPSTA:ip6gl:"${STAIP6GL}"\r\n\r\nOK\r\n`);
  });

  it("AT+PING: an IPv6 address needs AT+CIPV6=1, then +PING:<time>", async function () {
    assert.equal(await uart.command('AT+PING="::1"', 5000), "+PING:TIMEOUT\r\n\r\nERROR\r\n", "AT+CIPV6=0");
    assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
    // Raw ICMPv6 sockets need root (or CAP_NET_RAW) on the host (CI runs as root).
    if (process.getuid?.() !== 0) this.skip();
    assert.match(await uart.command('AT+PING="::1"', 5000), /^\+PING:\d+\r\n\r\nOK\r\n$/);
    assert.match(await uart.command('AT+PING="127.0.0.1"', 5000), /^\+PING:\d+\r\n\r\nOK\r\n$/, "IPv4 still");
    // The documentation prefix (RFC 3849): nothing answers within AT+PING's 2 s.
    assert.equal(await uart.command('AT+PING="2001:db8::1"', 5000), "+PING:TIMEOUT\r\n\r\nERROR\r\n");
  });

  describe("with a DNS server set by AT+CIPDNS", function () {
    /** A loopback address of its own: the other suites' DNS servers use theirs on port 53. */
    const SERVER = "127.0.0.86";
    let dns: DnsResponder | undefined;
    before(async function () {
      try {
        dns = await dnsResponder(SERVER, 53, { "v4.test": "127.0.0.1", "v6.test": "::1" });
      } catch (e) {
        // Port 53 needs root (CI runs as root).
        console.log(`    skipped: cannot serve DNS on ${SERVER}:53 (${(e as Error).message})`);
        this.skip();
      }
    });
    after(() => dns?.close());
    beforeEach(async () => assert.equal(await uart.command(`AT+CIPDNS=1,"${SERVER}"`), "\r\nOK\r\n"));

    it("AT+CIPDOMAIN: <ip network> 1 (the default) prefers IPv4, 2 resolves IPv4 only, 3 IPv6 only", async () => {
      const domain = (args: string) => uart.command(`AT+CIPDOMAIN=${args}`, 10000);
      assert.equal(await domain('"v4.test"'), '+CIPDOMAIN:"127.0.0.1"\r\n\r\nOK\r\n');
      assert.equal(await domain('"v6.test"'), '+CIPDOMAIN:"::1"\r\n\r\nOK\r\n', "no IPv4 address: the IPv6 one");
      assert.equal(await domain('"v4.test",1'), '+CIPDOMAIN:"127.0.0.1"\r\n\r\nOK\r\n');
      assert.equal(await domain('"v6.test",1'), '+CIPDOMAIN:"::1"\r\n\r\nOK\r\n');
      assert.equal(await domain('"v4.test",2'), '+CIPDOMAIN:"127.0.0.1"\r\n\r\nOK\r\n');
      assert.equal(await domain('"v6.test",2'), "\r\nERROR\r\n");
      assert.equal(await domain('"v6.test",3'), '+CIPDOMAIN:"::1"\r\n\r\nOK\r\n');
      assert.equal(await domain('"v4.test",3'), "\r\nERROR\r\n");
      assert.equal(await domain('"v6.test",4'), "\r\nERROR\r\n");
    });

    it("AT+PING: a name with an IPv6 address only, with AT+CIPV6=1", async function () {
      assert.equal(await uart.command('AT+PING="v6.test"', 10000), "+PING:TIMEOUT\r\n\r\nERROR\r\n", "AT+CIPV6=0: IPv4 only");
      assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
      if (process.getuid?.() !== 0) this.skip();
      assert.match(await uart.command('AT+PING="v6.test"', 10000), /^\+PING:\d+\r\n\r\nOK\r\n$/);
    });

    it("AT+CIPSTART, TCP: TCPv6 to a name resolves its IPv6 address; TCP to it fails", async () => {
      const p = await tcpPeer("::1");
      try {
        assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
        assert.equal(await uart.command(`AT+CIPSTART="TCP","v6.test",${p.port}`, 10000), "\r\nERROR\r\n");
        assert.equal(await uart.command(`AT+CIPSTART="TCPv6","v6.test",${p.port}`, 10000), "CONNECT\r\n\r\nOK\r\n");
        await until(() => p.conns.length === 1, "the connection");
        assert.equal(await uart.command("AT+CIPSTATE?"), `+CIPSTATE:0,"TCPv6","::1",${p.port},0,0\r\n\r\nOK\r\n`);
      } finally {
        p.server.close();
      }
    });
  });
});

describe("esp-at IPv6 on an Ethernet board (esp32/wt32_eth01)", function () {
  this.timeout(30000);
  it("AT+CIFSR: +CIFSR:ETHIP6LL and +CIFSR:ETHIP6GL with AT+CIPV6=1, between ETHIP and ETHMAC", async function () {
    simOnly(this);
    const sim = await startSim({ board: "esp32/wt32_eth01", uart: "pty" });
    const uart = await UartClient.open(sim.uart.path);
    try {
      await uart.expect("+ETH_GOT_IP:127.0.0.1\r\n", 15000);
      assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
      const ip = '+CIFSR:ETHIP,"127.0.0.1"\r\n';
      const mac = '+CIFSR:ETHMAC,"24:0a:c4:00:00:04"\r\n';
      assert.equal(await uart.command("AT+CIFSR"), `${ip}${mac}\r\nOK\r\n`);
      assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIFSR"), `${ip}+CIFSR:ETHIP6LL,"FE80::260A:C4FF:FE00:4"\r\n+CIFSR:ETHIP6GL,"::1"\r\n${mac}\r\nOK\r\n`);
    } finally {
      await uart.close();
      await sim.stop();
    }
  });
});
