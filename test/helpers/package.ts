// xsock packed and installed as users get it: `npm pack`, then `npm install --save-dev` of the
// tarball in a fresh project. Shared by the package test and bench/cli.ts.
import { execFile, type ExecFileException } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./sim.ts";

export interface Run {
  code: number;
  out: string;
}

/** The environment a user's shell has: none of the variables `npm test` sets for this process. */
export const userEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== "INIT_CWD" && k !== "NODE_OPTIONS"));

/** Runs a program to its end: its exit code, and stdout then stderr. */
export function run(command: string, args: string[], cwd: string, timeout = 120000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: userEnv(), timeout, maxBuffer: 64 << 20 }, (e: ExecFileException | null, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** Runs a program that must succeed; throws with its output otherwise. */
export async function ok(command: string, args: string[], cwd: string, timeout?: number): Promise<string> {
  const r = await run(command, args, cwd, timeout);
  if (r.code !== 0) throw new Error(`${command} ${args.join(" ")} in ${cwd} exited ${r.code}:\n${r.out}`);
  return r.out;
}

/** Packs this checkout into `dir` (npm's prepack builds dist/); returns the tarball's path. */
export async function packXsock(dir: string): Promise<string> {
  await ok("npm", ["pack", "--pack-destination", dir], ROOT, 180000);
  return join(dir, readdirSync(dir).find((f) => f.endsWith(".tgz"))!);
}

const XSNAP_BUILD = "node_modules/@agoric/xsnap/xsnap-native/xsnap/build";

/**
 * `npm install --save-dev <tarball>` from npm's cache. Install scripts are skipped, and the XS
 * engine this checkout's `npm ci` built is copied in when its version matches: building it again
 * takes a minute, and it is the same build. Any other version is built as a user's install would.
 * Then xsock's own install script runs, as it would in a user's install.
 */
export async function installXsock(project: string, tarball: string): Promise<void> {
  await ok("npm", ["install", "--save-dev", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund", tarball], project);
  const version = (dir: string) => (JSON.parse(readFileSync(join(dir, "node_modules/@agoric/xsnap/package.json"), "utf8")) as { version: string }).version;
  if (version(ROOT) === version(project) && existsSync(join(ROOT, XSNAP_BUILD))) cpSync(join(ROOT, XSNAP_BUILD), join(project, XSNAP_BUILD), { recursive: true });
  else await ok("npm", ["rebuild", "@agoric/xsnap", "--foreground-scripts"], project, 300000);
  // xsock's own install script: its XS worker, linked with that engine's objects.
  await ok("npm", ["rebuild", "xsock", "--foreground-scripts"], project, 300000);
}

/** A fresh CommonJS project (no "type"), as `npm init -y` makes one, with xsock installed. */
export async function userProject(dir: string, tarball: string): Promise<string> {
  const project = join(dir, "MyFirmware");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), `${JSON.stringify({ name: "my-firmware", version: "1.0.0", private: true }, null, 2)}\n`);
  await installXsock(project, tarball);
  return project;
}
