// Fuzzes the whole command table over the pty: whatever line comes, the console answers it
// and then still answers AT+GMR. Lines are built from the names AT+CMD? lists, in every form,
// with numbers in and out of range, quoted strings with escapes, empty fields and raw bytes.
import assert from "node:assert/strict";
import fc from "fast-check";
import { withConsole } from "../helpers/console.ts";

/**
 * Left out: ATE0, as the probe that shows the console serves is known by its echo; and commands
 * that restart, change the baud, open links, wait on DNS, hand the UART to SLCAN, sleep (GSLP)
 * or filter the replies away (SYSMSGFILTER), which have their own tests.
 */
const SKIP = new Set(["ATE0", "AT+RST", "AT+RESTORE", "AT+GSLP", "AT+SYSMSGFILTER", "AT+SYSMSGFILTERCFG", "AT+UART_CUR", "AT+UART_DEF", "AT+CIPSTART", "AT+CIPSTARTEX", "AT+CIPSERVER", "AT+CIPDOMAIN", "AT+PING", "AT+CANSLCAN"]);

const param = fc.oneof(
  fc.integer({ min: -70000, max: 70000 }).map(String),
  fc.constantFrom("0", "1", "5", "8192", "8193", "0x1f", "", "127.0.0.1", "500000", "7FF", "800", "12345678", "DEADBEEF", "C00007FF"),
  fc.string({ unit: fc.constantFrom("a", "Z", "0", ",", '"', "\\", " ", ":", "é"), maxLength: 40 }).map((s) => `"${s}"`),
  fc.string({ unit: fc.constantFrom("a", ",", '"', "\\", "="), maxLength: 10 }), // unbalanced quoting
);

describe("console fuzz over the command table", function () {
  this.timeout(60000);
  const session = withConsole();

  it("answers every generated line and keeps serving", async () => {
    const { uart } = session;
    assert.match(await uart.command("ATE1"), /\r\nOK\r\n$/);
    const names = [...(await uart.command("AT+CMD?")).matchAll(/\+CMD:\d+,"(AT[^"]*)"/g)].map((m) => m[1]).filter((n) => !SKIP.has(n));
    assert.ok(names.length >= 30, `AT+CMD? lists ${names.length} commands`);
    const line = fc.oneof(
      fc.tuple(fc.constantFrom(...names), fc.constantFrom("", "?", "=?"), fc.constant([] as string[])),
      fc.tuple(fc.constantFrom(...names), fc.constant("="), fc.array(param, { maxLength: 7 })),
    );
    const bytes = fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b.filter((x) => x !== 0x0a)));
    const input = fc.oneof(
      { weight: 4, arbitrary: line.map(([name, form, params]) => Buffer.from(`${name}${form}${params.join(",")}`, "latin1")) },
      { weight: 1, arbitrary: bytes },
    );

    // A line no command has, AT+ALIVE<n>, until it is not busy: its echo, then its ERROR, show the
    // console serving, and its number tells its reply from a late one. A line that took a `>`
    // prompt (HTTPURLCFG, HTTPCHEAD, SYSMFG, USEROTA, MQTTLONG*) gets the most any of them takes,
    // 8 KiB, then its final reply; ESP-AT drops the bytes past the payload, or they start the
    // next probe's line (too long: ERROR).
    let probes = 0;
    const alive = async () => {
      for (let tries = 0; tries < 100; tries++) {
        const n = ++probes;
        await uart.write(`AT+ALIVE${n}\r\n`);
        const reply = await uart.expect(new RegExp(`AT\\+ALIVE${n}\r\n(?:ERR CODE:[^\r]*\r\n)?(?:\r\nERROR\r\n|busy p\\.\\.\\.\r\n)|OK\r\n\r\n>`), 5000);
        if (reply.endsWith(">")) {
          await uart.write(Buffer.alloc(8192, "x"));
          await uart.expect(/\r\n(?:SET OK|OK|ERROR)\r\n/, 5000);
        } else if (!reply.endsWith("busy p...\r\n")) return;
        else await new Promise((r) => setTimeout(r, 20));
      }
      assert.fail("the console stayed busy");
    };

    await fc.assert(
      fc.asyncProperty(input, async (text) => {
        await uart.write(Buffer.concat([text, Buffer.from("\r\n")]));
        await alive();
      }),
      { numRuns: 300 },
    );
    const left = uart.pending;
    assert.match(await uart.command("AT"), /\r\nOK\r\n$/, `left: ${JSON.stringify(left)}`);
  });

  // XS keeps every string used as a property name; the console must not look an unknown name up.
  it("answers 4,000 different unknown command names ERROR, and its heap does not fill", async () => {
    const { uart } = session;
    const BATCH = 100;
    for (let n = 0; n < 4000; n += BATCH) {
      const lines = Array.from({ length: BATCH }, (_, i) => `AT+NOSUCH${n + i}\r\n`).join("");
      await uart.write(lines);
      for (let i = 0; i < BATCH; i++) await uart.expect("\r\nERROR\r\n", 10000);
    }
    assert.match(await uart.command("AT+GMR"), /Bin version:[^\r]*\r\n\r\nOK\r\n$/);
    assert.doesNotMatch(session.sim?.log ?? "", /memory full/);
  });
});
