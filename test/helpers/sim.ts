// Starts `xsock sim` as a user would, and reads its log.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { fileURLToPath } from "node:url";

export const XSOCK = fileURLToPath(new URL("../../bin/xsock.js", import.meta.url));
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface SimProcess {
  proc: ChildProcess;
  /** The pty path, or `tcp:PORT`. */
  uart: string;
  /** Everything the simulator logged so far (stdout and stderr). */
  readonly log: string;
  waitLog(pattern: RegExp, timeout?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `xsock sim ARGS`; the UART defaults to a pty. */
export function startSim(args: string[] = [], uart = "pty"): Promise<SimProcess> {
  const proc = spawn(process.execPath, [XSOCK, "sim", ...args, "--uart", uart], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const waiters = new Set<() => void>();
  const onText = (d: Buffer) => {
    log += d.toString();
    for (const w of [...waiters]) w();
  };
  proc.stdout!.on("data", onText);
  proc.stderr!.on("data", onText);
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));

  const waitLog = (pattern: RegExp, timeout = 15000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = log.match(pattern);
        if (!m) return;
        cleanup();
        resolve(m);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${pattern} in the simulator's log within ${timeout} ms:\n${log}`));
      }, timeout);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      void exited.then(() => setTimeout(check, 50));
      check();
    });

  const where = uart === "pty" ? /uart connected to pseudotty: (\S+)/ : /uart listening on (\S+)/;
  return waitLog(where, 30000).then((m) => ({
    proc,
    uart: m[1],
    get log() {
      return log;
    },
    waitLog,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  }));
}

/** Runs `xsock sim ARGS` to its end (for firmware that crashes, or bad options). */
export async function runSim(args: string[], timeout = 30000): Promise<{ code: number | null; log: string }> {
  const { code, stdout, stderr } = await runXsock(["sim", ...args], { timeout });
  return { code, log: stdout + stderr };
}

/** Runs `xsock ARGS` to its end, with `input` on its stdin. */
export async function runXsock(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeout?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [XSOCK, ...args], { cwd: ROOT, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  proc.stdin.end(options.input ?? "");
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeout ?? 30000);
  const code = await new Promise<number | null>((resolve) => proc.on("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** True when a program is on PATH. */
export function have(program: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => {
    try {
      accessSync(`${dir}/${program}`, constants.X_OK);
      return Boolean(dir);
    } catch {
      return false;
    }
  });
}

/** Skips a test whose third-party client is missing; in CI, where .ci/run installs it, fails instead. */
export function needs(ctx: Mocha.Context, what: string, present: boolean): void {
  if (present) return;
  if (process.env.CI) throw new Error(`${what} is missing; .ci/run installs it`);
  ctx.skip();
}
