// `xsock test`: the simulator's console suites, run against a flashed board on a serial port
// (hardware in the loop), with the peers on this machine.
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { PACKAGE_ROOT } from "../package-root.ts";
import { baudRate, conventions, envFlag, ipv4Address, outputStyle, UserError, type OutputOptions } from "./common.ts";

interface TestOptions extends OutputOptions {
  port?: string;
  sim?: boolean;
  hostIp?: string;
  ssid?: string;
  password?: string;
  baud: number;
  grep?: string;
}

const SUITES = join(PACKAGE_ROOT, "test", "sim");
const MOCHA = join(PACKAGE_ROOT, "node_modules", "mocha", "bin", "mocha.js");

/** The suites that drive the console over its UART: the ones that run on a board too. */
export function consoleSuites(dir = SUITES): string[] {
  return readdirSync(dir)
    .filter((f) => /^(console|at-.*|host-libraries)\.test\.ts$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

export function registerTest(program: Command): void {
  const command = program
    .command("test")
    .description("run the console test suites against a flashed board on a serial port (or, with --sim, the simulator)")
    .option("--port <port>", "the board's console UART (default: $TEST_PORT); without one the board tests are skipped")
    .option("--sim", "run the suites on the simulator instead of a board")
    .option("--host-ip <ip>", "this machine's address as the board reaches it, where the peers listen (default: $TEST_HOST_IP, else the first LAN address)", ipv4Address)
    .option("--ssid <ssid>", "the AP the board joins (default: $TEST_SSID)")
    .option("--password <password>", "its password (default: $TEST_PASSWORD)")
    .option("--baud <n>", "the console UART's line rate", baudRate, 115200)
    .option("--grep <pattern>", "only the tests whose title matches");
  conventions(command, [
    "xsock test --port /dev/ttyUSB1 --host-ip 192.168.1.20 --ssid lab --password secret123",
    "xsock sim --uart-link /tmp/esp32 & xsock test --port /tmp/esp32 --host-ip 127.0.0.1 --ssid xsock-sim",
    "xsock test --sim --grep CIPSEND",
  ]).action(async (opts: TestOptions) => {
    const style = outputStyle(opts);
    const port = opts.sim ? undefined : (opts.port ?? process.env.TEST_PORT);
    if (!port && !opts.sim) {
      if (!style.quiet) process.stderr.write("xsock test: no board port (--port or TEST_PORT): the board tests are skipped; --sim runs them on the simulator\n");
      return;
    }
    if (port && port.startsWith("/") && !existsSync(port)) throw new UserError(`no port ${port} (xsock list shows the serial ports)`);
    if (!existsSync(MOCHA) || !existsSync(SUITES))
      throw new UserError(`the test suites run from a checkout of the xsock repository, with its dev dependencies (npm install): no ${existsSync(SUITES) ? MOCHA : SUITES}`);
    const ssid = opts.ssid ?? process.env.TEST_SSID;
    if (port && !ssid) throw new UserError("the board needs an AP to join: --ssid (and --password), or TEST_SSID", 2);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ["TEST_PORT", "TEST_HOST_IP", "TEST_SSID", "TEST_PASSWORD", "TEST_BAUD"]) delete env[name];
    if (port) {
      Object.assign(env, { TEST_PORT: port, TEST_SSID: ssid, TEST_PASSWORD: opts.password ?? process.env.TEST_PASSWORD ?? "", TEST_BAUD: String(opts.baud) });
      const hostIp = opts.hostIp ?? process.env.TEST_HOST_IP;
      if (hostIp) env.TEST_HOST_IP = hostIp;
    }
    const args = [MOCHA, "--no-config", "--node-option", "import=tsx", "--node-option", "conditions=xsock-source", "--timeout", port ? "60000" : "20000", "--reporter", style.quiet ? "dot" : "spec"];
    if (!style.color || envFlag("NO_COLOR")) args.push("--no-colors");
    else args.push("--colors");
    if (opts.grep) args.push("--grep", opts.grep);
    args.push(...consoleSuites());
    if (!style.quiet) process.stderr.write(`-- the console suites on ${port ?? "the simulator"}${port ? ` (peers at ${env.TEST_HOST_IP ?? "this machine's LAN address"}, AP ${ssid})` : ""}\n`);
    const code = await new Promise<number>((resolve) => spawn(process.execPath, args, { cwd: PACKAGE_ROOT, env, stdio: "inherit" }).on("close", (c) => resolve(c ?? 1)));
    if (code) throw new UserError(`${code} test${code === 1 ? "" : "s"} failed`);
  });
}
