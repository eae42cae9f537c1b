import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { AtConsole, HOLD_ROOM, MAX_LINE } from "../../src/at/console.ts";
import { basicCommands } from "../../src/at/basic.ts";
import type { Settings } from "../../src/at/settings.ts";

/** The basic commands, on a board and a flash that do nothing. */
function basics() {
  const board = { restart() {}, freeHeap: () => 0, baud: 115200, defaultBaud: 115200, setBaud() {} };
  const flash = { store: true, get: <T>(_key: string, fallback: T) => fallback, save() {}, keep() {}, clear() {} } as unknown as Settings;
  const table = {};
  return Object.assign(table, basicCommands({ chip: "ESP32", board: "esp32/nodemcu" }, board, flash, table));
}

function consoleWithOutput(extra = {}) {
  let out = "";
  const at = new AtConsole((bytes) => (out += Buffer.from(bytes).toString("latin1")), { ...basics(), ...extra });
  const feed = (text: string) => at.input(Buffer.from(text, "latin1"));
  return { at, feed, take: () => [out, (out = "")][0] };
}

describe("AT console", () => {
  it("runs a command whose line arrives a byte at a time", () => {
    const { feed, take } = consoleWithOutput();
    for (const c of "AT\r\n") feed(c);
    assert.equal(take(), "AT\r\n\r\nOK\r\n");
  });

  it("takes a 256-byte line and refuses a 257-byte one, keeping what follows", () => {
    let seen = "";
    const { at, feed, take } = consoleWithOutput({ "+LONG": { set: (_: AtConsole, p: unknown[]) => void (seen = String(p[0])) } });
    at.echo = false;
    const fits = `AT+LONG="${"x".repeat(MAX_LINE - 10)}"`;
    assert.equal(fits.length, MAX_LINE);
    feed(`${fits}\r\n`);
    assert.equal(take(), "\r\nOK\r\n");
    assert.equal(seen.length, MAX_LINE - 10);
    feed(`${fits}x\r\nAT\r\n`);
    assert.equal(take(), "\r\nERROR\r\n\r\nOK\r\n");
  });

  it("answers busy p... while a command is in flight, then its result", async () => {
    let release!: () => void;
    const { at, feed, take } = consoleWithOutput({ "+SLOW": { execute: () => new Promise<void>((r) => (release = r)) } });
    at.echo = false;
    feed("AT+SLOW\r\nAT\r\n");
    assert.equal(take(), "busy p...\r\n");
    release();
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(take(), "\r\nOK\r\n");
  });

  it("answers ERROR when a handler throws, and keeps running", () => {
    const { feed, take } = consoleWithOutput({ "+BOOM": { execute: () => { throw new Error("x"); } } });
    feed("AT+BOOM\r\nAT\r\n");
    assert.equal(take(), "AT+BOOM\r\n\r\nERROR\r\nAT\r\n\r\nOK\r\n");
  });

  it("answers every line with exactly one OK or ERROR, whatever the bytes (fuzz)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary-ascii", maxLength: 400 }).map((s) => s.replace(/[\r\n]/g, "")), { maxLength: 8 }), (lines) => {
        const { at, feed, take } = consoleWithOutput();
        at.echo = false;
        feed(lines.map((l) => `${l}\r\n`).join(""));
        const replies = take().match(/\r\n(OK|ERROR)\r\n/g) ?? [];
        assert.equal(replies.length, lines.filter((l) => l.length > 0).length);
      }),
      { numRuns: runs(2000) },
    );
  });
});

describe("AT console raw data (CIPSEND)", () => {
  it("takes exactly the payload's bytes, any value, and holds unsolicited lines until it is in", async () => {
    let payload: Uint8Array | undefined;
    const { at, feed, take } = consoleWithOutput({
      "+SEND": {
        set: async (c: AtConsole, [n]: unknown[]) => {
          c.ok();
          payload = await c.receiveData(n as number);
        },
      },
    });
    at.echo = false;
    feed("AT+SEND=6\r\n");
    assert.equal(take(), "\r\nOK\r\n\r\n>");
    feed("AT\r\n");
    at.unsolicited(Buffer.from("\r\n+IPD,2:hi"));
    assert.equal(take(), "", "nothing lands between > and the payload");
    // The payload ends inside this chunk: what follows it is a command, and the send is still busy.
    feed("\x00\xffAT\r\n");
    assert.equal(take(), "\r\n+IPD,2:hibusy p...\r\n");
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(Buffer.from(payload!).toString("latin1"), "AT\r\n\x00\xff");
    assert.equal(take(), "\r\nOK\r\n");
  });

  it("makes producers of unsolicited output wait while a payload holds it back, and lets them go once it is in", async () => {
    const { at, feed, take } = consoleWithOutput({
      "+SEND": {
        set: async (c: AtConsole, [n]: unknown[]) => {
          c.ok();
          await c.receiveData(n as number);
        },
      },
    });
    at.echo = false;
    let released = false;
    await at.whenRoom(); // nothing held: at once
    feed("AT+SEND=4\r\n");
    take();
    const frame = Buffer.alloc(HOLD_ROOM, 0x41);
    at.unsolicited(frame);
    const waiting = at.whenRoom().then(() => (released = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(released, false, "a producer waits while HOLD_ROOM bytes are held");
    assert.equal(take(), "");
    feed("data");
    await waiting;
    assert.equal(take(), `${frame.toString("latin1")}\r\nOK\r\n`, "the held output goes out with the payload's end");
  });
});
