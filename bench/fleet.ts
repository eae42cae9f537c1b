// Many simulated boards in one process, as a CI job would start them with xsock/sim.
//   npm run bench:fleet            (FLEET_MAX=N caps the search; 512 by default)
// Starts N boards at once, each booting the ESP-AT modem and answering `AT`, for N = 1, 2, 4, ...
// until a fleet takes 10 s or more, then narrows down the largest N under 10 s. Prints, per N,
// the time against N times one board alone (measured first, in the same run), and the memory per
// board: the XS machines' resident memory (their xsnap-worker processes) and this process's growth.
import { readdirSync, readFileSync } from "node:fs";
import { startSim, type SimBoard } from "../host-sim/api.ts";

const LIMIT_MS = 10_000;
const MAX = Number(process.env.FLEET_MAX ?? 512);

/** Resident kB of this process's xsnap-worker children. */
function workersRss(): { count: number; kb: number } {
  let count = 0;
  let kb = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (!/^Name:\s+xsnap-worker/m.test(status) || Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== process.pid) continue;
      count++;
      kb += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return { count, kb };
}

interface Run {
  n: number;
  ms: number;
  workerKb: number;
  nodeKb: number;
}

/** Boots n boards at once; each must print ready and answer AT with OK. */
async function fleet(n: number): Promise<Run> {
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const start = performance.now();
  const boards: SimBoard[] = [];
  try {
    await Promise.all(
      Array.from({ length: n }, async () => {
        const board = await startSim({ log: () => {} });
        boards.push(board);
        await board.uart.expect("ready\r\n", { timeout: 60_000 });
        board.uart.write("AT\r\n");
        await board.uart.expect("\r\nOK\r\n", { timeout: 60_000 });
      }),
    );
    const ms = performance.now() - start;
    const workers = workersRss();
    if (workers.count !== n) throw new Error(`expected ${n} XS machines, found ${workers.count}`);
    return { n, ms, workerKb: workers.kb / n, nodeKb: (process.memoryUsage().rss - rssBefore) / 1024 / n };
  } finally {
    await Promise.all(boards.map((b) => b.stop()));
  }
}

const print = (r: Run, alone: number) =>
  console.log(
    `${String(r.n).padStart(4)} boards: ${(r.ms / 1000).toFixed(2).padStart(6)} s, ${(r.ms / (r.n * alone)).toFixed(2)}x of ${r.n} x one alone; ` +
      `per board ${(r.workerKb / 1024).toFixed(1)} MiB in its XS machine + ${(r.nodeKb / 1024).toFixed(2)} MiB in this process`,
  );

await fleet(1); // warms up esbuild and the module loader
const alone = (await fleet(1)).ms;
console.log(`one board alone: ${alone.toFixed(0)} ms to ready and OK`);

let good: Run | undefined;
let bad: Run | undefined;
for (let n = 2; n <= MAX; n *= 2) {
  const r = await fleet(n);
  print(r, alone);
  if (r.ms >= LIMIT_MS) {
    bad = r;
    break;
  }
  good = r;
}
// Narrow down between the last fleet under the limit and the first over it.
for (let step = 0; good && bad && bad.n - good.n > Math.max(2, good.n / 8) && step < 3; step++) {
  const r = await fleet(Math.round((good.n + bad.n) / 2));
  print(r, alone);
  if (r.ms >= LIMIT_MS) bad = r;
  else good = r;
}
if (good)
  console.log(
    `largest fleet under ${LIMIT_MS / 1000} s: ${good.n} boards in ${(good.ms / 1000).toFixed(2)} s` +
      `${bad ? ` (${bad.n} took ${(bad.ms / 1000).toFixed(2)} s)` : ` (FLEET_MAX ${MAX} reached)`}; ` +
      `${(good.workerKb / 1024).toFixed(1)} MiB per board in XS + ${(good.nodeKb / 1024).toFixed(2)} MiB in Node`,
  );
