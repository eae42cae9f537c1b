// A UART without flow control (--flow none): a host that writes faster than the console reads
// overruns the board's receive FIFO. The console keeps what it had, reports the loss, and the
// links carry on.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startSim as startBoard, type SimBoard } from "../../host-sim/api.ts";
import { RX_BUFFER } from "../../host-sim/devices/serial.ts";
import { JOINED } from "../helpers/console.ts";
import { tcpPeer } from "../helpers/peer.ts";
import { runSim, startSim, type SimProcess } from "../helpers/sim.ts";
import { UartClient } from "../helpers/uart.ts";

const until = async (check: () => boolean, what: string, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("UART overrun without flow control (--flow none)", function () {
  this.timeout(30000);
  let board: SimBoard | undefined;
  let sim: SimProcess | undefined;
  let uart: UartClient | undefined;
  afterEach(async () => {
    await board?.stop();
    await uart?.close();
    await sim?.stop();
    board = sim = uart = undefined;
  });

  async function modem(): Promise<SimBoard> {
    board = await startBoard({ flow: "none", log: () => {} });
    await board.uart.expect("ready\r\n");
    const command = async (line: string, reply: string | RegExp = /\r\n(OK|ERROR)\r\n/) => {
      board!.uart.write(`${line}\r\n`);
      return board!.uart.expect(reply);
    };
    await command("ATE0");
    assert.equal(await command('AT+CWJAP="xsock-sim",""'), JOINED);
    await command("AT+CIPMUX=1");
    return board;
  }

  it("sends a CIPSEND payload that was in before the loss, reports the overrun, and the other link carries on", async () => {
    const b = await modem();
    const [a, other] = [await tcpPeer(), await tcpPeer()];
    try {
      b.uart.write(`AT+CIPSTART=0,"TCP","127.0.0.1",${a.port}\r\n`);
      await b.uart.expect("OK\r\n");
      b.uart.write(`AT+CIPSTART=1,"TCP","127.0.0.1",${other.port}\r\n`);
      await b.uart.expect("OK\r\n");
      const payload = randomBytes(600);
      b.uart.write("AT+CIPSEND=0,600\r\n");
      await b.uart.expect(">");
      // The host pastes on without waiting, past the 1 KiB FIFO (unpaced, the line is infinitely fast).
      const paste = Buffer.alloc(2000, "x");
      b.uart.write(Buffer.concat([payload, paste]));
      const lost = payload.length + paste.length - RX_BUFFER;
      assert.equal(await b.uart.expect("ERROR\r\n", { timeout: 3000 }), "busy p...\r\n\r\nRecv 600 bytes\r\n\r\nSEND OK\r\n+UART_OVERRUN\r\n\r\nERROR\r\n", "busy p... for what came past the payload in its read");
      await b.waitLog(new RegExp(`sim: UART overrun: ${lost} bytes lost \\(a ${RX_BUFFER}-byte receive FIFO, no flow control\\)`));
      await until(() => a.heard().length >= payload.length, "the payload at the peer");
      assert.ok(a.heard().equals(payload), "the payload that was in reached its peer byte for byte");
      // Both links are still up, and the other one carries data both ways.
      b.uart.write("AT+CIPSTATUS\r\n");
      assert.match(await b.uart.expect("OK\r\n"), /\+CIPSTATUS:0,"TCP".*\r\n\+CIPSTATUS:1,"TCP"/s);
      other.conns[0].write("still here");
      await b.uart.expect("+IPD,1,10:still here");
      b.uart.write("AT+CIPSEND=1,5\r\n");
      await b.uart.expect(">");
      b.uart.write("hello");
      await b.uart.expect("SEND OK\r\n");
      await until(() => other.heard().toString() === "hello", "hello at the other peer");
      assert.equal(a.heard().length, payload.length, "nothing of the paste went to link 0");
    } finally {
      a.server.close();
      other.server.close();
    }
  });

  it("answers every whole command of a paste bigger than the FIFO, then reports the loss once", async () => {
    const b = await modem();
    b.uart.write(Buffer.from("AT\r\n".repeat(1000)));
    const text = await b.uart.expect("+UART_OVERRUN\r\n\r\nERROR\r\n", { timeout: 5000 });
    // The FIFO held 1 KiB: 256 whole lines of 4 bytes; the other 744 were lost.
    assert.equal(text.match(/\r\nOK\r\n/g)?.length, RX_BUFFER / 4);
    assert.equal(text.replaceAll("\r\nOK\r\n", ""), "+UART_OVERRUN\r\n\r\nERROR\r\n");
    b.uart.write("AT\r\n");
    assert.equal(await b.uart.expect("OK\r\n"), "\r\nOK\r\n");
  });

  it("reports an overrun to a serial client on the pty, and keeps serving it", async () => {
    sim = await startSim(["--flow", "none"]);
    uart = await UartClient.open(sim.uart);
    await uart.expect("ready\r\n");
    await uart.command("ATE0");
    // 64 KiB at once: the pty hands it over in 4 KiB pieces, each more than the 1 KiB FIFO.
    await uart.write("AT\r\n".repeat(16384));
    const text = await uart.expect("+UART_OVERRUN\r\n\r\nERROR\r\n", 10000);
    assert.ok(text.startsWith("\r\nOK\r\n"), "the lines before the loss were answered");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(uart.pending.replace(/\r\nOK\r\n|\+UART_OVERRUN\r\n\r\nERROR\r\n/g, ""), "", "nothing but answers and reports");
    await uart.expect(/$/);
    assert.equal(await uart.command("AT"), "\r\nOK\r\n");
    await sim.waitLog(/sim: UART overrun: \d+ bytes lost/);
  });

  it("refuses a flow control it does not know, with exit code 2", async () => {
    const { code, log } = await runSim(["--flow", "xon"]);
    assert.equal(code, 2, log);
    assert.match(log, /option '--flow <control>' argument 'xon' is invalid\. Allowed choices are rtscts, none/);
  });
});
