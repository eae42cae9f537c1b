// Two `xsock sim` processes on one machine, on 127.0.0.1 and 127.0.0.2 (--ip): both serve the
// same ports, and talk to each other over TCP and UDP through their consoles.
import assert from "node:assert/strict";
import { JOINED } from "../helpers/console.ts";
import { freePort } from "../helpers/ports.ts";
import { runXsock, startSim, type SimProcess } from "../helpers/sim.ts";
import { UartClient } from "../helpers/uart.ts";

describe("two simulated boards, one machine (--ip)", function () {
  this.timeout(60000);
  const boards: { sim: SimProcess; uart: UartClient }[] = [];
  // The same port on both boards, one the OS says is free on both addresses: TCP for the
  // servers, UDP for the links.
  let tcpPort: number;
  let udpPort: number;
  before(async () => {
    tcpPort = await freePort(["127.0.0.1", "127.0.0.2"]);
    udpPort = await freePort(["127.0.0.1", "127.0.0.2"], ["udp"]);
    for (const ip of ["127.0.0.1", "127.0.0.2"]) {
      const sim = await startSim(["--ip", ip]);
      const uart = await UartClient.open(sim.uart);
      boards.push({ sim, uart });
      await uart.expect("ready\r\n", 20000);
      assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
      assert.equal(await uart.command('AT+CWJAP="xsock-sim",""'), JOINED);
      assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSERVER=1,${tcpPort}`), "\r\nOK\r\n", `the server on ${ip}`);
    }
  });
  after(async () => {
    for (const { sim, uart } of boards) {
      await uart.close();
      await sim.stop();
    }
  });

  const send = async (uart: UartClient, id: number, data: string) => {
    await uart.write(`AT+CIPSEND=${id},${data.length}\r\n`);
    await uart.expect(">");
    await uart.write(data);
    assert.match(await uart.expect(/SEND (OK|FAIL)\r\n/), /SEND OK\r\n$/);
  };

  it("reports each its own address", async () => {
    assert.match(await boards[0].uart.command("AT+CIFSR"), /STAIP,"127\.0\.0\.1"/);
    assert.match(await boards[1].uart.command("AT+CIFSR"), /STAIP,"127\.0\.0\.2"/);
  });

  it("connects one board to the other over TCP, from its own address, and carries data both ways", async () => {
    const [a, b] = boards.map((x) => x.uart);
    assert.equal(await a.command(`AT+CIPSTART=0,"TCP","127.0.0.2",${tcpPort}`), "0,CONNECT\r\n\r\nOK\r\n");
    assert.equal(await b.expect("0,CONNECT\r\n"), "0,CONNECT\r\n");
    assert.match(await b.command("AT+CIPSTATUS"), new RegExp(`\\+CIPSTATUS:0,"TCP","127\\.0\\.0\\.1",\\d+,${tcpPort},1\\r\\n`), "the peer is the other board's address");
    await send(a, 0, "from A");
    assert.match(await b.expect("from A"), /\+IPD,0,6:from A$/);
    await send(b, 0, "from B");
    assert.match(await a.expect("from B"), /\+IPD,0,6:from B$/);
    assert.equal(await a.command("AT+CIPCLOSE=0"), "0,CLOSED\r\n\r\nOK\r\n");
    assert.equal(await b.expect("0,CLOSED\r\n"), "0,CLOSED\r\n");
  });

  it("exchanges UDP datagrams between the same port on both boards", async () => {
    const [a, b] = boards.map((x) => x.uart);
    assert.equal(await a.command(`AT+CIPSTART=1,"UDP","127.0.0.2",${udpPort},${udpPort},0`), "1,CONNECT\r\n\r\nOK\r\n");
    assert.equal(await b.command(`AT+CIPSTART=1,"UDP","127.0.0.1",${udpPort},${udpPort},0`), "1,CONNECT\r\n\r\nOK\r\n");
    await send(a, 1, "ping");
    assert.match(await b.expect("ping"), /\+IPD,1,4:ping$/);
    await send(b, 1, "pong");
    assert.match(await a.expect("pong"), /\+IPD,1,4:pong$/);
  });

  it("refuses an --ip (and xsock test's --host-ip) that is not an IPv4 address, with the same words", async () => {
    for (const [args, option] of [[["sim", "--ip"], "--ip <addr>"], [["test", "--host-ip"], "--host-ip <ip>"]] as const) {
      for (const bad of ["localhost", "256.1.1.1", "1.2.3", "::1"]) {
        const { code, stderr } = await runXsock([...args, bad]);
        assert.equal(code, 2, stderr);
        assert.match(stderr, new RegExp(`option '${option}' argument '${bad.replaceAll(".", "\\.")}' is invalid\\. an IPv4 address, four numbers from 0 to 255 such as 127\\.0\\.0\\.2`));
      }
    }
  });

  it("refuses an --ip the host does not have, and names the ones it could use", async () => {
    // TEST-NET-3 (RFC 5737): documentation only, on no host's interface.
    const { code, stderr } = await runXsock(["sim", "--ip", "203.0.113.9"]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /option '--ip <addr>' argument '203\.0\.113\.9' is invalid\. not an address of this host: use 127\.0\.0\.1 to 127\.255\.255\.254, or one of /);
    assert.doesNotMatch(stderr, /\n {4}at /, "no stack trace");
  });
});
