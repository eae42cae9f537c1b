// `xsock sim --trace FILE`: the timeline, read back as a trace viewer reads it. Perfetto's
// trace_processor is neither on npm nor in Debian, and its Python package fetches its binary at
// run time: so the file is parsed as JSON and checked against the trace event format's rules
// (docs/simulator.md says so).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSim as startBoard } from "xsock/sim";
import { leavePassthrough, until, withConsole } from "../helpers/console.ts";
import { tcpPeer as peer } from "../helpers/peer.ts";
import { python } from "../helpers/python.ts";
import { runSim, startSim } from "../helpers/sim.ts";
import { JOIN, PEER_HOST } from "../helpers/target.ts";
import { UartClient } from "../helpers/uart.ts";

const dir = mkdtempSync(join(tmpdir(), "xsock-trace-"));
const FILE = join(dir, "run.json");
const STARTED = Date.now() * 1000;

interface TraceEvent {
  ph: string;
  name: string;
  ts: number;
  pid: number;
  tid: number;
  s?: string;
  args?: Record<string, unknown>;
}

/**
 * The events of a trace file, as Chrome's trace viewer reads one (its JSON importer): a JSON
 * array, or the {traceEvents} object; an array a killed run left without its `]` is closed first.
 */
function readTrace(file: string): TraceEvent[] {
  let text = readFileSync(file, "utf8").trimEnd();
  if (text.startsWith("[") && !text.endsWith("]")) text = `${text.replace(/,$/, "")}]`;
  const json = JSON.parse(text) as TraceEvent[] | { traceEvents: TraceEvent[] };
  return Array.isArray(json) ? json : json.traceEvents;
}

/**
 * The trace event format's rules the file keeps: each event has ph, name, ts, pid and tid; a
 * counter's args are numbers; an instant has its scope; B and E pair on each track, an E
 * closing the innermost B of the same name, no earlier than it. `closed`: a run that ended
 * leaves none open.
 */
function checkSchema(events: TraceEvent[], closed = true): void {
  const open = new Map<string, TraceEvent[]>();
  for (const [i, e] of events.entries()) {
    const at = `event ${i}: ${JSON.stringify(e)}`;
    assert.ok(["B", "E", "C", "i", "M"].includes(e.ph), `${at}: ph`);
    assert.equal(typeof e.name, "string", `${at}: name`);
    assert.ok(Number.isFinite(e.ts) && e.ts >= 0, `${at}: ts`);
    // Microseconds since the epoch, the pcapng capture's clock (a monotonic one, which may drift from Date's by a little): in this test's run.
    if (e.ph !== "M") assert.ok(e.ts >= STARTED - 60e6 && e.ts <= Date.now() * 1000 + 60e6, `${at}: ts not in this run`);
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), `${at}: pid, tid`);
    if (e.ph === "C") assert.ok(Object.values(e.args ?? {}).length && Object.values(e.args!).every((v) => Number.isFinite(v)), `${at}: a counter's values`);
    if (e.ph === "i") assert.ok(["g", "p", "t"].includes(e.s!), `${at}: an instant's scope`);
    if (e.ph === "M") assert.equal(typeof e.args?.name, "string", `${at}: a name`);
    const track = `${e.pid}/${e.tid}`;
    if (e.ph === "B") (open.get(track) ?? open.set(track, []).get(track)!).push(e);
    if (e.ph === "E") {
      const begun = open.get(track)?.pop();
      assert.ok(begun, `${at}: an E with no B open on its track`);
      assert.equal(e.name, begun.name, `${at}: the E of ${JSON.stringify(begun)}`);
      assert.ok(e.ts >= begun.ts, `${at}: ends before ${JSON.stringify(begun)}`);
    }
  }
  if (closed) for (const [track, left] of open) assert.deepEqual(left, [], `slices left open on ${track}`);
}

/** The track named `name` (by its thread_name). */
function trackOf(events: TraceEvent[], name: string | RegExp): number {
  const named = events.find((e) => e.ph === "M" && e.name === "thread_name" && (typeof name === "string" ? e.args!.name === name : name.test(e.args!.name as string)));
  assert.ok(named, `no track ${name}`);
  return named.tid;
}

/** The slices of a track, in order: name, and what its B and E say. */
function slices(events: TraceEvent[], tid: number): { name: string; begin?: Record<string, unknown>; end?: Record<string, unknown> }[] {
  const found: { name: string; begin?: Record<string, unknown>; end?: Record<string, unknown> }[] = [];
  const open: (typeof found)[number][] = [];
  for (const e of events.filter((e) => e.tid === tid)) {
    if (e.ph === "B") {
      const slice = { name: e.name, begin: e.args };
      found.push(slice);
      open.push(slice);
    } else if (e.ph === "E") open.pop()!.end = e.args;
  }
  return found;
}

const counters = (events: TraceEvent[], name: string) => events.filter((e) => e.ph === "C" && e.name === name).map((e) => e.args as Record<string, number>);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
/** The AT commands' slices: the command, and its final reply. */
const commands = (events: TraceEvent[]) => slices(events, trackOf(events, "AT commands")).map((s) => [s.name, s.end?.reply]);

describe("xsock sim --trace", function () {
  this.timeout(60000);
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("with the console", function () {
    const session = withConsole({ sim: { trace: FILE } });

    // TCP-IP AT Commands: AT+CIPSEND's example (send data in the normal transmission mode), and +IPD.
    it("AT+CIPSEND=<length>: its slice from its line to SEND OK; the link's track with its bytes; the UART's bytes per 10 ms; the heap", async () => {
      const { uart } = session;
      const p = await peer();
      assert.equal(await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${p.port}`), "CONNECT\r\n\r\nOK\r\n");
      await uart.write("AT+CIPSEND=5\r\n");
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      await uart.write("hello");
      assert.equal(await uart.expect("SEND OK\r\n"), "\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n");
      await until(() => p.conns.length === 1, "the connection");
      p.conns[0].write("world!");
      assert.equal(await uart.expect("+IPD,6:world!"), "\r\n+IPD,6:world!");
      assert.equal(await uart.command("AT+CIPCLOSE"), "CLOSED\r\n\r\nOK\r\n");
      p.server.close();
      const out = session.sim!.uart.text;
      await session.sim!.stop();

      const events = readTrace(FILE);
      checkSchema(events);
      assert.deepEqual(commands(events), [
        ["ATE0", "OK"],
        ["AT+CWJAP", "OK"],
        ["AT+CIFSR", "OK"],
        ["AT+CIPSTART", "OK"],
        ["AT+CIPSEND", "SEND OK"],
        ["AT+CIPCLOSE", "OK"],
      ]);
      const link = trackOf(events, new RegExp(`^socket \\d+: tcp to ${PEER_HOST}:${p.port}$`));
      const [opened] = slices(events, link);
      assert.deepEqual(opened.end, { in: 6, out: 5 });
      const name = /^socket \d+/.exec(events.find((e) => e.ph === "M" && e.tid === link)!.args!.name as string)![0];
      assert.deepEqual(counters(events, `${name} bytes`).at(-1), { in: 6, out: 5 });
      const uartBytes = counters(events, "UART bytes per 10 ms");
      const sent = `ATE0\r\n${JOIN}\r\nAT+CIFSR\r\nAT+CIPSTART="TCP","${PEER_HOST}",${p.port}\r\nAT+CIPSEND=5\r\nhelloAT+CIPCLOSE\r\n`;
      assert.equal(sum(uartBytes.map((c) => c.in)), sent.length);
      assert.equal(sum(uartBytes.map((c) => c.out)), out.length);
      const heap = counters(events, "XS heap (slots)");
      const computrons = counters(events, "computrons per delivery");
      assert.ok(heap.length > 10 && heap.every((c) => c.slots > 0), JSON.stringify(heap.slice(0, 3)));
      assert.equal(computrons.length, heap.length);
      assert.ok(computrons.every((c) => c.computrons > 0));
      assert.deepEqual(slices(events, trackOf(events, "Wi-Fi")).map((s) => s.name).slice(0, 2), ["connected", "got ip"]);
    });

    // TCP-IP AT Commands: AT+CIPMODE's and AT+CIPSEND's passthrough (Wi-Fi passthrough mode), ended by +++.
    it("AT+CIPMODE=1 passthrough: AT+CIPSEND's slice ends at its prompt, a passthrough slice at +++", async () => {
      const { uart } = session;
      const p = await peer();
      assert.equal(await uart.command("AT+CIPMODE=1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${p.port}`), "CONNECT\r\n\r\nOK\r\n");
      await uart.write("AT+CIPSEND\r\n");
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      // Lines in passthrough are data, not commands.
      await uart.write("AT+GMR\r\nOK\r\n");
      await until(() => p.heard().length === 12, "the data at the peer");
      await leavePassthrough(uart);
      assert.equal(await uart.command("AT+CIPCLOSE"), "CLOSED\r\n\r\nOK\r\n");
      p.server.close();
      await session.sim!.stop();

      const events = readTrace(FILE);
      checkSchema(events);
      assert.deepEqual(commands(events).slice(3), [
        ["AT+CIPMODE", "OK"],
        ["AT+CIPSTART", "OK"],
        ["AT+CIPSEND", "OK"],
        ["passthrough", undefined],
        ["AT+CIPCLOSE", "OK"],
      ]);
    });

    // Basic AT Commands' AT; the simulator's link-drop fault and Wi-Fi AT Commands' WIFI DISCONNECT.
    it("a link-drop: the fault an instant, the Wi-Fi track disconnected", async () => {
      session.sim!.fault("link-drop", 100);
      await session.uart.expect("WIFI DISCONNECT\r\n", 10000);
      await session.sim!.stop();
      const events = readTrace(FILE);
      checkSchema(events);
      const faults = events.filter((e) => e.ph === "i" && e.tid === trackOf(events, "faults and events"));
      assert.deepEqual(
        faults.map((e) => [e.name, e.args]),
        [
          ["boot", { event: "boot", boot: 1 }],
          ["fault link-drop", { ms: 100 }],
        ],
      );
      assert.deepEqual(
        slices(events, trackOf(events, "Wi-Fi")).map((s) => s.name),
        ["connected", "got ip", "disconnected"],
      );
    });
  });

  // An Ethernet board's console (docs/console.md): its port's lease at boot, +ETH_GOT_IP.
  it("an Ethernet board: the Ethernet track's link and address", async () => {
    const board = await startBoard({ board: "esp32/wt32_eth01", trace: FILE });
    try {
      await board.uart.expect("+ETH_GOT_IP:127.0.0.1\r\n", { timeout: 15000 });
    } finally {
      await board.stop();
    }
    const events = readTrace(FILE);
    checkSchema(events);
    assert.deepEqual(
      slices(events, trackOf(events, "Ethernet")).map((s) => s.name),
      ["connected", "got ip"],
    );
  });

  // The console's CAN commands (docs/console.md): AT+CANCFG, AT+CANSEND, +CANRX; and the fault can-bus-off.
  it("CAN: the frames on the bus, and the controller's states through a bus-off", async () => {
    const board = await startBoard({ trace: FILE });
    try {
      await board.uart.expect("ready\r\n", { timeout: 15000 });
      board.uart.write("AT+CANCFG=500000\r\n");
      await board.uart.expect("OK\r\n");
      board.can.send({ arbitration_id: 0x123, is_extended_id: false, data: [0xde, 0xad] });
      assert.equal(await board.uart.expect("+CANRX:123,2,DEAD\r\n"), "+CANRX:123,2,DEAD\r\n");
      board.uart.write("AT+CANSEND=1ABCDEF0,C0FFEE\r\n");
      await board.can.expect({ arbitration_id: 0x1abcdef0 });
      board.fault("can-bus-off");
      await board.waitLog(/fault can-bus-off/);
    } finally {
      await board.stop();
    }
    const events = readTrace(FILE);
    checkSchema(events);
    const frames = events.filter((e) => e.ph === "i" && e.tid === trackOf(events, "CAN bus"));
    assert.deepEqual(
      frames.map((e) => [e.name, e.args]),
      [
        ["0x123", { id: 0x123, extended: false, fd: false, dlc: 2, data: "dead" }],
        ["0x1abcdef0", { id: 0x1abcdef0, extended: true, fd: false, dlc: 3, data: "c0ffee" }],
      ],
    );
    const states = slices(events, trackOf(events, "CAN controller")).map((s) => s.name);
    assert.deepEqual(states.slice(0, 2), ["running", "bus-off"]);
    assert.deepEqual(commands(events), [
      ["AT+CANCFG", "OK"],
      ["AT+CANSEND", "OK"],
    ]);
  });

  // An MCP2515 module's controller (test/fixtures/boards/nodemcu-mcp2515.json, the CAN echo app): its modes and a bus-off.
  it("CAN on an MCP2515: the controller's modes and its bus-off", async () => {
    const board = await startBoard({ board: "test/fixtures/boards/nodemcu-mcp2515.json", app: "test/fixtures/can-echo", trace: FILE });
    try {
      await board.waitLog(/echo: ready/, { timeout: 20000 });
      board.fault("can-bus-off");
      await board.waitLog(/fault can-bus-off/);
    } finally {
      await board.stop();
    }
    const events = readTrace(FILE);
    checkSchema(events);
    const states = slices(events, trackOf(events, "CAN controller")).map((s) => s.name);
    // Normal, then bus-off; the chip comes back by itself after 128 x 11 recessive bits, unless
    // the run stopped first (the board is stopped at the fault's log line).
    const off = states.lastIndexOf("bus-off");
    assert.ok(off > 0 && states[off - 1] === "normal", JSON.stringify(states));
    assert.ok(states.slice(off + 1).every((s) => s === "normal"), JSON.stringify(states));
    assert.ok(states.includes("configuration"), JSON.stringify(states));
  });

  // A run that is killed leaves a file the viewers open: the array without its closing bracket.
  it("a simulator killed with SIGKILL leaves a trace that parses, up to its last event", async () => {
    const file = join(dir, "killed.json");
    const sim = await startSim(["--trace", file]);
    const uart = await UartClient.open(sim.uart);
    try {
      await uart.expect("ready\r\n", 30000);
      assert.equal(await uart.command("AT"), "AT\r\n\r\nOK\r\n");
      // The file is read while the run goes on: the command's end is in it before the run ends.
      await until(() => readFileSync(file, "utf8").includes('"ph":"E","name":"AT"'), "the AT command's end in the file", 10000);
    } finally {
      sim.proc.kill("SIGKILL");
      await sim.exited;
      await uart.close();
    }
    assert.doesNotMatch(readFileSync(file, "utf8"), /\]\s*$/);
    const events = readTrace(file);
    checkSchema(events, false);
    assert.deepEqual(commands(events), [["AT", "OK"]]);
  });

  // docs/ci.md: a failing scenario's JUnit report attaches its pcap and trace to the failed test case.
  it("a failing scenario's JUnit test case names its pcap and trace as [[ATTACHMENT|path]]", async () => {
    const scenario = join(dir, "failing.yaml");
    const junit = join(dir, "results.xml");
    writeFileSync(
      scenario,
      "name: failing\npcap: failing.pcapng\ntrace: failing.json\nsteps:\n  - wait-serial: 'ready\\r\\n'\n  - write-serial: 'AT\\r\\n'\n  - wait-serial: { text: 'no such reply', timeout: 300ms }\n",
    );
    const { code, log } = await runSim(["--scenario", scenario, "--junit", junit]);
    assert.equal(code, 1, log);
    const cases = JSON.parse(
      await python(
        `
import json, sys, xml.etree.ElementTree as ET
print(json.dumps([[c.get('name'), c.find('failure') is not None, c.findtext('system-out')] for c in ET.parse(sys.argv[1]).getroot().iter('testcase')]))
`,
        [junit],
      ).done,
    ) as [string, boolean, string | null][];
    const pcap = join(dir, "failing.pcapng");
    const trace = join(dir, "failing.json");
    assert.deepEqual(cases, [
      ["1. wait-serial \"ready\\r\\n\"", false, null],
      ['2. write-serial "AT\\r\\n"', false, null],
      ['3. wait-serial "no such reply"', true, `[[ATTACHMENT|${pcap}]]\n[[ATTACHMENT|${trace}]]`],
    ]);
    assert.ok(existsSync(pcap));
    const events = readTrace(trace);
    checkSchema(events);
    assert.deepEqual(commands(events), [["AT", "OK"]]);
  });
});
