// The `xsock` command: each subcommand lives in commands/; this wires them and maps errors to exit codes.
import { Command, CommanderError } from "commander";
import { XSOCK_VERSION } from "../src/version.ts";
import { registerBuild } from "./commands/build.ts";
import { UserError } from "./commands/common.ts";
import { registerConsole } from "./commands/console.ts";
import { registerInit } from "./commands/init.ts";
import { registerList } from "./commands/list.ts";
import { registerSim } from "./commands/sim.ts";
import { registerTest } from "./commands/test.ts";

const program = new Command("xsock").version(XSOCK_VERSION).description("xsock: ESP32 socket firmware, its simulator, and the tools for its boards");
// Usage errors end with exit code 2; failures with 1 (and `sim --timeout` with 42).
program.exitOverride();
program.showHelpAfterError("(add --help for usage)");

let running = "xsock";
program.hook("preAction", (_program, action) => void (running = `xsock ${action.name()}`));

registerSim(program);
registerList(program);
registerConsole(program);
registerBuild(program);
registerTest(program);
registerInit(program);

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  if (!(e instanceof UserError)) throw e;
  process.stderr.write(`${running}: ${e.message}\n`);
  process.exit(e.exitCode);
}
