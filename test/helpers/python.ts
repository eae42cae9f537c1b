// Runs a python3 program: the standard library only, as the seeds' clients are written, on the
// python3 on PATH; or on Debian's (SYSTEM_PYTHON), which has python3-can and python3-serial.
import { spawn } from "node:child_process";

export interface PythonRun {
  /** Resolves with stdout once the program exits 0; rejects with its stderr otherwise. */
  done: Promise<string>;
  /** Resolves with the first stdout line matching, for programs that keep running. */
  line(pattern: RegExp, timeout?: number): Promise<RegExpMatchArray>;
  kill(): void;
}

/** Debian's python3, where python3-can and python3-serial install. */
export const SYSTEM_PYTHON = "/usr/bin/python3";

export function python(script: string, args: string[] = [], timeout = 15000, interpreter = "python3"): PythonRun {
  const proc = spawn(interpreter, ["-u", "-c", script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
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
    proc.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`python3 exited ${code}:\n${err}\nstdout:\n${out}`));
    }),
  );
  done.catch(() => {});
  return {
    done,
    line: (pattern, wait = 5000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(t);
          resolve(m);
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`python3 printed no ${pattern} within ${wait} ms:\n${out}\n${err}`));
        }, wait);
        waiters.add(check);
        check();
      }),
    kill: () => proc.kill(),
  };
}
