// Replays what real ESP-AT host libraries send, in their order, over the pty against loopback
// peers, and checks every reply: lwesp (MaJerle/lwesp, develop, v1.1.2-dev) and the Arduino
// WiFiEspAT library.
import assert from "node:assert/strict";
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
});
