#!/usr/bin/env node
// Builds xsock's XS worker (xsock-worker.c) at npm install: compiles that one file with the
// flags @agoric/xsnap's makefile gives its own worker, and links it with the XS objects that
// @agoric/xsnap's install has already compiled. Needs make and a C compiler, no network.
//   node host-sim/worker/build.js          build unless built since its source changed (what npm install runs)
//   node host-sim/worker/build.js --force  build again
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** Where the worker goes. */
export const WORKER = join(here, "build", "xsock-worker");

/** The worker's source: a checkout's `git pull` may change it under a worker built before. */
const SOURCES = [join(here, "xsock-worker.c"), fileURLToPath(import.meta.url)];
/** True when the worker is built, and since its source last changed (the simulator checks the same). */
export const workerIsCurrent = () => existsSync(WORKER) && SOURCES.every((f) => statSync(f).mtimeMs <= statSync(WORKER).mtimeMs);

/** @param {boolean} force */
export function buildWorker(force = false) {
  if (!force && workerIsCurrent()) return WORKER;
  const xsnap = dirname(createRequire(import.meta.url).resolve("@agoric/xsnap/package.json"));
  const makefiles = join(xsnap, "xsnap-native/xsnap/makefiles/lin");
  const objects = join(xsnap, "xsnap-native/xsnap/build/tmp/lin/release/xsnap-worker");
  const tmp = join(here, "build", "tmp");
  mkdirSync(tmp, { recursive: true });
  const make = (/** @type {string[]} */ args) =>
    execFileSync("make", ["-f", "xsnap-worker.mk", "GOAL=release", `MODDABLE=${join(xsnap, "moddable")}`, ...args], { cwd: makefiles, stdio: ["ignore", "ignore", "inherit"] });
  // @agoric/xsnap's install leaves its objects; without them (a cleaned build), compile them here.
  let from = objects;
  if (!existsSync(join(objects, "xsnap-worker.o"))) {
    make([`BUILD_DIR=${join(tmp, "xsnap")}`]);
    from = join(tmp, "xsnap/tmp/lin/release/xsnap-worker");
  }
  // The makefile's own rule, with its flags (the machine's layout depends on them), for this file.
  make([`TMP_DIR=${tmp}`, `VPATH=${here}`, join(tmp, "xsock-worker.o")]);
  const inputs = readdirSync(from).filter((f) => f.endsWith(".o")).map((f) => join(from, f));
  const partial = `${WORKER}.partial`;
  execFileSync(process.env.CC ?? "cc", ["-rdynamic", "-Wl,--wrap=fxCreateMachine,--wrap=fxDeleteMachine,--wrap=fxReadSnapshot,--wrap=fxWriteSnapshot,--wrap=fxBeginHost", ...inputs, join(tmp, "xsock-worker.o"), "-ldl", "-lm", "-lpthread", "-o", partial], { stdio: "inherit" });
  renameSync(partial, WORKER);
  return WORKER;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    buildWorker(process.argv.includes("--force"));
  } catch (e) {
    // The simulator still runs on @agoric/xsnap's worker, with the heap limits counted instead.
    console.warn(`xsock: the board-sized XS worker was not built (${/** @type {Error} */ (e).message.split("\n")[0]}); xsock sim will count the board's heap instead`);
  }
}
