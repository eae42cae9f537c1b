// Replays what real ESP-AT host libraries send, in their order, over the pty against loopback
// peers, and checks every reply: lwesp (MaJerle/lwesp, develop, v1.1.2-dev), the Arduino
// WiFiEspAT library, and Zephyr's esp_at driver (drivers/wifi/esp_at).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { createSocket } from "node:dgram";
import { JOINED, until, withConsole } from "../helpers/console.ts";
import { tcpPeer as peer } from "../helpers/peer.ts";
import type { UartClient } from "../helpers/uart.ts";
import { simOnly } from "../helpers/target.ts";

/** Sends a command and checks its whole reply, up to OK or ERROR. */
async function step(uart: UartClient, command: string, reply: string | RegExp): Promise<string> {
  const got = await uart.command(command);
  if (typeof reply === "string") assert.equal(got, reply, command);
  else assert.match(got, reply, command);
  return got;
}

/** Sends each command in turn and checks each reply. */
async function replay(uart: UartClient, steps: [string, string | RegExp][]): Promise<void> {
  for (const [command, reply] of steps) await step(uart, command, reply);
}

/** CIPSEND of "hello" on a link: `>` right after a line feed, then Recv and SEND OK; the peer gets it. */
async function sendHello(uart: UartClient, id: number, heard: () => Buffer): Promise<void> {
  await uart.write(`AT+CIPSEND=${id},5\r\n`);
  assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
  await uart.write("hello");
  assert.equal(await uart.expect("SEND OK\r\n"), "\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n");
  await until(() => heard().toString() === "hello", "hello at the peer");
}

describe("host libraries, replayed", function () {
  before(function () {
    simOnly(this); // the simulator's AP and addresses
  });
  this.timeout(30000);
  const session = withConsole({ join: false });

  for (const receive of ["passive", "active"] as const) {
    it(`lwesp: reset, restore, init, join, connect, send, receive (${receive}), close`, async () => {
      const { uart } = session;
      const p = await peer();
      // Reset and restore, each waited for with `ready`.
      await step(uart, "AT+RST", "\r\nOK\r\n");
      await uart.expect("\r\nready\r\n");
      await uart.write("AT+RESTORE\r\n");
      assert.equal(await uart.expect("\r\nready\r\n"), "AT+RESTORE\r\n\r\nOK\r\n\r\nready\r\n");
      // Init.
      assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
      // lwesp reads the chip from `- ESP32 -` and needs AT 3.2.0 or later; xsock's version is on the Bin line.
      const gmr = await step(uart, "AT+GMR", /^AT version:(\d+)\.(\d+)\.\d+\.\d+\([^)]* - ESP32 - [^)]*\)\r\n[^]*\r\nBin version:xsock-[\d.]+\(esp32\/nodemcu\)\r\n\r\nOK\r\n$/);
      const [major, minor] = /AT version:(\d+)\.(\d+)/.exec(gmr)!.slice(1).map(Number);
      assert.ok(major > 3 || (major === 3 && minor >= 2), `AT ${major}.${minor}: lwesp needs 3.2.0 or later on an ESP32`);
      for (const command of ["AT+SYSMSG=7", "AT+SYSLOG=1", "AT+RFPOWER=40", "AT+CWMODE=3,1"]) await step(uart, command, "\r\nOK\r\n");
      await step(uart, "AT+CWDHCP?", "+CWDHCP:3\r\n\r\nOK\r\n");
      for (const command of ["AT+CIPMUX=1", "AT+CIPRECVMODE=1", "AT+CWLAPOPT=1,0x7FF"]) await step(uart, command, "\r\nOK\r\n");
      await step(uart, "AT+CIPSTATUS", "STATUS:5\r\n\r\nOK\r\n");
      await step(uart, "AT+CIPSTATE?", "\r\nOK\r\n");
      await step(uart, "AT+CIPAP?", '+CIPAP:ip:"192.168.4.1"\r\n+CIPAP:gateway:"192.168.4.1"\r\n+CIPAP:netmask:"255.255.255.0"\r\n\r\nOK\r\n');
      await step(uart, "AT+CIPAPMAC?", /^\+CIPAPMAC:"([0-9a-f]{2}:){5}[0-9a-f]{2}"\r\n\r\nOK\r\n$/);
      await step(uart, "AT+CIPDINFO=1", "\r\nOK\r\n");
      // Join.
      await step(uart, 'AT+CWJAP="xsock-sim",""', JOINED);
      await step(uart, "AT+CWDHCP?", "+CWDHCP:3\r\n\r\nOK\r\n");
      await step(uart, "AT+CIPSTA?", '+CIPSTA:ip:"127.0.0.1"\r\n+CIPSTA:gateway:"127.0.0.1"\r\n+CIPSTA:netmask:"255.255.255.0"\r\n\r\nOK\r\n');
      await step(uart, "AT+CIPSTAMAC?", '+CIPSTAMAC:"24:0a:c4:00:00:01"\r\n\r\nOK\r\n');
      // Connect: SYSMSG bit 1 announces the link as +LINK_CONN.
      await step(uart, `AT+CIPSTARTEX="TCP","127.0.0.1",${p.port},0`, `+LINK_CONN:0,0,"TCP",0,"127.0.0.1",${p.port},0\r\n\r\nOK\r\n`);
      await until(() => p.conns.length === 1, "the connection at the peer");
      // Send.
      await step(uart, "AT+CIPRECVLEN?", "+CIPRECVLEN:0,0,0,0,0\r\n\r\nOK\r\n");
      await sendHello(uart, 0, p.heard);
      // Receive.
      if (receive === "active") await step(uart, "AT+CIPRECVMODE=0", "\r\nOK\r\n");
      p.conns[0].write("world");
      if (receive === "passive") {
        assert.equal(await uart.expect("+IPD,0,5\r\n"), "\r\n+IPD,0,5\r\n");
        await step(uart, "AT+CIPRECVLEN?", "+CIPRECVLEN:5,0,0,0,0\r\n\r\nOK\r\n");
        await step(uart, "AT+CIPRECVDATA=0,5", `+CIPRECVDATA:5,"127.0.0.1",${p.port},world\r\nOK\r\n`);
      } else {
        assert.equal(await uart.expect("world"), `\r\n+IPD,0,5,"127.0.0.1",${p.port}:world`);
      }
      // Close.
      await step(uart, "AT+CIPCLOSE=0", "0,CLOSED\r\n\r\nOK\r\n");
      // A command it does not have gets the error code first (SYSLOG=1).
      await step(uart, "AT+FAKE", "ERR CODE:0x01090000\r\n\r\nERROR\r\n");
      p.server.close();
    });
  }

  // WiFiEspAT built for AT 2.x (-DWIFIESPAT2): it searches link ids from 4 down, reads passive data
  // as `+CIPRECVDATA:<len>,<data>`, and reads 0 in CIPRECVLEN for a link that is not open (ESP-AT 3.x; 2.x printed -1, which it reads too).
  it("WiFiEspAT: reset, init, probe, join, status, connect, send, receive (passive), close", async () => {
    const { uart } = session;
    const p = await peer();
    await uart.write("AT+RST\r\n");
    await uart.expect("\r\nready\r\n");
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    for (const command of ["AT+CIPMUX=1", "AT+CIPRECVMODE=1", "AT+SYSSTORE=0"]) await step(uart, command, "\r\nOK\r\n");
    await step(uart, "AT+CWMODE?", "+CWMODE:1\r\n\r\nOK\r\n");
    // Its liveness probe: `?` alone gets ERROR.
    await step(uart, "?", "\r\nERROR\r\n");
    await step(uart, "AT+GMR", /^AT version:[^\r]*\(/);
    await replay(uart, [
      ['AT+CWJAP="xsock-sim",""', JOINED],
      ["AT+CIPSTATUS", "STATUS:2\r\n\r\nOK\r\n"],
      ["AT+CIPSTA?", '+CIPSTA:ip:"127.0.0.1"\r\n+CIPSTA:gateway:"127.0.0.1"\r\n+CIPSTA:netmask:"255.255.255.0"\r\n\r\nOK\r\n'],
      ["AT+CIPSTAMAC?", '+CIPSTAMAC:"24:0a:c4:00:00:01"\r\n\r\nOK\r\n'],
      ["AT+CWAUTOCONN=0", "\r\nOK\r\n"],
      ["AT+CIPDNS?", '+CIPDNS:0,"127.0.0.53"\r\n\r\nOK\r\n'],
      ['AT+CWHOSTNAME="board-1"', "\r\nOK\r\n"],
      ["AT+CWHOSTNAME?", "+CWHOSTNAME:board-1\r\n\r\nOK\r\n"],
    ]);
    await step(uart, `AT+CIPSTART=4,"TCP","127.0.0.1",${p.port}`, "4,CONNECT\r\n\r\nOK\r\n");
    await step(uart, "AT+CIPSTATUS", new RegExp(`^STATUS:3\r\n\\+CIPSTATUS:4,"TCP","127\\.0\\.0\\.1",${p.port},0,0\r\n\r\nOK\r\n$`));
    await until(() => p.conns.length === 1, "the connection at the peer");
    await sendHello(uart, 4, p.heard);
    p.conns[0].write("world");
    assert.equal(await uart.expect("+IPD,4,5\r\n"), "\r\n+IPD,4,5\r\n");
    await replay(uart, [
      ["AT+CIPRECVLEN?", "+CIPRECVLEN:0,0,0,0,5\r\n\r\nOK\r\n"],
      ["AT+CIPRECVDATA=4,64", "+CIPRECVDATA:5,world\r\nOK\r\n"],
      ["AT+CIPCLOSEMODE=4,1", "\r\nOK\r\n"],
      ["AT+CIPCLOSE=4", "4,CLOSED\r\n\r\nOK\r\n"],
      // The AT 1.x spellings it sends when built for AT 1.x.
      ["AT+CWMODE_CUR=1", "\r\nOK\r\n"],
      ["AT+CWMODE_DEF?", "+CWMODE_DEF:1\r\n\r\nOK\r\n"],
      ["AT+CWDHCP_CUR=1,1", "\r\nOK\r\n"],
      ["AT+CIPSTA_CUR?", /^\+CIPSTA_CUR:ip:"127\.0\.0\.1"\r\n/],
      ['AT+CWJAP_CUR="xsock-sim",""', `WIFI DISCONNECT\r\n${JOINED}`],
    ]);
    p.server.close();
  });

  // lwesp_int.c with LWESP_CFG_IPV6, LWESP_CFG_SNTP, LWESP_CFG_MDNS, LWESP_CFG_DNS and LWESP_CFG_PING:
  // the commands it builds, with the parameters its API passes, and lwesp_parser.c's reading of the replies.
  it("lwesp: IPv6, SSL, DNS, ping, SNTP and mDNS commands, and its parsers' reading of the replies", async () => {
    const { uart } = session;
    const v4 = await peer();
    const v6 = await peer("::1");
    const tls = await selfSignedTlsPeer();
    try {
      // Init: after CIPRECVMODE, LWESP_CMD_WIFI_IPV6 sends AT+CIPV6=1.
      for (const command of ["AT+SYSMSG=7", "AT+CIPMUX=1", "AT+CIPRECVMODE=1", "AT+CIPV6=1", "AT+CIPDINFO=1"]) await step(uart, command, "\r\nOK\r\n");
      await step(uart, 'AT+CWJAP="xsock-sim",""', JOINED);
      // LWESP_CMD_TCPIP_CIPDOMAIN: lwespi_parse_cipdomain skips "+CIPDOMAIN:" (11) and lwespi_parse_ip skips the quote.
      const domain = await step(uart, 'AT+CIPDOMAIN="localhost"', '+CIPDOMAIN:"127.0.0.1"\r\n\r\nOK\r\n');
      assert.equal(domain.slice(11, 12), '"');
      // LWESP_CMD_TCPIP_PING: lwespi_parse_ping_time skips "+PING:" (6) and reads a number.
      const ping = await step(uart, 'AT+PING="localhost"', /^\+PING:\d+\r\n\r\nOK\r\n$/);
      assert.match(ping.slice(6), /^\d+\r\n/);
      // LWESP_CMD_TCPIP_CIPSNTPCFG: enable, the signed time zone, then only the servers given.
      await step(uart, 'AT+CIPSNTPCFG=1,-5,"pool.ntp.org","time.google.com"', "\r\nOK\r\n");
      // lwespi_parse_sntp_cfg skips "+CIPSNTPCFG:" (12), then reads two numbers (enable, time zone).
      const cfg = await step(uart, "AT+CIPSNTPCFG?", '+CIPSNTPCFG:1,-5,"pool.ntp.org","time.google.com"\r\n\r\nOK\r\n');
      assert.deepEqual(cfg.slice(12).split(",").slice(0, 2).map(Number), [1, -5]);
      // lwespi_parse_cipsntptime skips "+CIPSNTPTIME:" (13): a 3-letter day and a space, a 3-letter month and a
      // space, one more space before a day under 10, then day, hour, minute, second and year, one separator each.
      const time = await step(uart, "AT+CIPSNTPTIME?", /^\+CIPSNTPTIME:[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n\r\nOK\r\n$/);
      assert.deepEqual(lwespSntpTime(time), { wday: 3, mon: 11, mday: 31, hour: 19, year: 1969 });
      // LWESP_CMD_TCPIP_CIPSNTPINTV and its _GET: lwespi_parse_cipsntpintv skips "+CIPSNTPINTV:" (13).
      await step(uart, "AT+CIPSNTPINTV=3600", "\r\nOK\r\n");
      const intv = await step(uart, "AT+CIPSNTPINTV?", "+CIPSNTPINTV:3600\r\n\r\nOK\r\n");
      assert.equal(parseInt(intv.slice(13), 10), 3600);
      // LWESP_CMD_WIFI_MDNS: lwesp_mdns_set_config(1, host, server, port), then (0).
      await step(uart, 'AT+MDNS=1,"lwesp","_lwesp",80', "\r\nOK\r\n");
      await step(uart, "AT+MDNS=0", "\r\nOK\r\n");
      // LWESP_CMD_TCPIP_CIPSTART: lwesp writes the IPv6 types "TCPV6", "UDPV6" and "SSLV6". ESP-AT compares the
      // type with strcmp against "TCPv6" (libesp32_at_core.a's at_ipCmd has no case-insensitive compare), so the real
      // firmware refuses them as the console does; lwespi_parse_link_conn reads "TCPv6" back, the doc's spelling.
      await step(uart, `AT+CIPSTARTEX="TCPV6","::1",${v6.port},0`, "\r\nERROR\r\n");
      // With the doc's spelling: lwespi_parse_link_conn reads failed, link, "TCPv6", is_server, the IP, remote and local port.
      await step(uart, `AT+CIPSTARTEX="TCPv6","::1",${v6.port},0`, `+LINK_CONN:0,0,"TCPv6",0,"::1",${v6.port},0\r\n\r\nOK\r\n`);
      // UDP: no local port is an empty field, then <mode> 0.
      await step(uart, `AT+CIPSTARTEX="UDP","127.0.0.1",${v4.port},,0`, new RegExp(`^\\+LINK_CONN:0,1,"UDP",0,"127\\.0\\.0\\.1",${v4.port},\\d+\r\n\r\nOK\r\n$`));
      // LWESP_CMD_TCPIP_CIPSSLCCONF: link, auth mode, PKI and CA numbers; then an SSL link with keep-alive 0.
      await step(uart, "AT+CIPSSLCCONF=2,0,0,0", "\r\nOK\r\n");
      await step(uart, `AT+CIPSTARTEX="SSL","127.0.0.1",${tls.port},0`, `+LINK_CONN:0,2,"SSL",0,"127.0.0.1",${tls.port},0\r\n\r\nOK\r\n`);
      await until(() => tls.accepted() === 1, "the TLS handshake at the peer");
      // LWESP_CMD_TCPIP_CIPSSLSIZE (lwesp_conn_set_ssl_buffersize) is ESP8266 AT 1.x's: ESP-AT 3.x has no such command.
      await step(uart, "AT+CIPSSLSIZE=4096", "\r\nERROR\r\n");
      await step(uart, "AT+CIPCLOSE=5", "0,CLOSED\r\n1,CLOSED\r\n2,CLOSED\r\n\r\nOK\r\n");
    } finally {
      v4.server.close();
      v6.server.close();
      tls.close();
    }
  });

  // Zephyr's esp_at driver (esp.c, esp_offload.c) for ESP-AT 2.x/3.x: IPv4 TCP and UDP only (esp_get refuses any
  // family but AF_INET, and it has no TLS, SNTP or mDNS offload), with DNS servers read from AT+CIPDNS?.
  it("Zephyr esp_at: init, join, CIPDNS?, a TCP link with keep-alive 7200, UDP sends to the peer's address, passive receive", async () => {
    const { uart } = session;
    const p = await peer();
    const udp = createSocket("udp4");
    await new Promise<void>((r) => udp.bind(0, "127.0.0.1", () => r()));
    const heard: Buffer[] = [];
    udp.on("message", (m) => heard.push(m));
    try {
      // esp_init_work's setup commands (DHCP on, passive mode); AT+UART_CUR is skipped: the pty's baud is the test's.
      await step(uart, "AT", "\r\nOK\r\n");
      for (const command of ["AT+CWDHCP=1,1", "AT+CIPMUX=1", "AT+CWLAPOPT=1,31", "AT+CWMODE=1", "AT+CWAUTOCONN=0", "AT+CWMODE=0", "AT+CIPRECVMODE=1"]) {
        await step(uart, command, "\r\nOK\r\n");
      }
      // SETUP_CMD("AT+CIPSTAMAC?", "+CIPSTAMAC:"): on_cmd_cipstamac unquotes argv[0] for net_bytes_from_str.
      await step(uart, "AT+CIPSTAMAC?", '+CIPSTAMAC:"24:0a:c4:00:00:01"\r\n\r\nOK\r\n');
      await step(uart, "AT+CWMODE=1", "\r\nOK\r\n");
      await step(uart, 'AT+CWJAP="xsock-sim",""', JOINED);
      // esp_ip_addr_work: on_cmd_cipsta reads "+CIPSTA:<name>:<quoted ip>"; on_cmd_cipdns takes 1 to 3 "," fields
      // after "+CIPDNS:", and reads each server with net_addr_pton(AF_INET).
      await step(uart, "AT+CIPSTA?", '+CIPSTA:ip:"127.0.0.1"\r\n+CIPSTA:gateway:"127.0.0.1"\r\n+CIPSTA:netmask:"255.255.255.0"\r\n\r\nOK\r\n');
      const dns = await step(uart, "AT+CIPDNS?", '+CIPDNS:0,"127.0.0.53"\r\n\r\nOK\r\n');
      assert.deepEqual(dns.split("\r\n")[0].slice("+CIPDNS:".length).split(",").slice(1).map((s) => s.replace(/"/g, "")), ["127.0.0.53"]);
      // _sock_connect: "AT+CIPSTART=%d,\"TCP\",\"%s\",%d,7200"; the unsolicited "0,CONNECT" matches on_cmd_connect.
      await step(uart, `AT+CIPSTART=0,"TCP","127.0.0.1",${p.port},7200`, "0,CONNECT\r\n\r\nOK\r\n");
      await until(() => p.conns.length === 1, "the connection at the peer");
      await sendHello(uart, 0, p.heard);
      // Passive: "+IPD,<id>,<len>\r\n", then "AT+CIPRECVDATA=%d,%d"; cmd_ciprecvdata_parse reads the length after
      // "+CIPRECVDATA:" up to ',' (_CIPRECVDATA_END for AT 2.x and later), and the data after it.
      p.conns[0].write("world");
      assert.equal(await uart.expect("+IPD,0,5\r\n"), "\r\n+IPD,0,5\r\n");
      await step(uart, "AT+CIPRECVDATA=0,2048", "+CIPRECVDATA:5,world\r\nOK\r\n");
      // UDP: "AT+CIPSTART=%d,\"UDP\",\"%s\",%d", then "AT+CIPSEND=%d,%d,\"%s\",%d" to the socket's destination.
      const port = (udp.address() as AddressInfo).port;
      await step(uart, `AT+CIPSTART=1,"UDP","127.0.0.1",${port}`, "1,CONNECT\r\n\r\nOK\r\n");
      await uart.write(`AT+CIPSEND=1,5,"127.0.0.1",${port}\r\n`);
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      await uart.write("hello");
      assert.equal(await uart.expect("SEND OK\r\n"), "\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n");
      await until(() => heard.length === 1, "the datagram");
      assert.equal(heard[0].toString(), "hello");
      // esp_socket_close: "AT+CIPCLOSE=%d"; "0,CLOSED" and "1,CLOSED" match on_cmd_closed.
      await step(uart, "AT+CIPCLOSE=0", "0,CLOSED\r\n\r\nOK\r\n");
      await step(uart, "AT+CIPCLOSE=1", "1,CLOSED\r\n\r\nOK\r\n");
      // esp_mgmt_disconnect: "AT+CWQAP"; the "WIFI DISCONNECT" after it matches on_cmd_wifi_disconnected.
      await step(uart, "AT+CWQAP", "\r\nOK\r\n");
      assert.equal(await uart.expect("WIFI DISCONNECT\r\n"), "WIFI DISCONNECT\r\n");
    } finally {
      p.server.close();
      udp.close();
    }
  });
});

/** lwespi_parse_cipsntptime, step by step: the fields lwesp reads from `+CIPSNTPTIME:<asctime>`. */
function lwespSntpTime(reply: string): { wday: number; mon: number; mday: number; hour: number; year: number } {
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  let at = 13;
  const wday = days.indexOf(reply.slice(at, at + 3));
  at += 4;
  const mon = months.indexOf(reply.slice(at, at + 3));
  at += 4;
  if (reply[at] === " ") at++;
  const number = () => {
    const digits = /^-?\d+/.exec(reply.slice(at))![0];
    at += digits.length + 1;
    return Number(digits);
  };
  const mday = number();
  const hour = number();
  number(); // minute
  number(); // second
  return { wday, mon, mday, hour, year: number() };
}

/** A TLS server on loopback with a self-signed certificate (auth mode 0 checks nothing), counting handshakes. */
async function selfSignedTlsPeer(): Promise<{ port: number; accepted: () => number; close: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), "xsock-hostlib-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-subj", "/CN=127.0.0.1", "-days", "1"], { cwd: dir, stdio: "ignore" });
  let accepted = 0;
  const server = createTlsServer({ cert: readFileSync(join(dir, "cert.pem")), key: readFileSync(join(dir, "key.pem")) }, (c) => {
    accepted++;
    c.on("error", () => {});
  });
  server.unref();
  rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as AddressInfo).port, accepted: () => accepted, close: () => server.close() };
}
