// `xsock build` and `xsock flash`: the Moddable SDK's mcconfig for a board, with its progress.
import type { Command } from "commander";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_BOARD } from "../board.ts";
import { findToolchain, mcconfigPlatform, runMcconfig, SetupError, type BuildEvent, type McconfigRequest } from "../moddable.ts";
import { listPorts } from "../serial/ports.ts";
import { appFolder, conventions, outputStyle, UserError, type OutputOptions, type Style } from "./common.ts";
import { formatDuration, StatusLine } from "./progress.ts";

interface BuildOptions extends OutputOptions {
  board: string;
  debug?: boolean;
  port?: string;
  sim?: boolean;
  output: string;
}

/** Lines of mcconfig's output shown when a build fails and they were not shown as it ran. */
const TAIL = 40;

/** mcconfig's step lines start with `# ` (# xsc, # cc, # ld ...); compilers' complaints say error or warning. */
const STEP = /^# /;
const COMPLAINT = /\b(error|warning|fatal|undefined reference)\b/i;

export function registerBuild(program: Command): void {
  define(program, "build", "build the firmware for a board with the Moddable SDK (mcconfig -m -p esp32:boards/<board> -t build)", [
    "xsock build --board esp32/nodemcu",
    "xsock build examples/tcp-echo-server --board esp32/esp32s3 -d ssid=lab password=secret123",
    "xsock build --sim -o xsock-0.2.0.bin version=0.2.0   # an image for the simulator's OTA update (AT+USEROTA)",
  ])
    .option("--sim", "build the firmware as the simulator runs it, into an image file that an OTA update takes (docs/simulator.md), without the Moddable SDK")
    .option("-o, --output <file>", "with --sim: the image file", "xsock.bin");
  define(program, "flash", "build the firmware and flash it to a board (mcconfig -m -p esp32:boards/<board>; the port goes in UPLOAD_PORT)", [
    "xsock flash --board esp32/nodemcu --port /dev/ttyUSB0",
    "xsock flash --board esp32/wt32_eth01          # the only ESP32-like port",
  ]).option("--port <port>", "the serial port to flash through (default: $UPLOAD_PORT, else the only ESP32-like port, else ESP-IDF's own search)");
}

function define(program: Command, name: "build" | "flash", description: string, examples: string[]): Command {
  const command = program
    .command(name)
    .description(description)
    .argument("[APP_DIR]", "a folder with a manifest.json (default: the ESP-AT modem)")
    .argument("[config...]", "config overrides passed to mcconfig, key=value: ssid=..., password=...")
    .option("--board <id>", "board id: a folder in boards/ (its manifest.json is the Moddable target), else an SDK target name", DEFAULT_BOARD)
    .option("-d, --debug", "a debug build, for xsbug (mcconfig -d)");
  conventions(command, examples, "show every line mcconfig prints, and the commands make runs (mcconfig -v)").action(
    async (appArg: string | undefined, pairs: string[], opts: BuildOptions) => {
      const style = outputStyle(opts, process.stderr);
      const app = appArg?.includes("=") ? undefined : appArg;
      const config = app === appArg ? pairs : [appArg!, ...pairs];
      const bad = config.find((pair) => !/^[A-Za-z_][\w.]*=/.test(pair));
      if (bad) throw new UserError(`bad config "${bad}": use key=value`, 2);
      const dir = appFolder(app);
      if (!existsSync(join(dir, "manifest.json"))) throw new UserError(`no manifest.json in ${dir}`, 2);
      if (opts.sim) return buildImage(dir, opts, config);
      let toolchain, platform;
      try {
        toolchain = findToolchain(opts.board);
        platform = mcconfigPlatform(opts.board, dir);
      } catch (e) {
        if (e instanceof SetupError) throw new UserError(e.message);
        throw e;
      }
      const deploy = name === "flash";
      const port = deploy ? (opts.port ?? process.env.UPLOAD_PORT ?? (await onlyBoardPort(style))) : undefined;
      const request: McconfigRequest = { app: dir, board: opts.board, platform, debug: opts.debug, deploy, port, config, verbose: opts.verbose };
      const code = await render(runMcconfig(toolchain, request), style, `${deploy ? "flashed" : "built"} ${opts.board} (${opts.debug ? "debug" : "release"})`);
      if (code) throw new UserError(`mcconfig failed (exit code ${code})`);
    },
  );
  return command;
}

/** `xsock build --sim`: the firmware the simulator runs, as an image file (host-sim/ota-image.ts). */
async function buildImage(dir: string, opts: BuildOptions, pairs: string[]): Promise<void> {
  const [{ loadBoard }, { buildFirmware }, { writeImage }, { parseConfigPairs }] = await Promise.all([
    import("../board.ts"),
    import("../firmware.ts"),
    import("../ota-image.ts"),
    import("./sim.ts"),
  ]);
  let board;
  try {
    board = loadBoard(opts.board);
  } catch (e) {
    throw new UserError((e as Error).message, 2);
  }
  const firmware = await buildFirmware(dir, board, parseConfigPairs(pairs));
  const image = writeImage(firmware, board.id);
  writeFileSync(opts.output, image);
  if (!outputStyle(opts, process.stderr).quiet) process.stderr.write(`-- wrote ${opts.output}: ${image.length} bytes, version ${firmware.version || "(none)"}, for ${board.id}\n`);
}

/** The one ESP32-like port, if there is exactly one; else ESP-IDF looks for the board itself. */
async function onlyBoardPort(style: Style): Promise<string | undefined> {
  const esp = (await listPorts()).filter((p) => p.bridge);
  if (esp.length !== 1) return undefined;
  if (!style.quiet) process.stderr.write(`-- flashing through ${esp[0].path} (${esp[0].bridge})\n`);
  return esp[0].path;
}

/**
 * Shows mcconfig's progress. On an interactive terminal, one line that follows its steps,
 * with warnings and errors printed in full; elsewhere (CI, a pipe, -v) every line as it comes.
 * Returns mcconfig's exit code.
 */
async function render(events: AsyncGenerator<BuildEvent>, style: Style, what: string): Promise<number> {
  const status = new StatusLine(style);
  const everything = style.verbose || (!style.interactive && !style.quiet);
  const tail: string[] = [];
  for await (const event of events) {
    if (event.type === "start") {
      if (!style.quiet) process.stderr.write(`-- in ${event.cwd}: ${event.command.join(" ")}\n`);
    } else if (event.type === "line") {
      tail.push(event.text);
      if (tail.length > TAIL) tail.shift();
      if (everything) process.stderr.write(`${event.text}\n`);
      else if (COMPLAINT.test(event.text) && !style.quiet) {
        status.clear();
        process.stderr.write(`${style.paint(/warning/i.test(event.text) ? "event" : "error", event.text)}\n`);
      } else if (STEP.test(event.text)) status.show(event.text);
    } else {
      status.clear();
      if (event.code && !everything) process.stderr.write(`${style.paint("dim", `-- mcconfig's last ${tail.length} lines:`)}\n${tail.join("\n")}\n`);
      if (!event.code && !style.quiet) process.stderr.write(`${style.paint("ok", `-- ${what} in ${formatDuration(event.ms)}`)}\n`);
      return event.code;
    }
  }
  return 1;
}
