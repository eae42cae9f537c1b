// What every xsock command shares: -v, --quiet, --no-color and --ci, an example in --help,
// colour on terminals, errors that end a run with a message instead of a stack, and where an app is.
import { InvalidArgumentError, Option, type Command } from "commander";
import { existsSync } from "node:fs";
import { isIPv4 } from "node:net";
import { isAbsolute, join, resolve } from "node:path";
import { hostAddresses, hostHas } from "../host-addresses.ts";
import { PACKAGE_ROOT } from "../package-root.ts";

export interface OutputOptions {
  verbose?: boolean;
  quiet?: boolean;
  /** false with --no-color. */
  color?: boolean;
  ci?: boolean;
}

/** A failure the user can act on: printed as `xsock <command>: <message>`, exit code 1. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** True when the environment variable is set to something other than "", "0" or "false". */
export function envFlag(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[name];
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/** Adds the options every command has, and its examples under --help. */
export function conventions(command: Command, examples: string[], verbose = "say more: each step, and what the tools print"): Command {
  return command
    .option("-v, --verbose", verbose)
    .option("-q, --quiet", "print only errors and results")
    .option("--no-color", "no colour (NO_COLOR does the same)")
    .addOption(new Option("--ci", "CI mode: no prompts, no progress animation").default(envFlag("CI"), "on when $CI is set"))
    .addOption(new Option("--no-ci", "not CI mode, even when CI is set"))
    .addHelpText("after", `\nExample${examples.length > 1 ? "s" : ""}:\n${examples.map((e) => `  $ ${e}`).join("\n")}\n`);
}

export type Tone = "ok" | "error" | "event" | "info" | "dim" | "bold";

const SGR: Record<Tone, string> = { ok: "32", error: "31", event: "33", info: "36", dim: "2", bold: "1" };

/** How a command writes to a terminal: colour, animation and prompts only where they belong. */
export interface Style {
  color: boolean;
  /** Progress that redraws itself, and questions: a terminal, not in CI mode. */
  interactive: boolean;
  verbose: boolean;
  quiet: boolean;
  paint(tone: Tone, text: string): string;
}

export function outputStyle(opts: OutputOptions, stream: NodeJS.WriteStream = process.stdout): Style {
  const tty = Boolean(stream.isTTY);
  // NO_COLOR, when set to anything but "", turns colour off (no-color.org).
  const color = tty && opts.color !== false && !process.env.NO_COLOR;
  return {
    color,
    interactive: tty && !opts.ci,
    verbose: Boolean(opts.verbose),
    quiet: Boolean(opts.quiet) && !opts.verbose,
    paint: (tone, text) => (color ? `\x1b[${SGR[tone]}m${text}\x1b[0m` : text),
  };
}

/** --baud's parser: a line rate from 300 to 5,000,000. */
export function baudRate(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 300 || n > 5_000_000) throw new InvalidArgumentError("a baud rate from 300 to 5000000");
  return n;
}

/** sim --ip's parser: an IPv4 address of this host's, where the board's sockets can bind. */
export function hostIpv4Address(value: string): string {
  const ip = ipv4Address(value);
  if (hostHas(ip)) return ip;
  throw new InvalidArgumentError(`not an address of this host: use 127.0.0.1 to 127.255.255.254, or one of ${hostAddresses().filter((a) => !a.startsWith("127.")).join(", ") || "no other"}`);
}

/** An IPv4 address option's parser (sim --ip, test --host-ip): a dotted quad, as node:net reads one. */
export function ipv4Address(value: string): string {
  if (isIPv4(value)) return value;
  throw new InvalidArgumentError("an IPv4 address, four numbers from 0 to 255 such as 127.0.0.2");
}

/** A repeatable option's parser: each value joins the list. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** A repeatable option's parser from a parser of one value, whose errors become commander's usage errors. */
export function collectParsed<T>(parse: (value: string, index: number) => T): (value: string, previous?: T[]) => T[] {
  return (value, previous = []) => [...previous, asArgument((v: string) => parse(v, previous.length))(value)];
}

/** An option's parser whose errors become commander's usage errors (exit 2, with the message). */
export function asArgument<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

/**
 * The app folder an APP_DIR argument names: the folder itself, or one of the package's own
 * (`examples/chat-server`) when the user's project has no such folder; xsock's ESP-AT modem
 * when there is no argument.
 */
export function appFolder(arg: string | undefined): string {
  if (arg === undefined) return PACKAGE_ROOT;
  const local = resolve(arg);
  if (existsSync(local) || isAbsolute(arg) || !existsSync(join(PACKAGE_ROOT, arg, "manifest.json"))) return local;
  return join(PACKAGE_ROOT, arg);
}
