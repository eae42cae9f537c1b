// Boot and console cost of the default firmware in `xsock sim`.
//   npm run bench            (7 boots; BENCH_RUNS=N for more)
// Prints: the median time from start to `ready` (against a bare `node` start, measured in
// the same run), the XS computrons of one `AT` round trip, and the XS heap after boot.
import { spawn } from "node:child_process";
import { createConnection } from "node:net";
import { fileURLToPath } from "node:url";
import { Simulator } from "../host-sim/simulator.ts";

const XSOCK = fileURLToPath(new URL("../bin/xsock.js", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds from spawning `xsock sim` to `ready` on its UART. */
function bootOnce(): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const sim = spawn(process.execPath, [XSOCK, "sim", "--uart", "tcp:0"], { stdio: ["ignore", "pipe", "inherit"] });
    sim.stdout.on("data", (d: Buffer) => {
      const m = /uart listening on tcp:(\d+)/.exec(d.toString());
      if (!m) return;
      const uart = createConnection(Number(m[1]), "127.0.0.1");
      let text = "";
      uart.on("data", (chunk) => {
        text += chunk.toString();
        if (!text.includes("ready\r\n")) return;
        const ms = performance.now() - start;
        uart.destroy();
        sim.kill("SIGTERM");
        sim.on("exit", () => resolve(ms));
      });
    });
    sim.on("error", reject);
  });
}

/** Milliseconds for a bare `node -e 0`: the floor any Node CLI starts from. */
function nodeOnce(): Promise<number> {
  return new Promise((resolve) => {
    const start = performance.now();
    spawn(process.execPath, ["-e", "0"]).on("exit", () => resolve(performance.now() - start));
  });
}

async function atCost(): Promise<{ compute: number; deliveries: number; slots: number; bytes: number }> {
  const sim = await Simulator.start({ uart: "tcp:0", log: () => {} });
  const slots = sim.heap().slots;
  const uart = createConnection(Number(sim.uart.path.slice(4)), "127.0.0.1");
  let text = "";
  let counting = false;
  let compute = 0;
  let deliveries = 0;
  sim.onDelivery = (_kind, meter) => {
    if (!counting) return;
    compute += meter.compute;
    deliveries++;
  };
  await new Promise<void>((resolve) =>
    uart.on("data", (d) => {
      text += d.toString();
      if (text.endsWith("ready\r\n") && !counting) {
        counting = true;
        uart.write("AT\r\n");
      }
      if (text.endsWith("OK\r\n")) resolve();
    }),
  );
  // Let the last delivery's meter arrive.
  await new Promise((r) => setTimeout(r, 50));
  uart.destroy();
  await sim.stop();
  return { compute, deliveries, slots, bytes: slots * 16 };
}

const boots: number[] = [];
const nodes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  boots.push(await bootOnce());
  nodes.push(await nodeOnce());
}
const boot = median(boots);
const node = median(nodes);
const at = await atCost();

console.log(`boot to ready:   median ${boot.toFixed(0)} ms over ${RUNS} runs (bare node start: ${node.toFixed(0)} ms, ratio ${(boot / node).toFixed(1)}x); target < 1500 ms`);
console.log(`AT round trip:   ${at.compute} computrons in ${at.deliveries} XS deliveries`);
console.log(`heap after boot: ${at.slots} XS slots beyond the built-ins and preloaded modules (${at.bytes} bytes at the ESP32's 16-byte slot)`);
