// Units behind esp-at's documented behaviour (issue 20's differences): bytes past a CIPSEND
// payload, and AT+RFPOWER's ranges by chip.
import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { AtConsole, REPLIED } from "../../src/at/console.ts";
import { basicCommands, rfPowerRange } from "../../src/at/basic.ts";
import type { Settings } from "../../src/at/settings.ts";

const flash = { store: true, get: <T>(_key: string, fallback: T) => fallback, save() {}, keep() {}, clear() {} } as unknown as Settings;
const board = { restart: () => true, freeHeap: () => 0, heapSize: 0, baud: 115200, defaultBaud: 115200, setBaud() {} };

/** A console with SEND, a CIPSEND that takes its payload and answers as the console's does. */
function sender() {
  let out = "";
  const sent: string[] = [];
  const table = {};
  const at = new AtConsole((bytes) => (out += Buffer.from(bytes).toString("latin1")), Object.assign(table, basicCommands({ chip: "ESP32", board: "esp32/nodemcu" }, board, flash, table), {
    "+SEND": {
      set: async (c: AtConsole, [n]: unknown[]): Promise<typeof REPLIED> => {
        c.ok();
        const data = await c.receiveData(n as number);
        c.send(`\r\nRecv ${data.length} bytes\r\n`);
        sent.push(Buffer.from(data).toString("latin1"));
        await new Promise((r) => setImmediate(r)); // the socket's send
        c.send("\r\nSEND OK\r\n");
        return REPLIED;
      },
    },
  }));
  at.echo = false;
  const feed = (bytes: string) => at.input(Buffer.from(bytes, "latin1"));
  /** Waits out SEND's socket send, so that its SEND OK is in. */
  const sendDone = async () => {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  };
  return { feed, sent, sendDone, take: () => [out, (out = "")][0] };
}

describe("bytes past a CIPSEND payload (esp-at's TCP-IP examples)", () => {
  it("answers busy p... for the surplus, sends the first n bytes, then SEND OK", async () => {
    const { feed, sent, sendDone, take } = sender();
    feed("AT+SEND=4\r\n");
    assert.equal(take(), "\r\nOK\r\n\r\n>");
    feed("testXY");
    await sendDone();
    assert.equal(take(), "busy p...\r\n\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
    assert.deepEqual(sent, ["test"]);
    feed("AT\r\n");
    assert.equal(take(), "\r\nOK\r\n", "the surplus is not the start of the next line");
  });

  it("takes bytes that come with the command line, before its > prompt, as its payload (ESP-AT keeps them)", async () => {
    const { feed, sent, sendDone, take } = sender();
    feed("AT+SEND=4\r\ntestXY");
    await sendDone();
    assert.equal(take(), "\r\nOK\r\n\r\n>busy p...\r\n\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
    assert.deepEqual(sent, ["test"]);
    feed("AT\r\n");
    assert.equal(take(), "\r\nOK\r\n", "the surplus is not the start of the next line");
  });

  it("for any payload, however it is split and whether its first part comes with the command line: the payload whole", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 0, max: 64 }), async (payload, split) => {
        const { feed, sent, sendDone, take } = sender();
        const text = Buffer.from(payload).toString("latin1");
        const cut = Math.min(split, text.length);
        feed(`AT+SEND=${text.length}\r\n${text.slice(0, cut)}`);
        if (cut < text.length) feed(text.slice(cut));
        await sendDone();
        assert.equal(take(), `\r\nOK\r\n\r\n>\r\nRecv ${text.length} bytes\r\n\r\nSEND OK\r\n`);
        assert.deepEqual(sent, [text]);
      }),
      { numRuns: runs(300) },
    );
  });

  it("for any payload and any surplus in the payload's last read: one busy p..., the payload whole, and the next line runs", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.integer({ min: 0, max: 64 }), async (payload, surplus, split) => {
        const { feed, sent, sendDone, take } = sender();
        const text = Buffer.from(payload).toString("latin1");
        const cut = Math.min(split, text.length - 1);
        feed(`AT+SEND=${text.length}\r\n`);
        take();
        feed(text.slice(0, cut)); // the payload in two reads, the surplus with the second
        feed(text.slice(cut) + Buffer.from(surplus).toString("latin1"));
        await sendDone();
        const busy = surplus.length ? "busy p...\r\n" : "";
        assert.equal(take(), `${busy}\r\nRecv ${text.length} bytes\r\n\r\nSEND OK\r\n`);
        assert.deepEqual(sent, [text]);
        feed("AT\r\n");
        assert.equal(take(), "\r\nOK\r\n");
      }),
      { numRuns: runs(300) },
    );
  });
});

describe("AT+RFPOWER's ranges by chip (esp-at's Basic AT Commands)", () => {
  const esp32Levels = [34, 44, 52, 56, 60, 66, 72, 78];

  it("the ESP32 reads back the doc's table: [40,43] 34, [44,51] 44, [52,55] 52, ... [78,84] 78; BLE 0 to 7", () => {
    const { wifi, ble } = rfPowerRange("ESP32");
    const table: [number, number, number][] = [[40, 43, 34], [44, 51, 44], [52, 55, 52], [56, 59, 56], [60, 65, 60], [66, 71, 66], [72, 77, 72], [78, 84, 78]];
    for (const [from, to, got] of table) for (let set = from; set <= to; set++) assert.equal(wifi(set), got, `set ${set}`);
    assert.deepEqual(ble.slice(0, 2), [0, 7]);
  });

  it("for any value set, the ESP32 reports one of its levels, no higher than the value, and never lower for a higher value", () => {
    const { wifi } = rfPowerRange("ESP32");
    fc.assert(
      fc.property(fc.integer({ min: 40, max: 84 }), fc.integer({ min: 40, max: 84 }), (a, b) => {
        assert.ok(esp32Levels.includes(wifi(a)));
        assert.ok(wifi(a) <= a);
        if (a <= b) assert.ok(wifi(a) <= wifi(b));
      }),
      { numRuns: runs(500) },
    );
  });

  it("other chips report the value as set, BLE 0 to 15", () => {
    const { wifi, ble } = rfPowerRange("ESP32-S3");
    fc.assert(fc.property(fc.integer({ min: 40, max: 84 }), (set) => assert.equal(wifi(set), set)), { numRuns: runs(100) });
    assert.deepEqual(ble.slice(0, 2), [0, 15]);
  });

  it("AT+RFPOWER= takes only the chip's ranges, whatever the parameters", () => {
    const table = {};
    let out = "";
    const at = new AtConsole((bytes) => (out += Buffer.from(bytes).toString("latin1")), Object.assign(table, basicCommands({ chip: "ESP32", board: "esp32/nodemcu" }, board, flash, table)));
    at.echo = false;
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -5, max: 100 }), fc.constant("")), { minLength: 1, maxLength: 5 }), (params) => {
        out = "";
        at.input(Buffer.from(`AT+RFPOWER=${params.join(",")}\r\n`, "latin1"));
        const [wifi, ...ble] = params;
        const fine = params.length <= 4 && typeof wifi === "number" && wifi >= 40 && wifi <= 84 && ble.every((p) => p === "" || (typeof p === "number" && p >= 0 && p <= 7));
        assert.equal(out, fine ? "\r\nOK\r\n" : "\r\nERROR\r\n", params.join(","));
        out = "";
        at.input(Buffer.from("AT+RFPOWER?\r\n", "latin1"));
        const [level, ...bles] = /^\+RFPOWER:(\d+),(\d+),(\d+),(\d+)\r\n/.exec(out)!.slice(1).map(Number);
        assert.ok(esp32Levels.includes(level));
        assert.ok(bles.every((p) => p >= 0 && p <= 7));
      }),
      { numRuns: runs(500) },
    );
  });
});
