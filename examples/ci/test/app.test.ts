// The ci-demo app, tested with the xsock/sim API: a board per test, driven over its UART and its sockets.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { startSim, type SimBoard } from "xsock/sim";

const APP = fileURLToPath(new URL("..", import.meta.url));

describe("ci-demo", () => {
  let board: SimBoard;

  beforeEach(async () => {
    board = await startSim({ app: APP });
    await board.uart.expect("ci-demo ready: tcp 7000, udp 7001\r\n");
  });
  afterEach(() => board.stop());

  it("answers ping on its console, and refuses what it does not know", async () => {
    board.uart.write("ping\r\n");
    assert.equal(await board.uart.expect(/\r\n/), "pong\r\n");
    board.uart.write("reboot\r\n");
    assert.equal(await board.uart.expect(/\r\n/), 'error: unknown command "reboot"\r\n');
  });

  it("answers each TCP line in upper case, and counts its clients", async () => {
    const client = connect(7000, board.ip);
    client.setEncoding("latin1");
    const reply = new Promise<string>((resolve) => client.once("data", resolve));
    client.write("hello, board\n");
    assert.equal(await reply, "HELLO, BOARD\n");
    board.uart.write("clients\r\n");
    await board.uart.expect("clients: 1\r\n");
    client.end();
    await new Promise((resolve) => client.once("close", resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    board.uart.write("clients\r\n");
    await board.uart.expect("clients: 0\r\n");
  });

  it("holds a steady heap across connections", async () => {
    const before = (await board.collect()).slots;
    for (let i = 0; i < 20; i++) {
      const client = connect(7000, board.ip).resume();
      await new Promise((resolve) => client.once("connect", resolve));
      client.end("x\n");
      await new Promise((resolve) => client.once("close", resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = (await board.collect()).slots;
    assert.ok(after - before < 200, `the heap grew from ${before} to ${after} slots`);
  });
});
