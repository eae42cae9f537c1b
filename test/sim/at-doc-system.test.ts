// esp-at's power and system message commands (docs/en/AT_Command_Set/Basic_AT_Commands.rst:
// AT+GSLP, AT+SLEEP, AT+SLEEPWKCFG, AT+SYSRAM, AT+SYSMSGFILTER, AT+SYSMSGFILTERCFG; and
// Wi-Fi_AT_Commands.rst: AT+CWRECONNCFG, AT+CWCOUNTRY), replayed over the pty. Each test is
// named after the doc section whose example or response template it checks, with the exact reply.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import type { AccessPoint } from "../../host-sim/devices/wifi.ts";
import { BOOT_MS, JOINED, withConsole } from "../helpers/console.ts";
import { JOIN } from "../helpers/target.ts";
import type { UartClient } from "../helpers/uart.ts";

const OK = "\r\nOK\r\n";
const ERROR = "\r\nERROR\r\n";
const PROMPT = `${OK}\r\n>`;

/** A TCP peer on loopback (port 0): the connections the board makes to it. */
async function tcpPeer(): Promise<{ server: Server; port: number; accepted: Promise<Socket> }> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const accepted = once(server, "connection").then(([s]) => s as Socket);
  return { server, port: (server.address() as { port: number }).port, accepted };
}

describe("esp-at system message filters, as documented", function () {
  this.timeout(60000);
  const session = withConsole({ join: false });
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  /** AT+SYSMSGFILTERCFG=<operator>,<head len>,<tail len>: OK and `>`, then the expressions, then the answer. */
  const filterCfg = async (operator: number, head: string, tail: string, cflags?: number) => {
    const flags = cflags === undefined ? "" : `,${cflags}`;
    assert.equal(await uart.command(`AT+SYSMSGFILTERCFG=${operator},${head.length},${tail.length}${flags}`).then(async (r) => r + (await uart.expect(">"))), PROMPT);
    await uart.write(head + tail);
    return uart.expect(/\r\n(OK|ERROR)\r\n/);
  };

  it("AT+SYSMSGFILTERCFG: Add a Filter, then AT+SYSMSGFILTER: Enable or Disable the system message Filter", async () => {
    // The doc's example: "^WIFI CONNECTED\r\n" (17 bytes), no tail.
    assert.equal(await filterCfg(1, "^WIFI CONNECTED\r\n", ""), OK);
    assert.equal(await uart.command("AT+SYSMSGFILTER?"), `+SYSMSGFILTER:0\r\n${OK}`, "off by default");
    assert.equal(await uart.command(JOIN, 20000), JOINED, "not filtered while the filter is off");
    assert.equal(await uart.command("AT+CWQAP"), OK);
    await uart.expect("WIFI DISCONNECT\r\n");
    assert.equal(await uart.command("AT+SYSMSGFILTER=1"), OK);
    assert.equal(await uart.command("AT+SYSMSGFILTER?"), `+SYSMSGFILTER:1\r\n${OK}`);
    assert.equal(await uart.command(JOIN, 20000), `WIFI GOT IP\r\n${OK}`, "AT no longer outputs WIFI CONNECTED");
  });

  it("AT+SYSMSGFILTERCFG: Query the Filters", async () => {
    assert.equal(await uart.command("AT+SYSMSGFILTERCFG?"), OK, "none at boot");
    assert.equal(await filterCfg(1, "^WIFI CONNECTED\r\n", ""), OK);
    assert.equal(await filterCfg(1, "", "\r\nOK\r\n$"), OK);
    await uart.write("AT+SYSMSGFILTERCFG?\r\n");
    const list = `+SYSMSGFILTERCFG:0,"^WIFI CONNECTED\r\n",""\r\n+SYSMSGFILTERCFG:1,"","\r\nOK\r\n$"\r\n${OK}`;
    assert.equal(await uart.expect(`$"\r\n${OK}`), list, "the expressions as they came, CR-LF and all");
  });

  it("AT+SYSMSGFILTERCFG: Delete a Filter", async () => {
    assert.equal(await filterCfg(1, "^WIFI CONNECTED\r\n", ""), OK);
    assert.equal(await uart.command("AT+SYSMSGFILTER=1"), OK);
    assert.equal(await filterCfg(2, "^WIFI CONNECTED\r\n", ""), OK);
    assert.equal(await uart.command("AT+SYSMSGFILTERCFG?"), OK);
    assert.equal(await uart.command(JOIN, 20000), JOINED, "AT will output WIFI CONNECTED again");
    assert.equal(await filterCfg(2, "^WIFI CONNECTED\r\n", ""), ERROR, "the filter to delete must be one added");
  });

  it("AT+SYSMSGFILTERCFG: Clear all the Filters", async () => {
    assert.equal(await filterCfg(1, "^WIFI CONNECTED\r\n", ""), OK);
    assert.equal(await filterCfg(1, "^WIFI GOT IP\r\n", ""), OK);
    assert.equal(await uart.command("AT+SYSMSGFILTERCFG=0"), OK);
    assert.equal(await uart.command("AT+SYSMSGFILTERCFG?"), OK);
    assert.equal(await uart.command("AT+SYSMSGFILTER=1"), OK);
    assert.equal(await uart.command(JOIN, 20000), JOINED);
  });

  it("AT+SYSMSGFILTERCFG: a message loses the head and tail it matches (the system message filter example)", async () => {
    assert.equal(await uart.command(JOIN, 20000), JOINED);
    const peer = await tcpPeer();
    try {
      assert.equal(await uart.command(`AT+CIPSTART="TCP","127.0.0.1",${peer.port}`), `CONNECT\r\n${OK}`);
      const socket = await peer.accepted;
      // As the doc's HTTP example strips "+HTTPCGET:<len>," and the tail "\r\n": here +IPD's head (BRE: `+` is itself).
      assert.equal(await filterCfg(1, "^\r\n+IPD,[0-9]*:", ""), OK);
      assert.equal(await filterCfg(1, "", "\r\nOK\r\n$"), OK, "and the doc's second filter, on OK");
      await uart.write("AT+SYSMSGFILTER=1\r\n"); // its OK is filtered out already
      await uart.write("AT+SYSMSGFILTER?\r\n");
      assert.equal(await uart.expect("+SYSMSGFILTER:1\r\n"), "+SYSMSGFILTER:1\r\n", "both OKs filtered out");
      socket.write("hello");
      assert.equal(await uart.expect("hello"), "hello", "the host gets the data alone");
      const big = Buffer.alloc(3000, "x").fill("y", 2999).toString("latin1"); // each +IPD of it loses its head
      socket.write(big);
      assert.equal(await uart.expect("y"), big.slice(0, -1) + "y");
      assert.equal(await uart.command("AT+SYSMSGFILTER=0"), OK, "the filters are off before this OK");
      assert.equal(await uart.command("AT"), OK);
      socket.write("again");
      assert.equal(await uart.expect("again"), "\r\n+IPD,5:again");
      socket.destroy();
    } finally {
      peer.server.close();
    }
  });

  it("Enable the system message filter to download files in HTTP passthrough mode (the doc's example)", async () => {
    // A body of every byte value, with the filters' own patterns inside it, 5,000 bytes: three +HTTPCGET pieces of 2,048 at most.
    const body = Buffer.concat([Buffer.from(Array.from({ length: 4900 }, (_, i) => (i * 7) & 0xff)), Buffer.from("+HTTPCGET:12,\r\n\r\nOK\r\n"), Buffer.alloc(100 - 27, "z"), Buffer.from("END-OF-BODY")]);
    const server = createHttpServer((_req, res) => res.end(body));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      assert.equal(await uart.command(JOIN, 20000), JOINED);
      assert.equal(await filterCfg(1, "^+HTTPCGET:[0-9]*,", "\r\n$"), OK, "AT+SYSMSGFILTERCFG=1,18,3");
      assert.equal(await filterCfg(1, "", "\r\nOK\r\n$"), OK, "AT+SYSMSGFILTERCFG=1,0,7");
      await uart.write("AT+SYSMSGFILTER=1\r\nAT+SYSMSGFILTER?\r\n");
      assert.equal(await uart.expect("+SYSMSGFILTER:1\r\n"), "+SYSMSGFILTER:1\r\n", "the OKs are filtered out from now on");
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hardware.png`;
      await uart.write(`AT+HTTPCGET="${url}",2048,2048,5000\r\n`);
      const got = await uart.expect("END-OF-BODY", 20000);
      assert.equal(Buffer.from(got, "latin1").equals(body), true, `the host gets the body alone, byte for byte (${got.length} bytes)`);
      assert.equal(await uart.command("AT+SYSMSGFILTER=0"), OK);
      assert.equal(uart.pending, "");
    } finally {
      server.close();
    }
  });

  it("AT+SYSMSGFILTERCFG: bad lengths, flags and expressions get ERROR, and nothing is added", async () => {
    for (const line of ["AT+SYSMSGFILTERCFG=1,0,0", "AT+SYSMSGFILTERCFG=1,65,0", "AT+SYSMSGFILTERCFG=1,1,1,8", "AT+SYSMSGFILTERCFG=3,1,1", "AT+SYSMSGFILTERCFG=0,1", "AT+SYSMSGFILTER=2"]) {
      assert.equal(await uart.command(line), ERROR, line);
    }
    assert.equal(await filterCfg(1, "^\\(WIFI", ""), ERROR, "an unmatched \\( is no expression");
    assert.equal(await filterCfg(1, "^WIFI (", "", 1), ERROR, "nor an unmatched ( in ERE");
    assert.equal(await filterCfg(1, "^WIFI (", ""), OK, "in BRE ( is itself");
    assert.equal(await uart.command("AT+SYSMSGFILTERCFG?"), `+SYSMSGFILTERCFG:0,"^WIFI (",""\r\n${OK}`);
  });

  it("AT+SYSMSGFILTERCFG: <cflags> REG_ICASE ignores case", async () => {
    assert.equal(await filterCfg(1, "^wifi connected\r\n", "", 2), OK);
    assert.equal(await uart.command("AT+SYSMSGFILTER=1"), OK);
    assert.equal(await uart.command(JOIN, 20000), `WIFI GOT IP\r\n${OK}`);
  });
});

describe("esp-at sleep commands, as documented", function () {
  this.timeout(60000);
  const session = withConsole({ join: false });
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  it("AT+SLEEP: Set the Sleep Mode", async () => {
    assert.equal(await uart.command("AT+SLEEP?"), `+SLEEP:1\r\n${OK}`, "modem sleep, ESP-IDF's default");
    assert.equal(await uart.command("AT+SLEEP=0"), OK, "the doc's example");
    assert.equal(await uart.command("AT+SLEEP?"), `+SLEEP:0\r\n${OK}`);
    assert.equal(await uart.command("AT+SLEEP=2"), OK);
    assert.equal(await uart.command("AT+SLEEP?"), `+SLEEP:2\r\n${OK}`, "in light sleep the UART wakes it: it answers");
    assert.equal(await uart.command("AT+SLEEP=3"), OK);
    assert.equal(await uart.command("AT+CWMODE=3"), OK);
    for (const mode of [1, 2, 3]) assert.equal(await uart.command(`AT+SLEEP=${mode}`), ERROR, `${mode} with the SoftAP`);
    assert.equal(await uart.command("AT+SLEEP=0"), OK);
    assert.equal(await uart.command("AT+CWMODE=0"), OK);
    assert.equal(await uart.command("AT+SLEEP=1"), OK, "in the Null Wi-Fi mode it is allowed");
    for (const line of ["AT+SLEEP=4", "AT+SLEEP=-1", "AT+SLEEP=1,1", 'AT+SLEEP="1"']) assert.equal(await uart.command(line), ERROR, line);
    assert.equal(await uart.command("AT+SLEEP?"), `+SLEEP:1\r\n${OK}`);
  });

  it("AT+SLEEPWKCFG: Set the Light-sleep Wakeup Source and Awake GPIO", async () => {
    assert.equal(await uart.command("AT+SLEEPWKCFG=2,12,0"), OK, "the doc's example: GPIO12, low level");
    assert.equal(await uart.command("AT+SLEEPWKCFG=2,12,1"), OK);
    // 0 and 1 are reserved, not supported.
    for (const line of ["AT+SLEEPWKCFG=0,1000", "AT+SLEEPWKCFG=1,0", "AT+SLEEPWKCFG=2,40,0", "AT+SLEEPWKCFG=2,12,2", "AT+SLEEPWKCFG=2,12"]) {
      assert.equal(await uart.command(line), ERROR, line);
    }
  });

  it("AT+SYSRAM: Set Command", async () => {
    const reply = await uart.command("AT+SYSRAM=0x1800");
    const m = /^\+SYSRAM:(\d+),(\d+),(\d+),(\d+)\r\n\r\nOK\r\n$/.exec(reply);
    assert.ok(m, reply);
    const [largest, free, lowest, total] = m.slice(1).map(Number);
    assert.ok(largest <= free && lowest <= free && free < total && total > 0, reply);
    assert.match(await uart.command("AT+SYSRAM=6144"), /^\+SYSRAM:\d+,\d+,\d+,\d+\r\n\r\nOK\r\n$/);
    for (const line of ["AT+SYSRAM=0", "AT+SYSRAM=-1", 'AT+SYSRAM="x"', "AT+SYSRAM=1,2"]) assert.equal(await uart.command(line), ERROR, line);
  });
});

describe("esp-at AT+GSLP, as documented", function () {
  this.timeout(90000);
  const session = withConsole();
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  it("AT+GSLP: Enter Deep-sleep Mode: silent for <time>, its links closed, then ready", async () => {
    const peer = await tcpPeer();
    try {
      assert.equal(await uart.command(`AT+CIPSTART="TCP","127.0.0.1",${peer.port}`), `CONNECT\r\n${OK}`);
      const socket = await peer.accepted;
      const closed = once(socket, "close");
      socket.on("error", () => {});
      const SLEEP_MS = 3000;
      assert.equal(await uart.command(`AT+GSLP=${SLEEP_MS}`), `${SLEEP_MS}\r\n${OK}`, "<time>, then OK");
      const asleep = Date.now();
      await closed;
      assert.ok(Date.now() - asleep < SLEEP_MS, "the peer sees the close when the board goes down, not at its boot");
      await uart.write("AT\r\n"); // lost: the board sleeps
      assert.equal(await uart.expect("ready\r\n", SLEEP_MS + BOOT_MS), "\r\nready\r\n", "nothing during the sleep");
      assert.ok(Date.now() - asleep >= SLEEP_MS - 50, `ready ${Date.now() - asleep} ms after the OK`);
      assert.equal(await uart.command("AT"), `AT\r\n${OK}`, "a boot: echo is on again");
    } finally {
      peer.server.close();
    }
  });

  it("AT+GSLP: 0 means restarting right now; out of range gets ERROR", async () => {
    for (const line of ["AT+GSLP=-1", "AT+GSLP=2147483648", "AT+GSLP", 'AT+GSLP="1"', "AT+GSLP=1,1"]) assert.equal(await uart.command(line), ERROR, line);
    assert.equal(await uart.command("AT+GSLP=0"), `0\r\n${OK}`);
    assert.equal(await uart.expect("ready\r\n", BOOT_MS), "\r\nready\r\n");
  });
});

describe("esp-at AT+CWRECONNCFG and AT+CWCOUNTRY, as documented", function () {
  this.timeout(90000);
  /** Two APs, on channels 1 and 11. */
  const APS: AccessPoint[] = [
    { ssid: "xsock-sim", rssi: -40, channel: 1, bssid: "02:00:00:00:00:01" },
    { ssid: "far", rssi: -50, channel: 11, bssid: "02:00:00:00:00:02" },
  ];
  const session = withConsole({ sim: { aps: APS } });
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  it("AT+CWRECONNCFG: Query or Set the Wi-Fi Reconnecting Configuration", async () => {
    assert.equal(await uart.command("AT+CWRECONNCFG?"), `+CWRECONNCFG:1,0\r\n${OK}`, "CWJAP's default interval, no end");
    assert.equal(await uart.command("AT+CWRECONNCFG=1,100"), OK, "the doc's example");
    assert.equal(await uart.command("AT+CWRECONNCFG?"), `+CWRECONNCFG:1,100\r\n${OK}`);
    assert.equal(await uart.command("AT+CWRECONNCFG=0,0"), OK);
    assert.equal(await uart.command("AT+CWRECONNCFG?"), `+CWRECONNCFG:0,0\r\n${OK}`);
    assert.equal(await uart.command("AT+CWRECONNCFG=2,50,1"), OK, "with an address already, <reconnect_now> changes nothing");
    assert.equal(await uart.command("AT+CWRECONNCFG?"), `+CWRECONNCFG:2,50\r\n${OK}`);
    for (const line of ["AT+CWRECONNCFG=7201,0", "AT+CWRECONNCFG=1,1001", "AT+CWRECONNCFG=1", "AT+CWRECONNCFG=1,1,2", "AT+CWRECONNCFG=-1,0"]) {
      assert.equal(await uart.command(line), ERROR, line);
    }
    assert.equal(await uart.command("AT+CWRECONNCFG?"), `+CWRECONNCFG:2,50\r\n${OK}`, "bad input changes nothing");
    assert.equal(uart.pending, "", "and the station stayed on its AP");
  });

  it("AT+CWRECONNCFG: the station tries <repeat_count> times, at <interval_second>", async () => {
    const { sim } = session;
    assert.equal(await uart.command("AT+CWRECONNCFG=1,2"), OK);
    sim!.fault("link-drop", 5000); // the AP goes for 5 s: both tries, at 1 s and 2 s, fail
    assert.equal(await uart.expect("WIFI DISCONNECT\r\n"), "WIFI DISCONNECT\r\n");
    await new Promise((r) => setTimeout(r, 9000)); // the AP has been back for 4 s
    assert.equal(uart.pending, "", "no more tries after the second");
    assert.equal(await uart.command("AT+CWSTATE?"), `+CWSTATE:4,"xsock-sim"\r\n${OK}`);
    // With no end to the tries, the station is back once the AP is.
    assert.equal(await uart.command("AT+CWRECONNCFG=1,0"), OK);
    assert.equal(await uart.command(JOIN, 20000), JOINED);
    sim!.fault("link-drop", 3000);
    assert.equal(await uart.expect("WIFI GOT IP\r\n", 20000), "WIFI DISCONNECT\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n");
  });

  it("AT+CWRECONNCFG: a try every <interval_second>, saved when AT+SYSSTORE=1", async () => {
    const { sim } = session;
    assert.equal(await uart.command("AT+CWRECONNCFG=3,0"), OK);
    sim!.fault("link-drop", 500);
    assert.equal(await uart.expect("WIFI DISCONNECT\r\n"), "WIFI DISCONNECT\r\n");
    const dropped = Date.now();
    assert.equal(await uart.expect("WIFI GOT IP\r\n", 20000), "WIFI CONNECTED\r\nWIFI GOT IP\r\n");
    assert.ok(Date.now() - dropped >= 2900, `back ${Date.now() - dropped} ms after the drop: the first try is 3 s after it`);
    await uart.write("AT+RST\r\n");
    await uart.expect("ready\r\n", BOOT_MS);
    assert.equal(await uart.command("ATE0"), `ATE0\r\n${OK}`);
    await uart.expect("WIFI GOT IP\r\n", 20000); // the saved AP, joined at power-on
    assert.equal(await uart.command("AT+CWRECONNCFG?"), `+CWRECONNCFG:3,0\r\n${OK}`, "what flash held");
  });

  it("AT+CWCOUNTRY: Query or Set the Wi-Fi Country Code", async () => {
    assert.equal(await uart.command("AT+CWCOUNTRY?"), `+CWCOUNTRY:0,"CN",1,13\r\n${OK}`, "ESP-AT's factory setting");
    assert.equal(await uart.command("AT+CWMODE=3"), OK, "the doc's example");
    assert.equal(await uart.command('AT+CWCOUNTRY=1,"CN",1,13'), OK);
    assert.equal(await uart.command("AT+CWCOUNTRY?"), `+CWCOUNTRY:1,"CN",1,13\r\n${OK}`);
    const both = await uart.command("AT+CWLAP");
    assert.ok(both.includes('"far"') && both.includes('"xsock-sim"'), both);
    // Channels 1 to 6: the AP on 11 is not listed, and the SoftAP may not use 11.
    assert.equal(await uart.command('AT+CWCOUNTRY=1,"US",1,6'), OK);
    assert.equal(await uart.command("AT+CWCOUNTRY?"), `+CWCOUNTRY:1,"US",1,6\r\n${OK}`);
    assert.equal(await uart.command("AT+CWLAP"), `+CWLAP:(0,"xsock-sim",-40,"02:00:00:00:00:01",1,0,0,0,0,7,0)\r\n${OK}`);
    assert.equal(await uart.command('AT+CWSAP="ap","",11,0'), ERROR);
    assert.equal(await uart.command('AT+CWSAP="ap","",6,0'), OK);
    for (const line of ['AT+CWCOUNTRY=2,"US",1,6', 'AT+CWCOUNTRY=1,"USAX",1,6', 'AT+CWCOUNTRY=1,"US",0,6', 'AT+CWCOUNTRY=1,"US",2,14', 'AT+CWCOUNTRY=1,"US",1,0', "AT+CWCOUNTRY=1,1,1,6"]) {
      assert.equal(await uart.command(line), ERROR, line);
    }
    assert.equal(await uart.command("AT+CWCOUNTRY?"), `+CWCOUNTRY:1,"US",1,6\r\n${OK}`);
  });
});
