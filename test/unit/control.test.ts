// The control socket's address (loopback only) and its command lines.
import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { parseControlAddress, runControlLine } from "../../host-sim/control.ts";
import type { FaultKind } from "../../host-sim/faults.ts";

/** A board that records the faults it is given, and keeps a SoftAP of two stations at most. */
function recorder() {
  const faults: [FaultKind, number | undefined][] = [];
  const stations: string[] = [];
  return {
    faults,
    stations,
    fault: (kind: FaultKind, forMs?: number) => void faults.push([kind, forMs]),
    status: () => ["board esp32/nodemcu", "faults none"],
    stationJoin: (mac: string) => {
      if (stations.length >= 2) throw new Error("the SoftAP is full: 2 stations at most");
      stations.push(mac);
      return `192.168.4.${stations.length + 1}`;
    },
    stationLeave: (mac: string) => {
      const i = stations.indexOf(mac);
      if (i < 0) throw new Error(`${mac} is not on the SoftAP`);
      stations.splice(i, 1);
    },
  };
}

describe("control socket", () => {
  it("listens on loopback addresses only, 127.0.0.1 unless told", () => {
    assert.deepEqual(parseControlAddress("7100"), { host: "127.0.0.1", port: 7100 });
    assert.deepEqual(parseControlAddress("0"), { host: "127.0.0.1", port: 0 });
    assert.deepEqual(parseControlAddress("127.0.0.2:7100"), { host: "127.0.0.2", port: 7100 });
    assert.deepEqual(parseControlAddress("localhost:7100"), { host: "127.0.0.1", port: 7100 });
    assert.deepEqual(parseControlAddress("[::1]:7100"), { host: "::1", port: 7100 });
    assert.deepEqual(parseControlAddress("[0:0:0:0:0:0:0:1]:7100"), { host: "0:0:0:0:0:0:0:1", port: 7100 });
    for (const spec of ["0.0.0.0:7100", "192.168.1.20:7100", "10.0.0.1:1", "[::]:7100", "[fe80::1]:7100", "[2001:db8::1]:7100", "example.com:7100", ":7100"])
      assert.throws(() => parseControlAddress(spec), /--control listens on loopback only/, spec);
    for (const spec of ["", "70000", "::1:7100", "127.0.0.1", "127.0.0.1:", "[::1]", "x:y"]) assert.throws(() => parseControlAddress(spec), /bad --control/, spec);
  });

  it("runs fault, status and help, and answers ERROR <reason> to anything else", () => {
    const board = recorder();
    assert.deepEqual(runControlLine(board, "fault link-drop +2s"), ["OK"]);
    assert.deepEqual(runControlLine(board, "  fault   link-drop+500ms "), ["OK"]);
    assert.deepEqual(runControlLine(board, "fault dhcp-fail"), ["OK"]);
    assert.deepEqual(runControlLine(board, "fault dhcp-fail +0"), ["OK"]);
    assert.deepEqual(board.faults, [["link-drop", 2000], ["link-drop", 500], ["dhcp-fail", undefined], ["dhcp-fail", 0]]);
    assert.deepEqual(runControlLine(board, "status"), ["board esp32/nodemcu", "faults none", "OK"]);
    assert.equal(runControlLine(board, "help").at(-1), "OK");
    assert.deepEqual(runControlLine(board, "fault"), ["ERROR fault needs a kind: the faults are link-drop, dhcp-fail, can-bus-off (fault link-drop +2s)"]);
    assert.deepEqual(runControlLine(board, "fault link-drop@5s"), ["ERROR a fault from the control socket starts now: leave out @WHEN"]);
    assert.deepEqual(runControlLine(board, "fault link-drop 2s"), ['ERROR bad length "2s": use fault link-drop [+FOR], FOR such as 2s or 500ms']);
    assert.deepEqual(runControlLine(board, "status now"), ["ERROR status takes no arguments"]);
    assert.deepEqual(runControlLine(board, "AT+RST"), ['ERROR unknown command "AT+RST": the commands are fault, station, status, help, quit']);
    assert.equal(board.faults.length, 4, "no ERROR injected anything");
  });

  it("makes phones join and leave the SoftAP with station join|leave MAC, and refuses what the board refuses", () => {
    const board = recorder();
    assert.deepEqual(runControlLine(board, "station join aa:bb:cc:dd:ee:01"), ["ip 192.168.4.2", "OK"]);
    assert.deepEqual(runControlLine(board, "STATION JOIN AA:BB:CC:DD:EE:02"), ["ip 192.168.4.3", "OK"]);
    assert.deepEqual(runControlLine(board, "station join aa:bb:cc:dd:ee:03"), ["ERROR the SoftAP is full: 2 stations at most"]);
    assert.deepEqual(runControlLine(board, "station leave aa:bb:cc:dd:ee:01"), ["OK"]);
    assert.deepEqual(runControlLine(board, "station leave aa:bb:cc:dd:ee:01"), ["ERROR aa:bb:cc:dd:ee:01 is not on the SoftAP"]);
    assert.deepEqual(board.stations, ["AA:BB:CC:DD:EE:02"]);
    const usage = "use station join MAC or station leave MAC (MAC as aa:bb:cc:dd:ee:ff)";
    assert.deepEqual(runControlLine(board, "station"), [`ERROR station needs join or leave: ${usage}`]);
    assert.deepEqual(runControlLine(board, "station kick aa:bb:cc:dd:ee:02"), [`ERROR no station command "kick": ${usage}`]);
    assert.deepEqual(runControlLine(board, "station join"), [`ERROR station join takes one MAC: ${usage}`]);
    assert.deepEqual(runControlLine(board, "station join aa:bb:cc:dd:ee:04 aa:bb:cc:dd:ee:05"), [`ERROR station join takes one MAC: ${usage}`]);
    assert.deepEqual(runControlLine(board, "station join aa:bb:cc:dd:ee"), [`ERROR bad MAC "aa:bb:cc:dd:ee": ${usage}`]);
    assert.deepEqual(runControlLine(board, "station join gg:bb:cc:dd:ee:01"), [`ERROR bad MAC "gg:bb:cc:dd:ee:01": ${usage}`]);
    assert.deepEqual(board.stations, ["AA:BB:CC:DD:EE:02"], "no ERROR changed the SoftAP");
  });

  it("never throws on any line, and injects or moves stations only on OK (fuzz)", () => {
    const mac = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, "0")).join(":"));
    const prefixes = fc.constantFrom("fault ", "fault link-drop", "status", "help", "station ", "station join ", "station leave ");
    const line = fc.oneof(
      fc.string({ maxLength: 80 }),
      prefixes.chain((p) => fc.string({ maxLength: 20 }).map((s) => p + s)),
      fc.tuple(fc.constantFrom("station join ", "station leave ", "station  JOIN "), mac, fc.constantFrom("", " ", " x")).map((parts) => parts.join("")),
    );
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), (lines) => {
        const board = recorder();
        for (const text of lines) {
          const before = [...board.stations];
          const faults = board.faults.length;
          const reply = runControlLine(board, text);
          const last = reply.at(-1)!;
          assert.ok(last === "OK" || /^ERROR \S/.test(last), last);
          assert.ok(reply.every((l) => !/[\r\n]/.test(l)), "one line each");
          if (last !== "OK") assert.deepEqual(board.stations, before, "an ERROR moved no station");
          if (last !== "OK") assert.equal(board.faults.length, faults, "an ERROR injected nothing");
        }
      }),
      { numRuns: runs(2000) },
    );
  });
});
