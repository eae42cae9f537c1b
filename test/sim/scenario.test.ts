// `xsock sim --scenario`, run as a CI job runs it: every step, each way a run fails, and the JUnit report.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, runAddress } from "../helpers/ports.ts";
import { python } from "../helpers/python.ts";
import { ROOT, runSim } from "../helpers/sim.ts";

/** Wokwi's exit code for a timeout, which xsock sim keeps. */
const TIMEOUT_EXIT = 42;
const SCENARIOS = "test/fixtures/scenarios";
/**
 * The board's address for apps whose ports are fixed (the CI example's 7000 and 7001, the chat
 * server's 5000), as their scenarios name them: this run's own, so that another run's board on
 * the same ports does not meet it.
 */
const BOARD_IP = runAddress();
/** --timeout for the run that outlasts it: it starts with the process, and the board has said ready well before, even on a loaded machine. */
const TIMEOUT_MS = 8000;

/** The report's shape, read by Python's own XML parser: suites, cases, failures, skips. */
async function junitShape(file: string): Promise<unknown> {
  const out = await python(`
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = []
for s in root.iter('testsuite'):
    cases = []
    for c in s.iter('testcase'):
        f = c.find('failure')
        cases.append({'name': c.get('name'), 'time': float(c.get('time')) >= 0,
                      'failure': f.get('message') if f is not None else None,
                      'skipped': c.find('skipped') is not None})
    suites.append({'name': s.get('name'), 'tests': int(s.get('tests')), 'failures': int(s.get('failures')),
                   'skipped': int(s.get('skipped')), 'out': s.findtext('system-out'), 'cases': cases})
print(json.dumps({'root': root.tag, 'suites': suites}))
`, [file]).done;
  return JSON.parse(out);
}

describe("xsock sim --scenario", function () {
  this.timeout(45000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "xsock-scenario-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("runs the CI example's serial, TCP, UDP and delay steps, and writes a JUnit report", async () => {
    // The example as a user's copy has it: xsock in its node_modules (here, linked to this checkout).
    const app = join(dir, "Ci-Demo");
    cpSync(join(ROOT, "examples/ci"), app, { recursive: true });
    mkdirSync(join(app, "node_modules"));
    symlinkSync(ROOT, join(app, "node_modules/xsock"));
    const junit = join(dir, "results.xml");
    const { code, log } = await runSim([app, "--scenario", join(app, "scenario.yaml"), "--junit", junit, "--ip", BOARD_IP], 30000);
    assert.equal(code, 0, log);
    assert.match(log, /scenario "ci-demo" passed: 14 of 14 steps passed/);
    const report = (await junitShape(junit)) as { root: string; suites: { name: string; tests: number; failures: number; out: string; cases: { name: string; failure: null }[] }[] };
    assert.equal(report.root, "testsuites");
    assert.equal(report.suites.length, 1);
    const [suite] = report.suites;
    assert.deepEqual([suite.name, suite.tests, suite.failures], ["ci-demo", 14, 0]);
    assert.deepEqual(suite.cases.slice(0, 4).map((c) => c.name), ["1. boots", '2. write-serial "ping\\r\\n"', '3. wait-serial "pong\\r\\n"', "4. answers TCP in upper case"]);
    assert.ok(suite.cases.every((c) => c.failure === null));
    assert.match(suite.out, /ci-demo ready: tcp 7000, udp 7001\r?\npong/);
  });

  it("runs fault, UDP-port and byte steps against the modem: a link drop closes the link, and the station joins again", async () => {
    // The file's fixed ports, swapped for ones the OS picks: the board's server, and the UDP link's two ends.
    const [server, peerUdp, boardUdp] = [await freePort(), await freePort(["127.0.0.1"], ["udp"]), await freePort(["127.0.0.1"], ["udp"])];
    const scenario = join(dir, "modem-network.yaml");
    writeFileSync(
      scenario,
      readFileSync(`${SCENARIOS}/modem-network.yaml`, "utf8").replace(/\b27311\b/g, String(server)).replace(/\b27312\b/g, String(peerUdp)).replace(/\b27313\b/g, String(boardUdp)),
    );
    const { code, log } = await runSim(["--scenario", scenario], 30000);
    assert.equal(code, 0, log);
    assert.match(log, /ok 28\. loses the link for 1\.5 s/);
    assert.match(log, /ok 30\. wait-serial "0,CLOSED\\r\\n"/);
    assert.match(log, /scenario "modem network" passed: 32 of 32 steps passed/);
  });

  it("injects --fault dhcp-fail: the join times out with +CWJAP:1", async () => {
    const { code, log } = await runSim(["--scenario", `${SCENARIOS}/join-fails.yaml`, "--fault", "dhcp-fail"]);
    assert.equal(code, 0, log);
    assert.match(log, /sim: fault dhcp-fail\n/);
  });

  it("injects --fault link-drop@2s+1s: WIFI DISCONNECT on time, then the station joins again", async () => {
    const { code, log } = await runSim(["--scenario", `${SCENARIOS}/dropped.yaml`, "--fault", "link-drop@2s+1s"], 30000);
    assert.equal(code, 0, log);
    assert.match(log, /sim: fault link-drop for 1000 ms\n/);
    const [, ms] = /ok 7\. wait-serial "WIFI CONNECTED\\r\\nWIFI GOT IP\\r\\n" \((\d+) ms\)/.exec(log) ?? [];
    assert.ok(Number(ms) >= 900, `the AP came back after ${ms} ms: it was out of reach for 1 s`);
  });

  it("fails on text that never comes: exit 1, the step, what it wanted and what came, the rest skipped", async () => {
    const junit = join(dir, "results.xml");
    const { code, log } = await runSim(["--scenario", `${SCENARIOS}/wrong-text.yaml`, "--junit", junit]);
    assert.equal(code, 1, log);
    assert.match(log, /FAILED 2\. expects what never comes \(\d+ ms\)\n {2}no "no such reply" in the UART within 300 ms; it sent nothing \(more\)/);
    assert.match(log, /skipped 3\. write-serial "AT\\r\\n"/);
    assert.match(log, /the UART's last lines:\n {2}\n {2}ready\n/);
    const report = (await junitShape(junit)) as { suites: { failures: number; skipped: number; cases: { failure: string | null; skipped: boolean }[] }[] };
    const [suite] = report.suites;
    assert.deepEqual([suite.failures, suite.skipped], [1, 1]);
    assert.deepEqual(suite.cases.map((c) => [c.failure === null ? null : c.failure.slice(0, 22), c.skipped]), [[null, false], ['no "no such reply" in ', false], [null, true]]);
  });

  it(`exits ${TIMEOUT_EXIT} when the scenario outlasts --timeout`, async () => {
    const { code, log } = await runSim(["--scenario", `${SCENARIOS}/slow.yaml`, "--timeout", String(TIMEOUT_MS)], TIMEOUT_MS + 15000);
    assert.equal(code, TIMEOUT_EXIT, log);
    assert.match(log, new RegExp(`FAILED 2\\. delay "20s" \\(\\d+ ms\\)\\n {2}timeout: the scenario has not ended within ${TIMEOUT_MS} ms`));
  });

  it(`exits ${TIMEOUT_EXIT} when --timeout ends the run before the board has started`, async () => {
    const { code, log } = await runSim(["--scenario", `${SCENARIOS}/slow.yaml`, "--timeout", "1"], 20000);
    assert.equal(code, TIMEOUT_EXIT, log);
    assert.match(log, /timeout: the scenario has not ended within 1 ms/);
    assert.match(log, /skipped 2\. delay "20s"/);
  });

  it("fails when the firmware throws, with its stack", async () => {
    const { code, log } = await runSim(["test/fixtures/crash", "how=timer", "--scenario", `${SCENARIOS}/crash.yaml`]);
    assert.equal(code, 1, log);
    assert.match(log, /FAILED 1\. wait-serial "never printed" \(\d+ ms\)\n {2}the board stopped \(exit code 1\):\n {2}firmware: uncaught exception: Error: kaboom in a timer\n {4}at explode \(test\/fixtures\/crash\/main\.ts:6\)/);
  });

  it("refuses a bad scenario file with exit 2, naming each step and field", async () => {
    const { code, log } = await runSim(["--scenario", `${SCENARIOS}/bad.yaml`]);
    assert.equal(code, 2, log);
    assert.equal(
      log.split("\n").slice(0, 5).join("\n"),
      [
        `xsock sim: bad scenario ${SCENARIOS}/bad.yaml:`,
        `  step 2 ("two actions"): a step has exactly one action (write-serial and delay); the actions are wait-serial, wait-serial-regex, write-serial, delay, tcp-connect, tcp-send, tcp-expect, tcp-close, udp-send, udp-expect, can-send, can-expect, fault`,
        `  step 3: unknown action "i2c-write"; the actions are wait-serial, wait-serial-regex, write-serial, delay, tcp-connect, tcp-send, tcp-expect, tcp-close, udp-send, udp-expect, can-send, can-expect, fault`,
        `  step 4: tcp-connect.port: must be <= 65535`,
        `  step 5: wait-serial.timeout: must be a duration: 100ms, 2s or a number of milliseconds`,
      ].join("\n"),
    );
  });

  it("refuses --junit without --scenario, and a missing scenario file, with exit 2", async () => {
    const junit = await runSim(["--junit", join(dir, "r.xml")]);
    assert.equal(junit.code, 2);
    assert.match(junit.log, /--junit reports a --scenario run: give one/);
    const missing = await runSim(["--scenario", join(dir, "nosuch.yaml")]);
    assert.equal(missing.code, 2);
    assert.match(missing.log, /bad scenario .*nosuch\.yaml: ENOENT/);
  });

  it("leaves the firmware's trace() lines out with --quiet, keeping the step results", async () => {
    const scenario = join(dir, "quiet.yaml");
    writeFileSync(scenario, "name: quiet\nsteps:\n  - tcp-connect: 5000\n  - delay: 200ms\n");
    const loud = await runSim(["examples/chat-server", "--scenario", scenario, "--ip", BOARD_IP], 30000);
    assert.equal(loud.code, 0, loud.log);
    assert.match(loud.log, /Chat server started on port 5000\n[^]*Client \(127\.0\.0\.1, \d+\) connected/);
    const quiet = await runSim(["examples/chat-server", "--scenario", scenario, "--quiet", "--ip", BOARD_IP], 30000);
    assert.equal(quiet.code, 0, quiet.log);
    assert.doesNotMatch(quiet.log, /Chat server started|Client \(/);
    assert.match(quiet.log, /ok 1\. tcp-connect 5000[^]*scenario "quiet" passed: 2 of 2 steps passed/);
  });
});
