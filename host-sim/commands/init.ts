// `xsock init [DIR]`: a new firmware project, as `cargo new` makes one: xsock's CI example
// (examples/ci: an app, its manifest, a scenario, a node:test suite, a workflow and a README), with a
// package.json that names the folder and depends on this xsock.
import type { Command } from "commander";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { XSOCK_VERSION } from "../../src/version.ts";
import { packagePath } from "../package-root.ts";
import { conventions, outputStyle, UserError, type OutputOptions } from "./common.ts";

const TEMPLATE = packagePath("examples", "ci");
/** Left out of the copy: what a run of the example in this checkout leaves behind. */
const LEFT_OUT = new Set(["node_modules", "package-lock.json", "results.xml", "results.pcapng", "results.trace.json", ".gitignore"]);

/** An npm package name from a folder name: lower case, with what npm refuses made a dash. */
export function packageName(folder: string): string {
  const name = folder.toLowerCase().replace(/[^a-z0-9._~-]+/g, "-").replace(/^[._-]+|-+$/g, "");
  return name || "firmware";
}

/** Writes the project into `dir`, which must be empty or absent; returns the files written. */
export function scaffold(dir: string): string[] {
  if (existsSync(dir) && readdirSync(dir).length) throw new UserError(`${dir} is not empty: xsock init makes a new project in an empty or new folder`, 2);
  mkdirSync(dir, { recursive: true });
  cpSync(TEMPLATE, dir, { recursive: true, filter: (src) => !LEFT_OUT.has(basename(src)) });
  const pkg = JSON.parse(readFileSync(join(TEMPLATE, "package.json"), "utf8")) as Record<string, unknown> & { devDependencies: Record<string, string> };
  pkg.name = packageName(basename(resolve(dir)));
  pkg.devDependencies.xsock = `^${XSOCK_VERSION}`;
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  // npm leaves .gitignore files out of packages, so it is written here.
  writeFileSync(join(dir, ".gitignore"), "node_modules/\nresults.xml\nresults.pcapng\nresults.trace.json\n");
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

export function registerInit(program: Command): void {
  const command = program
    .command("init")
    .description("make a new firmware project: an app on xsock's socket module, its scenario, a test on xsock/sim, and a CI workflow")
    .argument("[DIR]", "the folder, empty or new", ".");
  conventions(command, ["xsock init my-firmware && cd my-firmware && npm install && npm test", "mkdir fw && cd fw && npx xsock init"]).action((dirArg: string, opts: OutputOptions) => {
    const style = outputStyle(opts);
    const files = scaffold(dirArg);
    if (style.quiet) return;
    const where = resolve(dirArg) === process.cwd() ? "" : `cd ${dirArg} && `;
    const name = packageName(basename(resolve(dirArg)));
    process.stdout.write(`${files.map((f) => `  ${f}`).join("\n")}\nmade ${name} in ${dirArg}; next: ${where}npm install && npm test (npm start runs it in the simulator)\n`);
  });
}
