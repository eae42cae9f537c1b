import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { AtConsole, decodeLatin1, HOLD_ROOM, MAX_LINE, OVERRUN_QUIET_MS, REPLIED, type Clock } from "../../src/at/console.ts";
import { basicCommands } from "../../src/at/basic.ts";
import type { Settings } from "../../src/at/settings.ts";

/** The basic commands, on a board and a flash that do nothing. */
function basics() {
  const board = { restart: () => true, freeHeap: () => 0, heapSize: 0, baud: 115200, defaultBaud: 115200, setBaud() {} };
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
  it("gives passthrough the bytes that come with the line that entered it", () => {
    const got: string[] = [];
    const { at, feed, take } = consoleWithOutput({
      "+PASS": { execute: (c: AtConsole) => (c.enterPassthrough((b) => got.push(Buffer.from(b).toString("latin1")), () => {}), REPLIED) },
    });
    at.echo = false;
    feed("AT+PASS\r\nhello\r\n");
    assert.deepEqual(got, ["hello\r\n"]);
    assert.equal(take(), "");
  });

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

/** A clock the test moves by hand. */
function manualClock() {
  let now = 0;
  const timers = new Set<{ at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    after(ms, fn) {
      const t = { at: now + ms, fn };
      timers.add(t);
      return () => void timers.delete(t);
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of [...timers].sort((a, b) => a.at - b.at)) {
      if (t.at > now) continue;
      timers.delete(t);
      t.fn();
    }
  };
  return { clock, advance };
}

describe("AT console after a UART overrun", () => {
  /** A console with SEND (a CIPSEND-like payload taker) on a clock the test moves. */
  function setup() {
    const { clock, advance } = manualClock();
    let out = "";
    const sent: string[] = [];
    const at = new AtConsole((bytes) => (out += Buffer.from(bytes).toString("latin1")), {
      ...basics(),
      "+SEND": {
        set: async (c: AtConsole, [n]: unknown[]): Promise<typeof REPLIED> => {
          c.ok();
          try {
            sent.push(Buffer.from(await c.receiveData(n as number)).toString("latin1"));
          } catch {
            c.send("\r\nSEND FAIL\r\n");
            return REPLIED;
          }
          c.send("\r\nSEND OK\r\n");
          return REPLIED;
        },
      },
    }, clock);
    at.echo = false;
    const feed = (text: string) => at.input(Buffer.from(text, "latin1"));
    const settle = async () => {
      for (let i = 0; i < 5; i++) await Promise.resolve();
    };
    return { at, feed, advance, sent, settle, take: () => [out, (out = "")][0] };
  }

  it("keeps the commands that came whole, drops input until the host is quiet, then reports the damaged line", () => {
    const { at, feed, advance, take } = setup();
    feed("AT\r\nAT+GM");
    at.overrun();
    assert.equal(take(), "\r\nOK\r\n", "the command before the loss ran");
    feed("R\r\nAT\r\n"); // the rest of what the host sent: dropped
    advance(OVERRUN_QUIET_MS - 1);
    feed("AT\r\n");
    advance(OVERRUN_QUIET_MS - 1);
    assert.equal(take(), "", "nothing while bytes keep coming");
    advance(1);
    assert.equal(take(), "+UART_OVERRUN\r\n\r\nERROR\r\n");
    feed("AT\r\n");
    assert.equal(take(), "\r\nOK\r\n", "then the console carries on");
  });

  it("sends a payload that was in before the loss, and answers SEND FAIL for one that was cut, sending none of it", async () => {
    const { at, feed, advance, sent, settle, take } = setup();
    feed("AT+SEND=4\r\n");
    feed("abcd");
    at.overrun();
    await settle();
    assert.deepEqual(sent, ["abcd"]);
    advance(OVERRUN_QUIET_MS);
    assert.equal(take(), "\r\nOK\r\n\r\n>\r\nSEND OK\r\n+UART_OVERRUN\r\n\r\nERROR\r\n");
    feed("AT+SEND=6\r\n");
    feed("xyz");
    at.unsolicited(Buffer.from("1,CLOSED\r\n"));
    at.overrun();
    feed("w"); // the tail of the payload after the loss
    advance(OVERRUN_QUIET_MS);
    await settle();
    assert.deepEqual(sent, ["abcd"], "nothing of the cut payload is sent");
    assert.equal(take(), "\r\nOK\r\n\r\n>1,CLOSED\r\n+UART_OVERRUN\r\n\r\nSEND FAIL\r\n");
    feed("AT+SEND=2\r\n");
    feed("ok");
    await settle();
    assert.deepEqual(sent, ["abcd", "ok"], "the next payload goes");
  });

  it("answers busy p... instead of ERROR while a command runs", async () => {
    let release!: () => void;
    const { clock, advance } = manualClock();
    let out = "";
    const at = new AtConsole((bytes) => (out += Buffer.from(bytes).toString("latin1")), { "+SLOW": { execute: () => new Promise<void>((r) => (release = r)) } }, clock);
    at.echo = false;
    at.input(Buffer.from("AT+SLOW\r\nAT+GM"));
    at.overrun();
    advance(OVERRUN_QUIET_MS);
    assert.equal(out, "+UART_OVERRUN\r\nbusy p...\r\n");
    release();
    for (let i = 0; i < 3; i++) await Promise.resolve();
    assert.equal(out, "+UART_OVERRUN\r\nbusy p...\r\n\r\nOK\r\n", "the running command still ends with its own reply");
  });

  it("reports a loss in passthrough once passthrough ends, keeping the link's data clean", () => {
    const { at, feed, advance, take } = setup();
    const got: string[] = [];
    let left = false;
    at.enterPassthrough((b) => got.push(Buffer.from(b).toString("latin1")), () => (left = true));
    feed("data1");
    at.overrun();
    feed("data2");
    assert.equal(take(), "");
    advance(100);
    feed("+++");
    advance(100);
    assert.equal(left, true);
    assert.deepEqual(got, ["data1", "data2"]);
    assert.equal(take(), "+UART_OVERRUN\r\n");
  });
});


describe("decodeLatin1", () => {
  it("gives one character a byte, for any length, from bytes or an array of them", () => {
    for (const length of [0, 1, 63, 64, 65, 257, 10000]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 7) & 0xff);
      const expected = Buffer.from(bytes).toString("latin1");
      assert.equal(decodeLatin1(bytes), expected, `${length} bytes`);
      assert.equal(decodeLatin1(Array.from(bytes)), expected, `${length} numbers`);
    }
  });
});
