// `xsock console`: a terminal for the ESP-AT console, on a board's serial port or a simulator's pty.
import { InvalidArgumentError, type Command } from "commander";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { createInterface, clearLine, cursorTo } from "node:readline";
import { AtError, command as atCommand, finalResult, lastLine, type CommandResult } from "../serial/at-session.ts";
import { SerialLink } from "../serial/link.ts";
import { listPorts } from "../serial/ports.ts";
import { announcedLength, payloadBytes, payloadPrompt } from "../serial/payload.ts";
import { sendFile } from "../serial/send-file.ts";
import { baudRate, collect, conventions, outputStyle, UserError, type OutputOptions, type Style } from "./common.ts";
import { ConsoleView } from "./console-view.ts";
import { historyFile, HISTORY_SIZE, loadHistory, saveHistory } from "./history.ts";
import { formatBytes, formatDuration, progressText, StatusLine } from "./progress.ts";

/** Ctrl-], as telnet, picocom and idf.py monitor quit. */
const QUIT = 0x1d;

interface ConsoleOptions extends OutputOptions {
  baud: number;
  raw?: boolean;
  send?: string;
  link?: number;
  passthrough?: boolean;
  command?: string[];
  wait: number;
}

function waitTime(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("a number of milliseconds, 0 or more");
  return n;
}

function linkId(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 4) throw new InvalidArgumentError("a link id from 0 to 4");
  return n;
}

export function registerConsole(program: Command): void {
  const command = program
    .command("console")
    .description("talk to the ESP-AT console on a serial port or a simulator's pty (Ctrl-] quits)")
    .argument("[PORT]", "the serial port or pty (default: the only ESP32-like port, or asks)")
    .option("--baud <n>", "line rate", baudRate, 115200)
    .option("--raw", "a plain byte pipe: no line editing, no CR-LF, no colour")
    .option("-c, --command <line>", "send this command and wait for its result, then quit; repeatable", collect)
    .option("--send <file>", "send the file on the open link as AT+CIPSEND payloads (8192 bytes each), then quit")
    .option("--link <id>", "with --send and CIPMUX=1: the link id", linkId)
    .option("--passthrough", "with --send: in passthrough (CIPMODE=1), ended with +++")
    .option("--wait <ms>", "with --send: show what the board sends for this long after the file (its peer's reply), or until the link closes", waitTime, 2000);
  conventions(command, [
    "xsock console                          # the only ESP32-like port, at 115200",
    "xsock console /dev/ttyUSB0 --baud 921600",
    "xsock console /tmp/esp32               # a simulator started with --uart-link /tmp/esp32",
    `xsock console /tmp/esp32 -c 'AT+CWJAP="xsock-sim",""' -c 'AT+CIPSTART="TCP","127.0.0.1",7000' --send firmware.bin`,
    "printf 'AT\\nAT+GMR\\n' | xsock console /tmp/esp32",
  ]).action(async (portArg: string | undefined, opts: ConsoleOptions) => {
    const style = outputStyle(opts);
    const interactive = Boolean(process.stdin.isTTY) && !opts.ci;
    const path = portArg ?? (await pickPort(style, interactive));
    const link = await open(path, opts.baud);
    let code: number;
    try {
      if (opts.raw) code = await raw(link, style);
      else if (opts.command || opts.send) code = await batch(link, style, opts);
      else if (interactive) code = await session(link, style);
      else code = await piped(link, style);
    } catch (e) {
      if (e instanceof AtError) throw new UserError(e.message);
      throw e;
    } finally {
      await link.close();
    }
    process.exit(code);
  });
}

/** The only ESP32-like port; else the user picks one, when there is a user to ask. */
async function pickPort(style: Style, interactive: boolean): Promise<string> {
  const ports = await listPorts();
  const esp = ports.filter((p) => p.bridge);
  if (esp.length === 1) {
    if (!style.quiet) process.stderr.write(`-- using ${esp[0].path} (${esp[0].bridge})\n`);
    return esp[0].path;
  }
  const named = (list: typeof ports) => list.map((p) => p.path).join(", ");
  if (!ports.length) throw new UserError("no serial ports found: plug the board in, or name a port or pty (xsock console PORT)");
  if (!interactive)
    throw new UserError(esp.length ? `several ESP32-like ports (${named(esp)}): name one, xsock console PORT` : `no ESP32-like port among ${named(ports)}: name one, xsock console PORT`);
  process.stderr.write(`${esp.length ? "Several ESP32-like ports" : "No ESP32-like port"}; which one?\n`);
  ports.forEach((p, i) => process.stderr.write(`  ${i + 1}) ${p.path}${p.bridge ? ` (${p.bridge})` : ""}${p.manufacturer ? `  ${p.manufacturer}` : ""}\n`));
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (;;) {
      const answer = await new Promise<string>((resolve, reject) => {
        rl.question(`port [1-${ports.length}]: `, resolve);
        rl.once("close", () => reject(new UserError("no port chosen")));
      });
      const n = Number(answer);
      if (Number.isInteger(n) && n >= 1 && n <= ports.length) return ports[n - 1].path;
    }
  } finally {
    rl.close();
  }
}

/** Opens the port, turning serialport's errors into what to do about them. */
async function open(path: string, baud: number): Promise<SerialLink> {
  try {
    return await SerialLink.open(path, baud);
  } catch (e) {
    const message = (e as Error).message;
    if (/no such file/i.test(message)) throw new UserError(`no port ${path} (xsock list shows the serial ports)`);
    if (/permission denied/i.test(message))
      throw new UserError(`no permission to open ${path}: add yourself to its group (ls -l ${path}; on Debian and Ubuntu, sudo usermod -aG dialout $USER, then log in again)`);
    if (/lock|busy|temporarily unavailable/i.test(message)) throw new UserError(`${path} is in use by another program (a serial monitor, or serial2xsbug?)`);
    throw new UserError(`cannot open ${path}: ${message}`);
  }
}

/** Line editing and history on a terminal; Ctrl-] (or Ctrl-D on an empty line) quits. */
async function session(link: SerialLink, style: Style): Promise<number> {
  const file = historyFile();
  const commandPrompt = style.paint("dim", `${basename(link.path)}> `);
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: commandPrompt,
    history: loadHistory(file),
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
  });
  rl.on("history", (lines: string[]) => saveHistory(file, lines));
  // After `>`, the prompt says what the board still expects, so a command is not typed as payload unseen.
  const promptNow = () =>
    rl.setPrompt(
      view.payload === undefined
        ? commandPrompt
        : style.paint("info", payloadPrompt(view.payload)),
    );
  // Output lands above the line being typed, which is drawn again after it.
  const print = (text: string) => {
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
    process.stdout.write(`${text}\n`);
    promptNow();
    rl.prompt(true);
  };
  const view = new ConsoleView(link.path, style, print, true);
  link.subscribe((e) => view.handle(e));
  view.notice("dim", `${link.path} at ${link.baudRate} baud; commands end in CR-LF; Ctrl-] quits`);
  rl.prompt();

  const quit = new Promise<void>((resolve) => {
    rl.on("close", resolve);
    process.stdin.on("keypress", (_s: string, key?: { sequence?: string }) => key?.sequence === String.fromCharCode(QUIT) && rl.close());
    rl.on("SIGINT", () => (rl.line ? (rl.write(null, { ctrl: true, name: "e" }), rl.write(null, { ctrl: true, name: "u" })) : rl.close()));
  });
  rl.on("line", (line) => {
    void typed(line).then(
      () => (promptNow(), rl.prompt()),
      (e: Error) => print(style.paint("error", `-- not sent: ${e.message}`)),
    );
  });
  const typed = async (line: string) => {
    if (view.payload !== undefined) {
      const bytes = payloadBytes(line, view.payload);
      if (view.payload === null && line === "+++") view.payload = undefined;
      view.took(bytes.length);
      await link.write(bytes);
    } else if (line) {
      view.sent(line);
      await link.write(`${line}\r\n`);
    }
  };
  await quit;
  process.stdout.write("\n");
  return 0;
}

/**
 * Lines from a pipe, one command at a time, each waiting for its result. After `>`, lines are the
 * payload, as typed on a terminal: escapes, and CR-LF where it fits, until the announced length
 * is sent; a line longer than what remains ends the run.
 */
async function piped(link: SerialLink, style: Style): Promise<number> {
  const view = new ConsoleView(link.path, style, (t) => process.stdout.write(`${t}\n`), false);
  link.subscribe((e) => view.handle(e));
  let failed = 0;
  /** The payload bytes the board still expects, null in passthrough, undefined outside a payload. */
  let payload: number | null | undefined;
  const count = (result: CommandResult) => void (result.ok || failed++);
  for await (const line of createInterface({ input: process.stdin, terminal: false })) {
    if (payload === undefined) {
      if (!line) continue;
      const result = await atCommand(link, line);
      count(result);
      if (result.final === ">") payload = announcedLength(line) ?? null;
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = payloadBytes(line, payload);
    } catch (e) {
      throw new UserError(`${(e as Error).message} (the line: ${JSON.stringify(line)})`);
    }
    await link.write(bytes);
    if (payload === null) {
      if (line === "+++") payload = undefined;
      continue;
    }
    payload -= bytes.length;
    if (payload > 0) continue;
    payload = undefined;
    count(await finalResult(link));
  }
  view.handle({ type: "closed" });
  if (payload) throw new UserError(`the input ended while the board still expects ${payload} bytes of the payload`);
  return failed ? 1 : 0;
}

/** --command lines, then --send's file: the run fails at the first ERROR. */
async function batch(link: SerialLink, style: Style, opts: ConsoleOptions): Promise<number> {
  // While the file goes, the payload's own replies (Recv, SEND OK, per chunk) would bury the
  // bar: -v shows them. What the peer sends meanwhile (+IPD) and a close show either way.
  let sending = false;
  const view = new ConsoleView(link.path, style, (t) => void ((!sending || style.verbose || /\+IPD,|CLOSED/.test(t)) && process.stdout.write(`${t}\n`)), false);
  const stop = link.subscribe((e) => view.handle(e));
  for (const line of opts.command ?? []) {
    const result = await atCommand(link, line);
    if (!result.ok) throw new UserError(`${line} got ${lastLine(result.reply)}`);
  }
  if (!opts.send) return 0;
  let data: Uint8Array;
  try {
    data = readFileSync(opts.send);
  } catch (e) {
    throw new UserError(`cannot read ${opts.send}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  sending = true;
  const bar = new StatusLine(style);
  const start = Date.now();
  try {
    for await (const event of sendFile(link, data, { linkId: opts.link, passthrough: opts.passthrough })) {
      if (event.type === "done") sending = false;
      if (event.type === "progress") bar.show(`${basename(opts.send)} ${progressText(event.sent, event.total, Date.now() - start)}`);
      else if (event.type === "done") {
        bar.clear();
        if (!style.quiet)
          process.stderr.write(`-- sent ${basename(opts.send)}, ${formatBytes(event.sent)} in ${formatDuration(event.ms)} (${formatBytes(Math.round((event.sent * 1000) / Math.max(1, event.ms)))}/s)\n`);
      }
    }
  } catch (e) {
    bar.clear();
    if (e instanceof AtError) throw new UserError(`--send ${opts.send}: ${e.message}`);
    throw e;
  }
  await replies(link, opts.wait);
  stop();
  view.handle({ type: "closed" });
  return 0;
}

/** Waits while the board's output shows, for `ms` (the peer's answer to what was sent), or until a link closes. */
async function replies(link: SerialLink, ms: number): Promise<void> {
  let text = "";
  let done: () => void = () => {};
  const closed = new Promise<void>((resolve) => (done = resolve));
  const stop = link.subscribe((e) => {
    if (e.type !== "data") return;
    text = (text + e.bytes.toString("latin1")).slice(-64);
    if (/(^|\n)(\d,)?CLOSED\r?\n/.test(text)) done();
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
  stop();
}

/** Bytes both ways as they are; Ctrl-] quits on a terminal, the end of input elsewhere. */
async function raw(link: SerialLink, style: Style): Promise<number> {
  const stdin = process.stdin;
  link.subscribe((e) => {
    if (e.type === "data") process.stdout.write(e.bytes);
    else if (e.type === "lost") process.stderr.write(`\r\n-- ${link.path} went away; waiting for it to come back\r\n`);
    else if (e.type === "reopened" && !style.quiet) process.stderr.write(`\r\n-- ${link.path} is back\r\n`);
  });
  if (stdin.isTTY) {
    stdin.setRawMode(true);
    if (!style.quiet) process.stderr.write(`-- ${link.path} at ${link.baudRate} baud, raw; Ctrl-] quits\r\n`);
  }
  await new Promise<void>((resolve) => {
    stdin.on("data", (chunk: Buffer) => {
      const quit = stdin.isTTY ? chunk.indexOf(QUIT) : -1;
      if (link.connected) void link.write(quit < 0 ? chunk : chunk.subarray(0, quit)).catch(() => {});
      if (quit >= 0) resolve();
    });
    // Piped input: what the board answers within a moment of the last byte still shows.
    stdin.on("end", () => setTimeout(resolve, 500));
  });
  if (stdin.isTTY) stdin.setRawMode(false);
  stdin.pause();
  return 0;
}
