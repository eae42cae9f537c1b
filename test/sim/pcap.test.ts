// `xsock sim --pcap FILE`: the capture read back by Debian's tshark, as a user reads it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { createConnection, createServer, type AddressInfo, type Server } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSim as startBoard } from "xsock/sim";
import { leavePassthrough, passthrough64k, until, withConsole } from "../helpers/console.ts";
import { dnsResponder, type DnsResponder } from "../helpers/dns.ts";
import { tcpPeer as peer } from "../helpers/peer.ts";
import { freePort, runAddress } from "../helpers/ports.ts";
import { hasPythonCan, pythonCan, testBus } from "../helpers/python-can.ts";
import { needs, runSim, startSim } from "../helpers/sim.ts";
import { tlsEchoServer } from "../helpers/tls.ts";
import { PEER_HOST } from "../helpers/target.ts";
import { UartClient } from "../helpers/uart.ts";

const hasTshark = spawnSync("tshark", ["-v"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "xsock-pcap-"));
const FILE = join(dir, "run.pcapng");

/** The python-can suite's bus: a group and a port of this run's own. */
const CAN_BUS = await testBus();

/**
 * The UART's and the events' link types (USER0, USER1) decoded as plain data, as
 * docs/simulator.md shows, and the IP, TCP, UDP and ICMP checksums checked (tshark's default is not to).
 */
const READ_OPTIONS = [
  ...["0", "1"].flatMap((n) => ["-o", `uat:user_dlts:"User ${n} (DLT=${147 + Number(n)})","data","0","","0",""`]),
  ...["ip", "tcp", "udp"].flatMap((p) => ["-o", `${p}.check_checksum:TRUE`]),
];

/** tshark's output for `args` on the file; fails on an error, a warning on stderr, or a malformed packet. */
function tshark(args: string[], file = FILE): string {
  const run = spawnSync("tshark", ["-r", file, ...READ_OPTIONS, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const stderr = run.stderr.replace(/^Running as user "root".*\n/m, "");
  assert.equal(run.status, 0, `tshark ${args.join(" ")}: ${stderr}`);
  assert.equal(stderr, "", `tshark ${args.join(" ")} warned`);
  assert.doesNotMatch(run.stdout, /Malformed/, `tshark ${args.join(" ")} found a malformed packet`);
  return run.stdout;
}

/** Rows of tab-separated fields of the packets that pass `filter`. */
const fields = (filter: string, names: string[], extra: string[] = [], file = FILE) =>
  tshark([...extra, "-Y", filter, "-T", "fields", ...names.flatMap((n) => ["-e", n])], file)
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t"));

/**
 * Every packet decodes, and tshark's expert finds no malformed one, no error, and no warning
 * (a sequence number astray, a segment not captured, a full window) but those `allowed`.
 */
function readsClean(extra: string[] = [], file = FILE, allowed: string[] = []): void {
  const expert = tshark([...extra, "-q", "-z", "expert"], file);
  assert.doesNotMatch(expert, /Errors \(\d+\)|Malformed/, expert);
  const warnings = /^Warns \(\d+\)\n=+\n.*\n((?:.+\n)*)/m.exec(expert)?.[1] ?? "";
  const unexpected = warnings.split("\n").filter((l) => l && !allowed.some((a) => l.endsWith(a)));
  assert.deepEqual(unexpected, [], expert);
  tshark([...extra, "-V"], file);
}

describe("xsock sim --pcap", function () {
  this.timeout(60000);
  before(function () {
    needs(this, "tshark", hasTshark);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("with the console", function () {
    const session = withConsole({ sim: { pcap: FILE } });

    // TCP-IP AT Commands: AT+CIPMODE (passthrough) and AT+CIPSEND, whose bytes the capture carries as TCP segments.
    it("AT+CIPMODE=1 passthrough: tshark's follow,tcp,raw rebuilds 64 KB each way, between SYN and FIN", async () => {
      const { uart } = session;
      const p = await peer();
      const { up, down } = await passthrough64k(uart, p, PEER_HOST);
      await uart.expect(uart.pending.slice(-8));
      await leavePassthrough(uart);
      assert.equal(await uart.command("AT+CIPCLOSE"), "CLOSED\r\n\r\nOK\r\n");
      await until(() => p.conns[0].readableEnded, "the board's FIN at the peer");
      p.server.close();
      await session.sim!.stop();

      readsClean();
      const follow = tshark(["-q", "-z", "follow,tcp,raw,0"]);
      const [, body] = follow.split(/^Node 1: .*\n/m);
      const lines = body.split("\n").filter((l) => l && !l.startsWith("="));
      const fromBoard = Buffer.from(lines.filter((l) => !l.startsWith("\t")).join(""), "hex");
      const toBoard = Buffer.from(lines.filter((l) => l.startsWith("\t")).map((l) => l.trim()).join(""), "hex");
      assert.ok(fromBoard.equals(up), `the board's side: ${fromBoard.length} bytes, not the 64 KB sent`);
      assert.ok(toBoard.equals(down), `the peer's side: ${toBoard.length} bytes, not the 64 KB sent`);
      const flags = fields("tcp.stream == 0 && tcp.flags.syn == 1 || tcp.flags.fin == 1", ["tcp.flags.str", "tcp.srcport"]).map((r) => r[0]);
      assert.deepEqual(flags, ["··········S·", "·······A··S·", "·······A···F"], "SYN, SYN-ACK, the board's FIN");
      // The board's address and MAC (Espressif's OUI) on its frames.
      const [first] = fields("tcp.stream == 0", ["eth.src", "ip.src", "tcp.dstport", "tcp.window_size_value"]);
      // lwIP's window as Moddable builds the classic ESP32 (xsProj-esp32's sdkconfig.defaults: 8,192).
      assert.deepEqual(first, ["24:0a:c4:00:00:01", "127.0.0.1", String(p.port), "8192"]);
    });

    // TCP-IP AT Commands: AT+CIPDNS and AT+CIPDOMAIN; Wi-Fi AT Commands' AT+CWJAP gets its address by DHCP.
    it("AT+CWJAP's DHCP and AT+CIPDOMAIN's DNS decode with the board's address and the names asked", async function () {
      const { uart } = session;
      // Port 53 is DNS's, fixed: the server's address is this run's own, so that another run's server does not hold it.
      const server = runAddress(78);
      let dns: DnsResponder;
      try {
        dns = await dnsResponder(server, 53, { "board.test": "127.0.0.42" });
      } catch (e) {
        console.log(`    skipped: cannot serve DNS on ${server}:53 (${(e as Error).message})`); // port 53 needs root, as CI has
        return this.skip();
      }
      try {
        assert.equal(await uart.command(`AT+CIPDNS=1,"${server}"`), "\r\nOK\r\n");
        assert.equal(await uart.command('AT+CIPDOMAIN="board.test"'), '+CIPDOMAIN:"127.0.0.42"\r\n\r\nOK\r\n');
        assert.equal(await uart.command('AT+CIPDOMAIN="nothing.test"'), "\r\nERROR\r\n");
      } finally {
        await dns.close();
      }
      await session.sim!.stop();
      readsClean();
      const dhcp = fields("dhcp", ["dhcp.option.dhcp", "dhcp.ip.your", "dhcp.hw.mac_addr"]);
      assert.deepEqual(
        dhcp.map((r) => r[0]),
        ["1", "2", "3", "5"],
        "DISCOVER, OFFER, REQUEST, ACK",
      );
      assert.deepEqual(dhcp[3].slice(1), [session.ip, "24:0a:c4:00:00:01"]);
      assert.deepEqual(
        fields("dns", ["dns.flags.response", "dns.qry.name", "dns.a", "dns.flags.rcode", "ip.src", "ip.dst"]),
        [
          ["0", "board.test", "", "", session.ip, server],
          ["1", "board.test", "127.0.0.42", "0", server, session.ip],
          ["0", "nothing.test", "", "", session.ip, server],
          ["1", "nothing.test", "", "3", server, session.ip],
        ],
      );
    });

    // Wi-Fi AT Commands: AT+CWMODE=2 runs the SoftAP, whose DHCP server leases a phone its address (+DIST_STA_IP).
    it("the SoftAP's DHCP server leasing a phone its address", async () => {
      const { uart } = session;
      const phone = "aa:bb:cc:00:00:01";
      assert.equal(await uart.command("AT+CWMODE=2"), "\r\nOK\r\n");
      assert.equal(session.sim!.stationJoin(phone), "192.168.4.2");
      // The station leaves its AP in mode 2 (WIFI DISCONNECT), then the phone comes.
      assert.equal(await uart.expect(/DIST_STA_IP.*\r\n/), `WIFI DISCONNECT\r\n+STA_CONNECTED:"${phone}"\r\n+DIST_STA_IP:"${phone}","192.168.4.2"\r\n`);
      await session.sim!.stop();
      readsClean();
      assert.deepEqual(fields(`dhcp.hw.mac_addr == ${phone}`, ["dhcp.option.dhcp", "dhcp.ip.your", "eth.src", "ip.src", "dhcp.option.router"]), [
        ["1", "0.0.0.0", phone, "0.0.0.0", ""],
        ["2", "192.168.4.2", "24:0a:c4:00:00:02", "192.168.4.1", "192.168.4.1"],
        ["3", "0.0.0.0", phone, "0.0.0.0", ""],
        ["5", "192.168.4.2", "24:0a:c4:00:00:02", "192.168.4.1", "192.168.4.1"],
      ]);
    });

    // TCP-IP AT Commands: AT+CIPSTART's "SSL" type.
    it('AT+CIPSTART="SSL": the capture shows the TLS handshake and records, not the plaintext', async () => {
      const { uart } = session;
      const tls = await tlsEchoServer();
      try {
        assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${tls.port}`), "CONNECT\r\n\r\nOK\r\n");
        await uart.write("AT+CIPSEND=5\r\n");
        await uart.expect(">");
        await uart.write("hello");
        assert.equal(await uart.expect("+IPD,5:hello"), "\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n\r\n+IPD,5:hello");
        assert.equal(await uart.command("AT+CIPCLOSE"), "CLOSED\r\n\r\nOK\r\n");
      } finally {
        tls.server.close();
      }
      await session.sim!.stop();
      const asTls = ["-d", `tcp.port==${tls.port},tls`];
      readsClean(asTls);
      const types = fields("tls.handshake", ["tls.handshake.type"], asTls).flatMap((r) => r[0].split(","));
      assert.ok(types.includes("1") && types.includes("2"), `ClientHello and ServerHello: ${types.join(" ")}`);
      assert.ok(fields("tls.app_data", ["tcp.srcport"], asTls).length >= 2, "application data both ways");
      assert.equal(fields('frame contains "hello"', ["frame.number"]).filter((r) => r).length, 2, "hello only on the UART, both ways");
    });

    // TCP-IP AT Commands: AT+CIPSERVER, AT+CIPSTART's "UDP" and "TCPv6" types; a link-drop aborts the links.
    it("AT+CIPSERVER's accepted link, a UDP link both ways, and a TCPv6 link reset by a link-drop", async () => {
      const { uart } = session;
      // TCP-IP AT Commands: AT+CIPV6=1 comes before the TCPv6 link.
      assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
      const port = await freePort([session.ip]);
      assert.equal(await uart.command(`AT+CIPSERVER=1,${port}`), "\r\nOK\r\n");
      const client = createConnection(port, session.ip);
      assert.equal(await uart.expect("0,CONNECT\r\n"), "0,CONNECT\r\n");
      client.write("hi board");
      assert.equal(await uart.expect("hi board"), "\r\n+IPD,0,8:hi board");
      client.end();
      assert.equal(await uart.expect("0,CLOSED\r\n"), "0,CLOSED\r\n");

      const udp = createSocket("udp4");
      await new Promise<void>((r) => udp.bind(0, PEER_HOST, () => r()));
      const heard = new Promise<[Buffer, number]>((r) => udp.once("message", (m, from) => r([m, from.port])));
      assert.equal(await uart.command(`AT+CIPSTART=1,"UDP","${PEER_HOST}",${udp.address().port}`), "1,CONNECT\r\n\r\nOK\r\n");
      await uart.write("AT+CIPSEND=1,3\r\n");
      await uart.expect(">");
      await uart.write("udp");
      await uart.expect("SEND OK\r\n");
      const [datagram, boardPort] = await heard;
      assert.equal(datagram.toString(), "udp");
      udp.send("pong", boardPort, session.ip);
      assert.equal(await uart.expect("pong"), "\r\n+IPD,1,4:pong");
      const peerPort = udp.address().port;
      udp.close();

      const v6 = await new Promise<Server>((r) => {
        const server = createServer((c) => c.on("error", () => {}));
        server.listen(0, "::1", () => r(server));
      });
      assert.equal(await uart.command("AT+CIPV6=1"), "\r\nOK\r\n"); // IPv6 links need it, as ESP-AT asks
      assert.equal(await uart.command(`AT+CIPSTART=2,"TCPv6","::1",${(v6.address() as AddressInfo).port}`), "2,CONNECT\r\n\r\nOK\r\n");
      session.sim!.fault("link-drop", 100);
      await uart.expect("2,CLOSED\r\n", 10000);
      v6.close();
      await session.sim!.stop();

      readsClean([], FILE, ["Connection reset (RST)"]);
      const tcp = fields("tcp", ["tcp.stream", "tcp.flags.str", "tcp.srcport", "tcp.len", "ipv6.src"]);
      const accepted = tcp.filter((r) => r[0] === "0");
      assert.deepEqual(
        accepted.map((r) => [r[1], r[2] === String(port) ? "board" : "client", r[3]]),
        [
          ["··········S·", "client", "0"],
          ["·······A··S·", "board", "0"],
          ["·······A····", "client", "0"],
          ["·······AP···", "client", "8"],
          ["·······A····", "board", "0"],
          ["·······A···F", "client", "0"],
          ["·······A···F", "board", "0"],
        ],
        "the client's handshake, its data and the board's ACK, its FIN, and the board's FIN",
      );
      const reset = tcp.filter((r) => r[0] === "1");
      assert.deepEqual(reset.map((r) => [r[1], r[4]]), [
        ["··········S·", "::1"],
        ["·······A··S·", "::1"],
        ["·······A····", "::1"],
        ["·······A·R··", "::1"],
      ]);
      assert.deepEqual(fields("udp && !dns && !dhcp", ["udp.srcport", "udp.dstport", "data.data"]), [
        [String(boardPort), String(peerPort), Buffer.from("udp").toString("hex")],
        [String(peerPort), String(boardPort), Buffer.from("pong").toString("hex")],
      ]);
    });

    // TCP-IP AT Commands: AT+PING, an ICMP echo on a raw socket.
    it("AT+PING: the echo request and its reply, as ICMP", async function () {
      // Raw ICMP sockets need root (or CAP_NET_RAW) on the host, as CI has.
      if (process.getuid?.() !== 0) this.skip();
      const { uart } = session;
      assert.match(await uart.command('AT+PING="127.0.0.1"', 5000), /^\+PING:\d+\r\n\r\nOK\r\n$/);
      await session.sim!.stop();
      readsClean();
      assert.deepEqual(
        fields("icmp", ["icmp.type", "ip.src", "ip.dst", "eth.src", "icmp.checksum.status"]),
        [
          ["8", session.ip, "127.0.0.1", "24:0a:c4:00:00:01", "1"],
          ["0", "127.0.0.1", session.ip, "02:00:00:00:00:01", "1"],
        ],
        "the board's request and the reply, their checksums good",
      );
    });

    // Basic AT Commands: the console's bytes, both ways, on the UART interface.
    it("the UART both ways, first byte the direction, and a fault as a packet comment", async () => {
      const { uart } = session;
      assert.equal(await uart.command("AT"), "\r\nOK\r\n");
      session.sim!.fault("link-drop", 100);
      await uart.expect("WIFI DISCONNECT\r\n", 10000);
      await session.sim!.stop();
      readsClean();
      const uartPackets = fields("frame.interface_id == 2", ["data.data"]).map((r) => Buffer.from(r[0], "hex"));
      const into = Buffer.concat(uartPackets.filter((b) => b[0] === 0).map((b) => b.subarray(1))).toString("latin1");
      const out = Buffer.concat(uartPackets.filter((b) => b[0] === 1).map((b) => b.subarray(1))).toString("latin1");
      assert.ok(into.endsWith("ATE0\r\nAT+CWJAP=\"xsock-sim\",\"\"\r\nAT+CIFSR\r\nAT\r\n"), JSON.stringify(into));
      assert.ok(out.includes("ready\r\n") && out.endsWith("\r\nOK\r\nWIFI DISCONNECT\r\n"), JSON.stringify(out));
      const comments = fields("frame.comment", ["frame.comment"]).map((r) => r[0]);
      assert.deepEqual(comments.filter((c) => /fault|wifi/.test(c)), [
        "wifi, state connected, ssid xsock-sim",
        "wifi, state got ip, ip 127.0.0.1",
        "fault link-drop for 100 ms",
        "wifi, state disconnected",
      ]);
    });
  });

  // An Ethernet board's console (docs/console.md): its port's lease at boot, +ETH_GOT_IP.
  it("an Ethernet board: its port's DHCP lease, from the Ethernet MAC", async () => {
    const board = await startBoard({ board: "esp32/wt32_eth01", pcap: FILE });
    try {
      await board.uart.expect("+ETH_GOT_IP:127.0.0.1\r\n", { timeout: 15000 });
    } finally {
      await board.stop();
    }
    readsClean();
    assert.deepEqual(fields("dhcp", ["dhcp.option.dhcp", "dhcp.ip.your", "eth.src"]), [
      ["1", "0.0.0.0", "24:0a:c4:00:00:04"],
      ["2", "127.0.0.1", "02:00:00:00:00:01"],
      ["3", "0.0.0.0", "24:0a:c4:00:00:04"],
      ["5", "127.0.0.1", "02:00:00:00:00:01"],
    ]);
  });

  describe("with python-can on the bus", function () {
    before(function () {
      needs(this, "python-can (python3-can)", hasPythonCan);
    });
    const session = withConsole({ sim: { pcap: FILE, can: CAN_BUS.spec }, join: false });

    // The console's CAN commands (docs/console.md): AT+CANCFG, AT+CANSEND, +CANRX; and the fault can-bus-off.
    it("SocketCAN frames: python-can's ids, flags and data, the board's, and a bus-off's error frame", async () => {
      const { uart } = session;
      assert.equal(await uart.command("AT+CANCFG=500000"), "\r\nOK\r\n");
      const py = pythonCan(
        `
import can, sys
bus = can.Bus(interface="udp_multicast", channel=sys.argv[1], port=int(sys.argv[2]))
bus.send(can.Message(arbitration_id=0x123, is_extended_id=False, data=bytes.fromhex("deadbeef")))
bus.send(can.Message(arbitration_id=0x1abcdef0, is_extended_id=True, data=bytes.fromhex("0102030405060708")))
bus.send(can.Message(arbitration_id=0x7ff, is_extended_id=False, is_remote_frame=True, dlc=2))
m = bus.recv(20)
while m is not None and m.arbitration_id != 0x321:  # python-can hears its own frames too
    m = bus.recv(20)
print("heard %x %s" % (m.arbitration_id, m.data.hex()))
bus.shutdown()
`,
        [CAN_BUS.group, String(CAN_BUS.port)],
        30000,
      );
      assert.equal(await uart.expect(/\+CANRX:7FF,2,R\r\n/, 20000), "+CANRX:123,4,DEADBEEF\r\n+CANRX:1ABCDEF0,8,0102030405060708\r\n+CANRX:7FF,2,R\r\n");
      assert.equal(await uart.command("AT+CANSEND=321,C0FFEE"), "\r\nOK\r\n");
      assert.equal((await py.done).trim(), "heard 321 c0ffee");
      session.sim!.fault("can-bus-off");
      await session.sim!.stop();
      readsClean();
      const frames = fields("can", ["can.id", "can.flags.xtd", "can.flags.rtr", "can.flags.err", "can.len", "data.data", "can.err.busoff"]);
      // A remote frame has no data: SocketCAN's can_dlc (python-can's dlc) is its length, its data bytes zero.
      assert.deepEqual(frames, [
        [String(0x123), "0", "0", "0", "4", "deadbeef", ""],
        [String(0x1abcdef0), "1", "0", "0", "8", "0102030405060708", ""],
        [String(0x7ff), "0", "1", "0", "2", "0000", ""],
        [String(0x321), "0", "0", "0", "3", "c0ffee", ""],
        ["", "", "", "1", "8", "", "1"],
      ]);
    });
  });

  // docs/ci.md, Scenarios: a scenario's `pcap:`, relative to its file.
  it("a scenario's pcap: captures its run, faults as comments", async () => {
    const scenario = join(dir, "captured.yaml");
    writeFileSync(scenario, "name: captured\npcap: captured.pcapng\nsteps:\n  - wait-serial: 'ready\\r\\n'\n  - write-serial: 'AT\\r\\n'\n  - wait-serial: 'OK\\r\\n'\n  - fault: dhcp-fail\n");
    const { code, log } = await runSim(["--scenario", scenario]);
    assert.equal(code, 0, log);
    const file = join(dir, "captured.pcapng");
    readsClean([], file);
    const uartPackets = fields("frame.interface_id == 2", ["data.data"], [], file).map((r) => Buffer.from(r[0], "hex"));
    assert.equal(Buffer.concat(uartPackets.filter((b) => b[0] === 0).map((b) => b.subarray(1))).toString(), "AT\r\n");
    assert.deepEqual(fields("frame.comment", ["frame.comment"], [], file), [["fault dhcp-fail"]]);
  });

  // A run that is killed leaves a file tshark reads, up to its last packet.
  it("a simulator killed with SIGKILL leaves a file tshark reads, up to its last packet", async () => {
    const file = join(dir, "killed.pcapng");
    const sim = await startSim(["--pcap", file]);
    const uart = await UartClient.open(sim.uart);
    const uartOut = () =>
      Buffer.concat(
        fields("frame.interface_id == 2", ["data.data"], [], file)
          .map((r) => Buffer.from(r[0], "hex"))
          .filter((b) => b[0] === 1)
          .map((b) => b.subarray(1)),
      ).toString("latin1");
    try {
      await uart.expect("ready\r\n", 30000);
      assert.equal(await uart.command("AT"), "AT\r\n\r\nOK\r\n");
      // The file is read while the run goes on: the reply is in it before the run ends.
      await until(() => uartOut().endsWith("AT\r\n\r\nOK\r\n"), "the reply in the file", 10000);
    } finally {
      sim.proc.kill("SIGKILL");
      await sim.exited;
      await uart.close();
    }
    readsClean([], file);
    assert.ok(uartOut().endsWith("AT\r\n\r\nOK\r\n"), JSON.stringify(uartOut()));
  });
});
