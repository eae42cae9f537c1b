// Many simulated boards in one process, as a CI job would start them with xsock/sim.
//   npm run bench:fleet            (FLEET_MAX=N caps the search; 1,024 by default)
// Starts N boards at once, each booting the ESP-AT modem and answering `AT`, for N = 2, 4, 8, ...
// until a fleet takes 10 s or more, then narrows down the largest N under 10 s; then the same for
// 60 s. Prints, per N, the time against N times one board alone (measured first, in the same run),
// and the memory per board: its XS worker's resident memory (VmRSS: the worker's own pages and the
// shared binary and libc it maps; and its proportional share, Pss, which counts those once across
// the fleet) and this process's growth; and the CPU each board took, in its XS worker and in this
// process, from its start to its OK. Prints the load average, as the boards share the CPU.
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { startSim, type SimBoard } from "../host-sim/api.ts";

const LIMITS_MS = [10_000, 60_000];
const MAX = Number(process.env.FLEET_MAX ?? 1024);
const GOAL_MIB = 16;

/** Resident memory, in kB, and CPU time so far, in ms, of this process's XS workers. */
function workersMemory(): { count: number; rssKb: number; pssKb: number; cpuMs: number } {
  let count = 0;
  let rssKb = 0;
  let pssKb = 0;
  let cpuMs = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (!/^Name:\s+(xsnap|xsock)-worker/m.test(status) || Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== process.pid) continue;
      count++;
      rssKb += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      pssKb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0);
      // Its time on the CPU in ns (the worker has one thread): /proc/PID/stat's ticks of 10 ms would round a board's few ms to 0.
      cpuMs += Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
    } catch {
      // gone meanwhile
    }
  }
  return { count, rssKb, pssKb, cpuMs };
}

interface Run {
  n: number;
  ms: number;
  /** Per board, MiB. */
  rss: number;
  pss: number;
  /** Per board, MiB: what this process grew by, 0 when a collection left it smaller than before. */
  node: number;
  /** CPU per board, ms: in its XS worker, and in this process. */
  workerCpu: number;
  nodeCpu: number;
}

const runs = new Map<number, Run>();

/** Boots n boards at once; each must print ready and answer AT with OK. */
async function fleet(n: number): Promise<Run> {
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const boards: SimBoard[] = [];
  try {
    await Promise.all(
      Array.from({ length: n }, async () => {
        const board = await startSim({ log: () => {} });
        boards.push(board);
        await board.uart.expect("ready\r\n", { timeout: 300_000 });
        board.uart.write("AT\r\n");
        await board.uart.expect("\r\nOK\r\n", { timeout: 300_000 });
      }),
    );
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpuBefore);
    const workers = workersMemory();
    if (workers.count !== n) throw new Error(`expected ${n} XS machines, found ${workers.count}`);
    const mib = (kb: number) => kb / 1024 / n;
    const run = {
      n,
      ms,
      rss: mib(workers.rssKb),
      pss: mib(workers.pssKb),
      node: mib(Math.max(0, process.memoryUsage().rss - rssBefore) / 1024),
      workerCpu: workers.cpuMs / n,
      nodeCpu: (cpu.user + cpu.system) / 1000 / n,
    };
    runs.set(n, run);
    return run;
  } finally {
    await Promise.all(boards.map((b) => b.stop()));
  }
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(", ");
const print = (r: Run, alone: number) =>
  console.log(
    `${String(r.n).padStart(5)} boards: ${(r.ms / 1000).toFixed(2).padStart(6)} s, ${(r.ms / (r.n * alone)).toFixed(2)}x of ${r.n} x one alone; ` +
      `per board ${r.rss.toFixed(1)} MiB resident in its XS worker (Pss ${r.pss.toFixed(1)}) + ${r.node.toFixed(2)} MiB in this process, ` +
      `CPU ${r.workerCpu.toFixed(1)} ms in its XS worker + ${r.nodeCpu.toFixed(1)} ms in this process; load ${load()}`,
  );

console.log(`load average before: ${load()}`);
await fleet(1); // warms up esbuild and the module loader
const one = await fleet(1);
const alone = one.ms;
console.log(`one board alone: ${alone.toFixed(0)} ms to ready and OK, CPU ${one.workerCpu.toFixed(0)} ms in its XS worker + ${one.nodeCpu.toFixed(0)} ms in this process`);

/** The largest fleet under `limit`: doubling from the last good one, then narrowing down. */
async function largest(limit: number, from: number): Promise<{ good?: Run; bad?: Run }> {
  let good: Run | undefined = runs.get(from);
  let bad: Run | undefined;
  for (let n = from * 2; n <= MAX; n *= 2) {
    const cached = runs.get(n);
    const r = cached ?? (await fleet(n));
    if (!cached) print(r, alone);
    if (r.ms >= limit) {
      bad = r;
      break;
    }
    good = r;
  }
  if (good && !bad && good.n * 2 > MAX && good.n < MAX) {
    const r = await fleet(MAX);
    print(r, alone);
    if (r.ms >= limit) bad = r;
    else good = r;
  }
  for (let step = 0; good && bad && bad.n - good.n > Math.max(2, good.n / 8) && step < 3; step++) {
    const r = await fleet(Math.round((good.n + bad.n) / 2));
    print(r, alone);
    if (r.ms >= limit) bad = r;
    else good = r;
  }
  return { good, bad };
}

let from = 1;
for (const limit of LIMITS_MS) {
  const { good, bad } = await largest(limit, from);
  if (!good) {
    console.log(`no fleet under ${limit / 1000} s`);
    continue;
  }
  console.log(
    `largest fleet under ${limit / 1000} s: ${good.n} boards in ${(good.ms / 1000).toFixed(2)} s` +
      `${bad ? ` (${bad.n} took ${(bad.ms / 1000).toFixed(2)} s)` : ` (FLEET_MAX ${MAX} reached)`}; ` +
      `${good.rss.toFixed(1)} MiB resident per board in its XS worker (goal ${GOAL_MIB}), Pss ${good.pss.toFixed(1)}, + ${good.node.toFixed(2)} MiB in Node; ` +
      `CPU per board ${good.workerCpu.toFixed(1)} ms in its XS worker + ${good.nodeCpu.toFixed(1)} ms in Node`,
  );
  from = good.n;
}
console.log(`load average after: ${load()}`);
