// How fast the installed `xsock` command starts: this checkout packed and installed in a fresh
// project, as `npm install --save-dev xsock` leaves it.
//   npm run bench:cli        (9 runs each; BENCH_RUNS=N for more)
// Prints the median of each against a bare `node -e 0` measured in the same run: `npx xsock
// --help`, the same through node_modules/.bin (as npm scripts run it), and `xsock sim` from
// start to `ready` on the UART; and `npx --version`, the part of an npx run that is npm's.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packXsock, userEnv, userProject } from "../test/helpers/package.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds from spawning the command to its exit (which must be 0). */
function timeOnce(command: string, args: string[], cwd: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) =>
    execFile(command, args, { cwd, env: userEnv() }, (e, _out, err) => (e ? reject(new Error(`${command} ${args.join(" ")}: ${err}`)) : resolve(performance.now() - start))),
  );
}

const dir = mkdtempSync(join(tmpdir(), "Xsock-Bench-"));
try {
  process.stderr.write("packing and installing xsock in a fresh project...\n");
  const project = await userProject(dir, await packXsock(dir));
  const cases: [string, string, string[]][] = [
    ["node -e 0", process.execPath, ["-e", "0"]],
    ["npx --version (npm's own start)", "npx", ["--version"]],
    ["npx xsock --help", "npx", ["xsock", "--help"]],
    ["node_modules/.bin/xsock --help", join(project, "node_modules/.bin/xsock"), ["--help"]],
    ["npx xsock sim --expect-text ready", "npx", ["xsock", "sim", "--expect-text", "ready", "--timeout", "30000"]],
    ["node_modules/.bin/xsock sim --expect-text ready", join(project, "node_modules/.bin/xsock"), ["sim", "--expect-text", "ready", "--timeout", "30000"]],
  ];
  const times = new Map(cases.map(([name]) => [name, [] as number[]]));
  // Interleaved, so that a busy moment of the machine falls on every case alike.
  for (let i = 0; i < RUNS; i++) for (const [name, command, args] of cases) times.get(name)!.push(await timeOnce(command, args, project));
  const node = median(times.get("node -e 0")!);
  console.log(`median of ${RUNS} runs each, installed package (${project.includes(" ") ? "path with a space" : "fresh project"}):`);
  for (const [name] of cases) {
    const ms = median(times.get(name)!);
    console.log(`  ${name.padEnd(50)} ${ms.toFixed(0).padStart(5)} ms  ${(ms / node).toFixed(1).padStart(5)}x node -e 0`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
