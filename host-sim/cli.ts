// The `xsock` command.
import { Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_BOARD } from "./board.ts";
import { parseAccessPoint, type AccessPoint } from "./devices/wifi.ts";
import { Simulator } from "./simulator.ts";
import { parseUartSpec, type UartSpec } from "./uart-line.ts";
import { XSOCK_VERSION } from "../src/version.ts";

function baudRate(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 300 || n > 5_000_000) throw new InvalidArgumentError("a baud rate from 300 to 5000000");
  return n;
}

function uartSpec(value: string): UartSpec {
  try {
    return parseUartSpec(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function accessPoint(value: string, previous: AccessPoint[] = []): AccessPoint[] {
  try {
    return [...previous, parseAccessPoint(value, previous.length)];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** `key=value` pairs, as mcconfig takes them; numbers and booleans keep their type. */
function parseConfigPairs(pairs: string[]): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z_][\w.]*)=(.*)$/s.exec(pair);
    if (!m) throw new Error(`bad config "${pair}": use key=value`);
    const value = m[2];
    config[m[1]] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value === "true" ? true : value === "false" ? false : value;
  }
  return config;
}

const program = new Command("xsock").version(XSOCK_VERSION).description("xsock: ESP32 socket firmware and its simulator");

program
  .command("sim")
  .description("run the firmware on XS, with its UART on this terminal, a pty or a TCP port")
  .argument("[APP_DIR]", "a folder with a manifest.json (default: the ESP-AT modem)")
  .argument("[config...]", "config overrides as mcconfig takes them, key=value, read by the app from mc/config")
  .option("--board <id>", "board id, a Moddable target name", DEFAULT_BOARD)
  .addOption(new Option("--uart <where>", "stdio, pty or tcp:PORT").default("stdio").argParser(uartSpec))
  .option("--baud <n>", "pace the UART at this line rate, 8N1 (default: unpaced)", baudRate)
  .option("--ap <ssid[:password]>", "a simulated access point; repeatable (default: one open AP named xsock-sim)", accessPoint)
  .option("-v, --verbose", "log every XS delivery with its computrons and heap")
  .action(async (appArg: string | undefined, pairs: string[], opts: { board: string; uart: UartSpec; baud?: number; ap?: AccessPoint[]; verbose?: boolean }) => {
    let sim: Simulator | undefined;
    let interrupted = false;
    const stop = () => {
      interrupted = true;
      void sim?.stop(0);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    try {
      const app = appArg?.includes("=") ? undefined : appArg;
      const config = parseConfigPairs(app === appArg ? pairs : [appArg!, ...pairs]);
      sim = await Simulator.start({
        app,
        config,
        board: opts.board,
        uart: opts.uart,
        baud: opts.baud,
        aps: opts.ap,
        verbose: opts.verbose,
        onUart: (path) => {
          if (opts.uart === "pty") process.stdout.write(`uart connected to pseudotty: ${path}\n`);
          else if (opts.uart !== "stdio") process.stdout.write(`uart listening on ${path}\n`);
        },
      });
    } catch (e) {
      process.stderr.write(`xsock sim: ${(e as Error).message}\n`);
      process.exit(2);
    }
    if (interrupted) void sim.stop(0);
    process.exit(await sim.stopped);
  });

await program.parseAsync();
