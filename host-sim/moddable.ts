// The Moddable SDK's mcconfig, run for a board: what it needs ($MODDABLE, its built tools,
// ESP-IDF for esp32 targets), its command line, and its output as progress events.
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join, relative } from "node:path";
import { AsyncQueue } from "./async-queue.ts";
import { BOARDS_DIR } from "./board.ts";
import { packagePath } from "./package-root.ts";

const GETTING_STARTED = "https://github.com/Moddable-OpenSource/moddable/blob/public/documentation/Moddable%20SDK%20-%20Getting%20Started.md";
const ESP32_GUIDE = "https://github.com/Moddable-OpenSource/moddable/blob/public/documentation/devices/esp32.md";
/** node_modules/.bin: mcconfig compiles TypeScript modules with tsc (in a user's project, npm puts its own on PATH). */
const NODE_BIN = packagePath("node_modules", ".bin");

/** Something the build needs is not installed: the message says what, and how to install it. */
export class SetupError extends Error {}

export interface Toolchain {
  mcconfig: string;
  /** The environment mcconfig runs in: the SDK's tools and tsc on PATH. */
  env: NodeJS.ProcessEnv;
}

const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();
const onPath = (program: string, env: NodeJS.ProcessEnv) => (env.PATH ?? "").split(delimiter).find((dir) => dir && existsSync(join(dir, program)));

/** Finds mcconfig and checks what a build for the board needs, or says what is missing. */
export function findToolchain(board: string, env: NodeJS.ProcessEnv = process.env): Toolchain {
  const sdk = env.MODDABLE;
  if (!sdk)
    throw new SetupError(
      `the Moddable SDK is missing: $MODDABLE is not set. Install it (git clone https://github.com/Moddable-OpenSource/moddable), build its tools (cd moddable/build/makefiles/${hostDir()} && make), and export MODDABLE=<the moddable folder>; see ${GETTING_STARTED}`,
    );
  if (!isDir(sdk)) throw new SetupError(`$MODDABLE is ${sdk}, which is not a folder: set it to the Moddable SDK's folder (${GETTING_STARTED})`);
  const tools = join(sdk, "build", "bin", hostDir(), "release");
  const mcconfig = existsSync(join(tools, "mcconfig")) ? join(tools, "mcconfig") : onPath("mcconfig", env);
  if (!mcconfig) throw new SetupError(`the Moddable SDK's tools are not built (no ${join(tools, "mcconfig")}): cd ${join(sdk, "build", "makefiles", hostDir())} && make`);
  if (board.startsWith("esp32")) checkEspIdf(env);
  return { mcconfig, env: { ...env, PATH: [tools, NODE_BIN, env.PATH].filter(Boolean).join(delimiter) } };
}

function hostDir(): string {
  return process.platform === "darwin" ? "mac" : process.platform === "win32" ? "win" : "lin";
}

/** ESP-IDF, where Moddable's ESP32 build looks for it: $IDF_PATH, or ~/esp32/esp-idf. */
function checkEspIdf(env: NodeJS.ProcessEnv): void {
  const idf = env.IDF_PATH || join(env.HOME || homedir(), "esp32", "esp-idf");
  const install = `install it as Moddable's ESP32 guide says (${ESP32_GUIDE}): clone the ESP-IDF version it names into ~/esp32/esp-idf, run its ./install.sh, then export IDF_PATH=~/esp32/esp-idf and source $IDF_PATH/export.sh`;
  if (!env.IDF_PATH && !isDir(idf)) throw new SetupError(`ESP-IDF is missing: $IDF_PATH is not set and there is no ${idf}; ${install}`);
  if (!existsSync(join(idf, "tools", "idf.py"))) throw new SetupError(`ESP-IDF is missing: ${idf} ($IDF_PATH) has no tools/idf.py; ${install}`);
  // export.sh puts idf.py and the Xtensa compilers on PATH, and sets IDF_PYTHON_ENV_PATH.
  if (!onPath("idf.py", env) && !env.IDF_PYTHON_ENV_PATH) throw new SetupError(`ESP-IDF's tools are not on PATH in this shell: source ${join(idf, "export.sh")}`);
}

/**
 * mcconfig's -p for a board. A board in boards/ is a Moddable target outside the SDK:
 * `esp32:<its folder>`, whose manifest.json brings the SDK's target, the board's config and its
 * Ethernet wiring (mcconfig names the target after the folder: esp32/<board>). Any other name
 * goes as it is (an SDK target, lin). mcconfig lowercases -p, so a folder whose path has capitals
 * is given relative to the app's folder, where mcconfig runs.
 */
export function mcconfigPlatform(board: string, appDir: string, boardsDir: string = BOARDS_DIR): string {
  const dir = join(boardsDir, board);
  if (!existsSync(join(dir, "manifest.json"))) return board;
  const family = board.split("/")[0];
  const path = [dir, relative(appDir, dir) || "."].find((p) => p === p.toLowerCase());
  if (!path)
    throw new SetupError(`mcconfig lowercases -p, and the board folder ${dir} has capitals in its path, also from ${appDir}: put this checkout and the app under lower-case paths`);
  return `${family}:${path}`;
}

export interface McconfigRequest {
  /** The app's folder, with its manifest.json. */
  app: string;
  /** The board id: esp32/nodemcu, ... */
  board: string;
  /** mcconfig's -p (mcconfigPlatform): the board's folder, or the board id. */
  platform?: string;
  /** A debug build (xsbug), instead of a release one. */
  debug?: boolean;
  /** Flash the board after the build. */
  deploy: boolean;
  /** The serial port to flash through (Moddable's UPLOAD_PORT). */
  port?: string;
  /** Config overrides, key=value: ssid=..., password=... */
  config?: string[];
  /** mcconfig -v: every command make runs. */
  verbose?: boolean;
}

/** mcconfig's arguments: `-m -p <platform>`, `-t build` unless it flashes, `-d` for debug. */
export function mcconfigArgs(request: McconfigRequest): string[] {
  return [
    ...(request.debug ? ["-d"] : []),
    "-m",
    "-p",
    request.platform ?? request.board,
    ...(request.deploy ? [] : ["-t", "build"]),
    ...(request.verbose ? ["-v"] : []),
    "manifest.json",
    ...(request.config ?? []),
  ];
}

export type BuildEvent =
  | { type: "start"; command: string[]; cwd: string }
  | { type: "line"; text: string; stream: "stdout" | "stderr" }
  | { type: "end"; code: number; ms: number };

/** Runs mcconfig, yielding its output line by line as it comes, then its exit code. */
export async function* runMcconfig(toolchain: Toolchain, request: McconfigRequest): AsyncGenerator<BuildEvent> {
  const args = mcconfigArgs(request);
  const env = request.port ? { ...toolchain.env, UPLOAD_PORT: request.port } : toolchain.env;
  const start = Date.now();
  yield { type: "start", command: [toolchain.mcconfig, ...args], cwd: request.app };
  const child = spawn(toolchain.mcconfig, args, { cwd: request.app, env, stdio: ["ignore", "pipe", "pipe"] });
  const queue = new AsyncQueue<BuildEvent>();
  let code: number | undefined;
  for (const stream of ["stdout", "stderr"] as const) {
    let partial = "";
    child[stream].on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split(/\r?\n/);
      partial = lines.pop()!;
      for (const text of lines) queue.push({ type: "line", text, stream });
    });
    child[stream].on("end", () => partial && queue.push({ type: "line", text: partial, stream }));
  }
  child.on("error", (e) => {
    queue.push({ type: "line", text: `cannot run ${toolchain.mcconfig}: ${e.message}`, stream: "stderr" });
    code = 127;
    queue.end();
  });
  child.on("close", (c, signal) => {
    code ??= c ?? (signal ? 128 : 1);
    queue.end();
  });
  yield* queue;
  yield { type: "end", code: code ?? 1, ms: Date.now() - start };
}
