// python-can programs for CAN tests: Debian's /usr/bin/python3 has python3-can and
// python3-msgpack. Each test's bus is a multicast group and port of its own.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

export const PYTHON_CAN = "/usr/bin/python3";

/** True when Debian's python3 with python-can and msgpack is there. */
export async function pythonCanPresent(): Promise<boolean> {
  if (!existsSync(PYTHON_CAN)) return false;
  const run = spawn(PYTHON_CAN, ["-c", "import can, msgpack"], { stdio: "ignore" });
  return new Promise((resolve) => run.on("exit", (code) => resolve(code === 0)));
}

/** A group and port no other test uses: ff15:7079:7468:6f6e:6465:6d6f:6d63:XXXX, a random port. */
export function testBus(): { group: string; port: number; spec: string } {
  let last = 0x6173;
  while (last === 0x6173) last = 1 + Math.floor(Math.random() * 0xfffe);
  const group = `ff15:7079:7468:6f6e:6465:6d6f:6d63:${last.toString(16)}`;
  const port = 20000 + Math.floor(Math.random() * 30000);
  return { group, port, spec: `udp-multicast:[${group}]:${port}` };
}

export interface PythonCanRun {
  /** Resolves with stdout once the program exits 0; rejects with its stderr otherwise. */
  done: Promise<string>;
  /** Resolves with the first stdout line matching. */
  line(pattern: RegExp, timeout?: number): Promise<RegExpMatchArray>;
  kill(): void;
}

/** Runs a python-can program with `args` (sys.argv[1:]). */
export function pythonCan(script: string, args: string[] = [], timeout = 20000): PythonCanRun {
  const proc = spawn(PYTHON_CAN, ["-u", "-c", script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  proc.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  });
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeout);
  const done = new Promise<string>((resolve, reject) =>
    proc.on("exit", (code, signal) => {
      clearTimeout(timer);
      for (const w of [...waiters]) w();
      if (code === 0) resolve(out);
      else reject(new Error(`python3 exited ${code ?? signal}:\n${err}\nstdout:\n${out}`));
    }),
  );
  done.catch(() => {});
  return {
    done,
    line: (pattern, wait = 10000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            finish();
            resolve(m);
          } else if (proc.exitCode !== null) {
            finish();
            reject(new Error(`python3 ended without printing ${pattern}:\n${out}\n${err}`));
          }
        };
        const t = setTimeout(() => {
          finish();
          reject(new Error(`python3 printed no ${pattern} within ${wait} ms:\n${out}\n${err}`));
        }, wait);
        const finish = () => {
          waiters.delete(check);
          clearTimeout(t);
        };
        waiters.add(check);
        check();
      }),
    kill: () => proc.kill(),
  };
}
