// The ci-demo app on xsock/sim, with Node's own test runner (node --test): a board per test,
// driven over its UART and its sockets. The app takes the ports the system picks (port 0) and
// says which in its ready line, so this suite runs beside any other on the same machine.
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { afterEach, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startSim } from "xsock/sim";

const APP = fileURLToPath(new URL("..", import.meta.url));

describe("ci-demo", () => {
  let board;
  let tcpPort;

  beforeEach(async () => {
    board = await startSim({ app: APP, config: { port: 0, udpPort: 0 } });
    const ready = await board.uart.expect(/ci-demo ready: tcp (\d+), udp \d+\r\n/);
    tcpPort = Number(/tcp (\d+)/.exec(ready)[1]);
  });
  afterEach(() => board.stop());

  /** Asks the console for its TCP clients until it counts `want`: a close reaches the app after the client sees it. */
  async function clientsAre(want) {
    let line;
    for (let asked = 0; asked < 1000; asked++) {
      board.uart.write("clients\r\n");
      line = await board.uart.expect(/clients: \d+\r\n/);
      if (line === `clients: ${want}\r\n`) return;
    }
    assert.fail(`the app still says ${JSON.stringify(line)}`);
  }

  it("answers ping on its console, and refuses what it does not know", async () => {
    board.uart.write("ping\r\n");
    assert.equal(await board.uart.expect(/\r\n/), "pong\r\n");
    board.uart.write("reboot\r\n");
    assert.equal(await board.uart.expect(/\r\n/), 'error: unknown command "reboot"\r\n');
  });

  it("answers each TCP line in upper case, and counts its clients", async () => {
    const client = connect(tcpPort, board.ip);
    client.setEncoding("latin1");
    client.write("hello, board\n");
    const [reply] = await once(client, "data");
    assert.equal(reply, "HELLO, BOARD\n");
    await clientsAre(1);
    client.end();
    await once(client, "close");
    await clientsAre(0);
  });

  it("holds a steady heap across connections", async () => {
    const before = (await board.collect()).slots;
    for (let i = 0; i < 20; i++) {
      const client = connect(tcpPort, board.ip).resume();
      await once(client, "connect");
      client.end("x\n");
      await once(client, "close");
    }
    await clientsAre(0);
    const after = (await board.collect()).slots;
    assert.ok(after - before < 200, `the heap grew from ${before} to ${after} slots`);
  });
});
