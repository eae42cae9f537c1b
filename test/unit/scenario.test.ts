// Scenario files: the checks on them, their text escapes, fault specs and the JUnit report.
import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { parseFault, parseDuration } from "../../host-sim/faults.ts";
import { junitReport } from "../../host-sim/junit.ts";
import { checkScenario, type Step } from "../../host-sim/scenario.ts";
import { scenarioBytes, stepTitle } from "../../host-sim/scenario-run.ts";

const problems = (data: unknown) => {
  try {
    checkScenario(data, "s.yaml");
    return [];
  } catch (e) {
    return (e as Error).message.split("\n").slice(1).map((l) => l.trim());
  }
};

describe("scenario files", () => {
  it("accepts every step in its short and its long form", () => {
    const steps: Step[] = [
      { "wait-serial": "ready" },
      { "wait-serial": { text: "ready", timeout: "2s" } },
      { "wait-serial-regex": { text: "\\+IPD,\\d+", timeout: 500 } },
      { "write-serial": "AT\\r\\n" },
      { "write-serial": [65, 84, 13, 10] },
      { delay: "1.5s" },
      { "tcp-connect": 80 },
      { "tcp-connect": { port: 80, host: "127.0.0.2", as: "web", timeout: "1s" } },
      { "tcp-send": "GET /\\n" },
      { "tcp-send": { data: [1, 2], on: "web" } },
      { "tcp-expect": { text: "200", on: "web", timeout: 100 } },
      { "tcp-close": null },
      { "tcp-close": "web" },
      { "udp-send": { port: 7, data: "x", from: 9000, host: "127.0.0.1" } },
      { "udp-expect": { text: "x", on: 9000 } },
      { "can-send": { arbitration_id: 0x123, is_extended_id: false, data: "01 02 ff" } },
      { "can-send": { arbitration_id: 0x1abcdef0, is_remote_frame: true, dlc: 4 } },
      { "can-expect": { arbitration_id: 0x124, data: [1, 2, 255], timeout: "2s" } },
      { "can-expect": {} },
      { fault: "can-bus-off" },
      { fault: "link-drop" },
      { fault: { kind: "dhcp-fail", for: "3s" }, name: "no DHCP" },
    ];
    assert.deepEqual(problems({ name: "all", steps }), []);
    assert.equal(stepTitle(steps[3]), 'write-serial "AT\\r\\n"');
    assert.equal(stepTitle(steps[15]), 'can-send 0x123 "01 02 ff"');
    assert.equal(stepTitle(steps[21]), "no DHCP");
  });

  it("names the field of each mistake", () => {
    assert.deepEqual(problems({ steps: [] }), ['the scenario: missing field "name"', "steps: must NOT have fewer than 1 items"]);
    assert.deepEqual(problems({ name: "x", steps: [{ fault: "power-cut" }], extra: 1 }), ['the scenario: unknown field "extra"', "step 1: fault: must be one of link-drop, dhcp-fail, can-bus-off"]);
    assert.deepEqual(problems({ name: "x", steps: [{ "udp-send": { port: 7 } }, { name: "only a name" }] }), [
      'step 1: udp-send: missing field "data"',
      'step 2 ("only a name"): a step has exactly one action (none found); the actions are wait-serial, wait-serial-regex, write-serial, delay, tcp-connect, tcp-send, tcp-expect, tcp-close, udp-send, udp-expect, can-send, can-expect, fault',
    ]);
    assert.deepEqual(problems({ name: "x", steps: [{ "can-send": { id: 0x123 } }, { "can-send": { arbitration_id: 1, data: "0x1" } }, { "can-expect": { dlc: 65 } }] }), [
      'step 1: can-send: unknown field "id"',
      'step 2: can-send.data: must be hex bytes ("01 02 ff") or a list of byte values',
      "step 3: can-expect.dlc: must be <= 64",
    ]);
    assert.deepEqual(problems({ name: "x", steps: [{ delay: "soon" }, { "write-serial": [256] }] }), ["step 1: delay: must be a duration: 100ms, 2s or a number of milliseconds", "step 2: write-serial.0: must be <= 255"]);
  });

  it("never throws anything but its own error, whatever the data", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.jsonValue(), { maxLength: 4 }), (top, steps) => {
        for (const data of [top, { name: "x", steps }]) {
          try {
            checkScenario(data, "s.yaml");
          } catch (e) {
            assert.match((e as Error).message, /^bad scenario s\.yaml:\n {2}\S/);
          }
        }
      }),
      { numRuns: runs(2000) },
    );
  });

  it("turns escapes into bytes, and the rest of the text into UTF-8", () => {
    assert.deepEqual([...scenarioBytes("a\\r\\n\\t\\0\\\\\\x7f\\xFFé")], [0x61, 13, 10, 9, 0, 0x5c, 0x7f, 0xff, 0xc3, 0xa9]);
    assert.deepEqual([...scenarioBytes("\\q\\x4")], [...Buffer.from("\\q\\x4")]);
    assert.deepEqual([...scenarioBytes([0, 255])], [0, 255]);
    fc.assert(fc.property(fc.string().filter((s) => !s.includes("\\")), (s) => scenarioBytes(s).equals(Buffer.from(s, "utf8"))));
  });
});

describe("fault specs", () => {
  it("reads kind, time and length", () => {
    assert.deepEqual(parseFault("link-drop@5s+2s"), { kind: "link-drop", at: 5000, for: 2000 });
    assert.deepEqual(parseFault("link-drop"), { kind: "link-drop", at: undefined, for: undefined });
    assert.deepEqual(parseFault("dhcp-fail@250ms"), { kind: "dhcp-fail", at: 250, for: undefined });
    assert.equal(parseDuration("1.5s"), 1500);
    assert.equal(parseDuration(40), 40);
    for (const bad of ["power-cut", "link-drop@", "link-drop@5m", "link-drop+2s+3s"]) assert.throws(() => parseFault(bad), /bad fault/);
  });
});

describe("the JUnit report", () => {
  it("escapes what XML cannot hold as it is", () => {
    const report = junitReport(
      { name: 'a <"b">', passed: false, ms: 1234, steps: [{ index: 1, title: "x & y", action: "wait-serial", status: "failed", ms: 5, error: "saw \x07\r\n" }] },
      { timestamp: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), output: "ok\x00" },
    );
    assert.match(report, /<testsuite name="a &lt;&quot;b&quot;&gt;" tests="1" failures="1" errors="0" skipped="0" time="1\.234" timestamp="2026-01-02T03:04:05">/);
    assert.match(report, /<testcase classname="a &lt;&quot;b&quot;&gt;" name="1\. x &amp; y" time="0\.005">\n {6}<failure message="saw \\x07\r" type="wait-serial">saw \\x07\r\n<\/failure>/);
    assert.match(report, /<system-out>ok\\x00<\/system-out>/);
  });
});
