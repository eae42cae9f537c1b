// The UART's TCP line holds what the board sent before a client connected: a client that reads
// gets it, a client that writes first does not (as on a board whose output from before the host
// opened the port is gone).
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { openUartLine, type UartLine } from "../../host-sim/uart-line.ts";

const dial = (line: UartLine): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = connect(Number(line.path.slice(4)), "127.0.0.1", () => resolve(s));
    s.on("error", reject);
  });

/** Everything the socket receives, and a wait for text in it. */
function reader(s: Socket): { text: () => string; until: (end: string) => Promise<string> } {
  let text = "";
  const waiters = new Set<() => void>();
  s.on("data", (d: Buffer) => {
    text += d.toString("latin1");
    for (const w of [...waiters]) w();
  });
  return {
    text: () => text,
    until: (end) =>
      new Promise((resolve) => {
        const check = () => {
          if (!text.endsWith(end)) return;
          waiters.delete(check);
          resolve(text);
        };
        waiters.add(check);
        check();
      }),
  };
}

describe("the UART's TCP line, before and after a client connects", () => {
  let line: UartLine | undefined;
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
    line?.close();
    line = undefined;
  });

  const open = async () => {
    line = await openUartLine("tcp:0", () => {});
    line.write(Buffer.from("\r\nready\r\n"));
    return line;
  };

  it("gives a client that connects and reads what was sent before", async () => {
    const l = await open();
    const s = await dial(l);
    sockets.push(s);
    assert.equal(await reader(s).until("ready\r\n"), "\r\nready\r\n");
  });

  it("drops it for a client that writes at once, and sends it the replies to what it wrote", async () => {
    const l = await open();
    l.onData((bytes) => {
      assert.equal(Buffer.from(bytes).toString(), "AT+RST\r\n");
      l.write(Buffer.from("\r\nOK\r\n"));
    });
    const s = await dial(l);
    sockets.push(s);
    const got = reader(s);
    s.write("AT+RST\r\n");
    assert.equal(await got.until("OK\r\n"), "\r\nOK\r\n");
  });

  it("keeps it for the next client when one leaves before it went out", async () => {
    const l = await open();
    const first = await dial(l);
    const closed = new Promise((resolve) => first.on("close", resolve));
    first.end();
    await closed;
    // The line may not have seen the first client go yet: it then answers busy, and closes.
    for (;;) {
      const s = await dial(l);
      sockets.push(s);
      const got = reader(s);
      const text = await Promise.race([got.until("ready\r\n"), new Promise<string>((resolve) => s.on("close", () => resolve(got.text())))]);
      if (text.startsWith("uart busy")) continue;
      assert.equal(text, "\r\nready\r\n");
      break;
    }
  });
});
