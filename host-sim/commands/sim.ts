// `xsock sim`: the firmware on XS, its UART on this terminal, a pty or a TCP port.
import { InvalidArgumentError, Option, type Command } from "commander";
import { writeFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { DEFAULT_BOARD } from "../board.ts";
import { parseCanTransport, type CanTransportSpec } from "../devices/can-udp.ts";
import { FLOW_CONTROLS, type FlowControl } from "../devices/serial.ts";
import { parseAccessPoint, type AccessPoint } from "../devices/wifi.ts";
import { parseControlAddress, type ControlAddress } from "../control.ts";
import { parseFault, type FaultSpec } from "../faults.ts";
import type { SimEvent } from "../host.ts";
import type { Scenario } from "../scenario.ts";
import type { StepResult } from "../scenario-run.ts";
import type { UartLink } from "../uart-link.ts";
import { parseUartSpec, type UartSpec } from "../uart-line.ts";
import { UartWatch } from "../watch.ts";
import { appFolder, asArgument, baudRate, collect, collectParsed, conventions, hostIpv4Address, UserError, type OutputOptions } from "./common.ts";

/** Exit code for --timeout, as Wokwi's CLI uses. */
export const TIMEOUT_EXIT = 42;

function milliseconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("a number of milliseconds > 0");
  return n;
}

const stepLine = (r: StepResult) =>
  `xsock sim: ${r.status === "passed" ? "ok" : r.status === "failed" ? "FAILED" : "skipped"} ${r.index}. ${r.title}${r.status === "skipped" ? "" : ` (${r.ms} ms)`}${r.error ? `\n  ${r.error.replaceAll("\n", "\n  ")}` : ""}\n`;

/** `key=value` pairs, as mcconfig takes them; numbers and booleans keep their type. */
export function parseConfigPairs(pairs: string[]): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z_][\w.]*)=(.*)$/s.exec(pair);
    if (!m) throw new Error(`bad config "${pair}": use key=value`);
    const value = m[2];
    config[m[1]] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value === "true" ? true : value === "false" ? false : value;
  }
  return config;
}

/** `xsock sim --json`'s lines: the simulator's events, the UART's place, and the exit. */
export type SimJsonEvent = SimEvent | { event: "uart"; path: string; link?: string } | ({ event: "control" } & ControlAddress) | { event: "exit"; code: number };

interface SimCliOptions extends OutputOptions {
  board: string;
  uart: UartSpec;
  uartLink?: string;
  raw?: boolean;
  json?: boolean;
  baud?: number;
  flow: FlowControl;
  ap?: AccessPoint[];
  ip?: string;
  expectText?: string[];
  failText?: string[];
  timeout?: number;
  scenario?: string;
  junit?: string;
  fault?: FaultSpec[];
  can?: CanTransportSpec;
  control?: ControlAddress;
  pcap?: string;
  trace?: string;
}

/** The firmware's trace() lines go with --quiet; the simulator's and XS's errors stay. */
/** A capture's path as a JUnit attachment names it: relative to the working directory (GitLab's project, Jenkins' workspace) when it is under it. */
function attachmentPath(path: string): string {
  const under = relative(process.cwd(), resolve(path));
  return under && !under.startsWith("..") && !isAbsolute(under) ? under : resolve(path);
}

const keptWhenQuiet = (line: string) => /^(firmware|xs): |^ {2}/.test(line);

export function registerSim(program: Command): void {
  const command = program
    .command("sim")
    .description("run the firmware on XS, with its UART on this terminal, a pty or a TCP port")
    .argument("[APP_DIR]", "a folder with a manifest.json (default: the ESP-AT modem)")
    .argument("[config...]", "config overrides as mcconfig takes them, key=value, read by the app from mc/config")
    .option("--board <id>", "board id, a Moddable target name", DEFAULT_BOARD)
    .addOption(new Option("--uart <where>", "stdio, pty or tcp:PORT (pty when --uart-link or --json is given)").default("stdio").argParser(asArgument(parseUartSpec)))
    .option("--raw", "with the UART on this terminal: bytes as typed (Enter as CR-LF), no line editing or history")
    .option("--uart-link <path>", "a symlink to the pty, made at start (replacing one a former run left) and removed at exit")
    .option("--json", "print events on stdout, one JSON object a line: uart, boot, wifi, exit")
    .option("--baud <n>", "pace the UART at this line rate, 8N1 (default: unpaced)", baudRate)
    .addOption(new Option("--flow <control>", "rtscts: the UART's writer waits while the board's receive buffer is full; none: bytes past its FIFO are lost (an overrun)").choices(FLOW_CONTROLS).default("rtscts"))
    .option("--ip <addr>", "the board's address, an IPv4 address of the host's (default 127.0.0.1): its sockets bind to it", hostIpv4Address)
    .option("--ap <ssid[:password]>", "a simulated access point; repeatable (default: one open AP named xsock-sim)", collectParsed(parseAccessPoint))
    .option("--expect-text <text>", "exit 0 once this text appears on the UART; repeatable", collect)
    .option("--fail-text <text>", "exit 1 if this text appears on the UART; repeatable", collect)
    .option("--timeout <ms>", `exit ${TIMEOUT_EXIT} if no expected text has appeared (or the scenario has not ended) by then`, milliseconds)
    .option("--scenario <file.yaml>", "run a scenario's steps against the board (the UART is the scenario's), then exit 0 or 1")
    .option("--junit <file.xml>", "with --scenario, write a JUnit XML report of its steps")
    .option("--fault <kind[@when][+for]>", "inject a fault: link-drop, dhcp-fail, can-bus-off (link-drop@5s+2s); repeatable", collectParsed(parseFault))
    .option("--pcap <file>", "write a pcapng capture of the run as it goes: the network, the CAN bus, the UART, faults and Wi-Fi events (tshark, Wireshark)")
    .option("--trace <file>", "write a timeline of the run as it goes, in the Chrome trace event format: AT commands, sockets, UART, XS heap, Wi-Fi, CAN (ui.perfetto.dev)")
    .option("--control <[host:]port>", "a control socket on loopback (127.0.0.1 by default; port 0 picks one): line commands fault, status, help", asArgument(parseControlAddress))
    .addOption(
      new Option("--can <transport>", "share the CAN bus with python-can: udp-multicast[:GROUP] or udp-multicast:[GROUP]:PORT (default: the bus is in-process only)").argParser(
        asArgument(parseCanTransport),
      ),
    );
  conventions(
    command,
    [
      "xsock sim                                   # the console on this terminal: type AT, Enter",
      "xsock sim --uart-link /tmp/esp32 &          # then: xsock console /tmp/esp32",
      "xsock sim --uart tcp:0 --expect-text ready --timeout 10000",
      "xsock sim --uart-link /tmp/esp32 --control 7100 &   # then: echo 'fault link-drop +2s' | nc -N 127.0.0.1 7100",
      "xsock sim examples/ci --scenario examples/ci/scenario.yaml --junit results.xml --timeout 30000",
      "xsock sim examples/tcp-echo-client host=localhost port=50007",
      "xsock sim --can udp-multicast --fault can-bus-off@3s   # python-can: can.Bus(interface='udp_multicast')",
      "xsock sim --uart-link /tmp/esp32 --pcap run.pcapng &   # then: tshark -r run.pcapng",
      "xsock sim --trace run.json   # then open run.json in ui.perfetto.dev",
    ],
    "log every XS delivery with its computrons and heap",
  ).action(async (appArg: string | undefined, pairs: string[], opts: SimCliOptions, cmd: Command) => {
    const explicitUart = cmd.getOptionValueSource("uart") !== "default";
    if (!explicitUart && (opts.uartLink || opts.json)) opts.uart = "pty";
    if (opts.uartLink && opts.uart !== "pty") throw new UserError("--uart-link needs the UART on a pty (--uart pty)", 2);
    if (opts.json && opts.uart === "stdio") throw new UserError("--json prints on stdout, where --uart stdio puts the UART: use --uart pty or tcp:PORT", 2);
    if (opts.scenario && (opts.json || opts.uartLink)) throw new UserError("--scenario has the UART (its output goes to stdout): drop --json and --uart-link", 2);
    const emit = (event: SimJsonEvent) => opts.json && process.stdout.write(`${JSON.stringify(event)}\n`);

    let sim: { stop(code?: number): Promise<number>; readonly stopped: Promise<number> } | undefined;
    let link: UartLink | undefined;
    let interrupted = false;
    /** The run's end, decided by --expect-text, --fail-text or --timeout: the code once the simulator has stopped. */
    let verdict: number | undefined;
    const stop = () => {
      interrupted = true;
      void sim?.stop(0);
    };
    const watch = opts.expectText || opts.failText || opts.timeout || opts.scenario ? new UartWatch(opts.expectText ?? [], opts.failText ?? []) : undefined;
    const lastLines = () => watch!.lastLines().map((l) => `  ${l}\n`).join("");
    /** Ends a scenario run early, with why (a timeout, a fail text). */
    const abort = new AbortController();
    const end = (code: number, why: string) => {
      if (verdict !== undefined) return;
      verdict = code;
      abort.abort(new Error(why));
      if (code) process.stderr.write(`xsock sim: ${why}; the UART's last lines:\n${lastLines()}`);
      else process.stderr.write(`xsock sim: ${why}\n`);
      void sim?.stop(code);
    };
    const timer = opts.timeout ? setTimeout(() => end(TIMEOUT_EXIT, `timeout: ${opts.scenario ? "the scenario has not ended" : "no expected text"} within ${opts.timeout} ms`), opts.timeout) : undefined;
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    const onOutput =
      watch &&
      ((bytes: Uint8Array) => {
        const seen = watch.feed(bytes);
        if (seen) end(seen.pass ? 0 : 1, `${seen.pass ? "expected" : "fail"} text seen: ${JSON.stringify(seen.text)}`);
      });
    let scenario: Scenario | undefined;
    try {
      // The simulator loads only for a run: `xsock --help` and usage errors stay quick.
      const [{ startSim }, { junitReport }, { loadScenario }, { runScenario }, { Simulator }, { linkUart }] = await Promise.all([
        import("../api.ts"),
        import("../junit.ts"),
        import("../scenario.ts"),
        import("../scenario-run.ts"),
        import("../simulator.ts"),
        import("../uart-link.ts"),
      ]);
      if (opts.junit && !opts.scenario) throw new Error("--junit reports a --scenario run: give one");
      if (opts.scenario) scenario = loadScenario(opts.scenario);
      const app = appArg?.includes("=") ? undefined : appArg;
      const config = parseConfigPairs(app === appArg ? pairs : [appArg!, ...pairs]);
      // A scenario's own pcap and trace are relative to its file.
      const pcap = opts.pcap ?? (scenario?.pcap && resolve(dirname(opts.scenario!), scenario.pcap));
      const trace = opts.trace ?? (scenario?.trace && resolve(dirname(opts.scenario!), scenario.trace));
      const boardOptions = { app: appFolder(app), config, board: opts.board, baud: opts.baud, flow: opts.flow, aps: opts.ap, ip: opts.ip, faults: opts.fault, control: opts.control, can: opts.can, verbose: opts.verbose, pcap, trace };
      const log = (line: string) => void ((!opts.quiet || keptWhenQuiet(line)) && process.stderr.write(`${line}\n`));
      const controlAt = (address?: ControlAddress) => {
        if (!address) return;
        if (opts.json) emit({ event: "control", ...address });
        else process[scenario || opts.uart === "stdio" ? "stderr" : "stdout"].write(`control listening on ${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}\n`);
      };
      if (scenario) {
        // The scenario has the UART: its output goes to stdout, for the CI log.
        const board = await startSim({
          ...boardOptions,
          log,
          onOutput: (bytes) => {
            process.stdout.write(bytes);
            onOutput!(bytes);
          },
        });
        sim = board;
        // A --timeout or a signal that came while the board started ends the run now.
        if (interrupted || verdict !== undefined) void board.stop();
        controlAt(board.control);
        const timestamp = new Date();
        const result = await runScenario(scenario, board, { onStep: (r) => process.stderr.write(stepLine(r)), signal: abort.signal });
        const attachments = [pcap, trace].filter((path) => path !== undefined).map(attachmentPath);
        if (opts.junit) writeFileSync(opts.junit, junitReport(result, { timestamp, output: board.uart.text, log: board.log, attachments }));
        end(result.passed ? 0 : 1, `scenario ${JSON.stringify(result.name)} ${result.passed ? "passed" : "failed"}: ${result.steps.filter((s) => s.status === "passed").length} of ${result.steps.length} steps passed`);
        process.exit(await board.stopped.then(() => verdict!));
      }
      const started = await Simulator.start({
        ...boardOptions,
        uart: opts.uart,
        rawTerminal: opts.raw,
        log,
        onEvent: emit,
        onOutput,
        onUart: (path) => {
          if (opts.uartLink) link = linkUart(opts.uartLink, path);
          if (opts.json) emit({ event: "uart", path, ...(link && { link: link.path }) });
          else if (opts.uart === "pty") process.stdout.write(`uart connected to pseudotty: ${path}${link ? ` (linked from ${link.path})` : ""}\n`);
          else if (opts.uart !== "stdio") process.stdout.write(`uart listening on ${path}\n`);
        },
      });
      sim = started;
      controlAt(started.control?.address);
    } catch (e) {
      link?.remove();
      throw new UserError((e as Error).message, 2);
    }
    if (interrupted || verdict !== undefined) void sim.stop(verdict ?? 0);
    const code = await sim.stopped;
    clearTimeout(timer);
    link?.remove();
    // A firmware that dies (exit 1) ends a watched run too: show what the UART last said.
    if (watch && verdict === undefined && code) process.stderr.write(`xsock sim: the firmware stopped; the UART's last lines:\n${lastLines()}`);
    emit({ event: "exit", code: verdict ?? code });
    process.exit(verdict ?? code);
  });
}
