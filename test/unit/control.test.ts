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

  it("never throws on any line, and injects only on OK (fuzz)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom("fault ", "fault link-drop", "status", "help").chain((p) => fc.string({ maxLength: 20 }).map((s) => p + s))), (line) => {
        const board = recorder();
        const reply = runControlLine(board, line);
        const last = reply.at(-1)!;
        assert.ok(last === "OK" || /^ERROR \S/.test(last), last);
        assert.ok(reply.every((l) => !/[\r\n]/.test(l)), "one line each");
        if (last !== "OK") assert.equal(board.faults.length, 0);
      }),
      { numRuns: runs(2000) },
    );
  });
});
