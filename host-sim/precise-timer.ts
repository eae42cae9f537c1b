// Timeouts finer than Node's, whose timers tick in whole milliseconds: a worker thread sleeps
// on a futex (Atomics.wait takes fractions of a millisecond) until the earliest deadline, then
// posts back. The paced UART needs them: at 921600 baud a 6-byte reply lasts 65 µs on the wire.
import { Worker } from "node:worker_threads";

/** process.hrtime in ms: one clock for both threads. */
const clock = () => {
  const [s, ns] = process.hrtime();
  return s * 1000 + ns / 1e6;
};

// The worker waits until the deadline, or until the generation changes (a new deadline); it
// posts once a generation, and never sleeps past 100 ms, so it stops soon when Node exits.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const generation = new Int32Array(workerData, 0, 1);
const deadline = new Float64Array(workerData, 8, 1);
const clock = () => { const [s, ns] = process.hrtime(); return s * 1000 + ns / 1e6; };
let fired = -1;
for (;;) {
  const gen = Atomics.load(generation, 0);
  const wait = deadline[0] - clock();
  if (gen !== fired && wait <= 0) {
    fired = gen;
    parentPort.postMessage(gen);
  } else Atomics.wait(generation, 0, gen, gen === fired ? 100 : Math.min(100, wait));
}
`;

interface Timeout {
  at: number;
  fn: () => void;
}

let worker: Worker | undefined;
let generation: Int32Array;
let deadline: Float64Array;
const pending = new Set<Timeout>();

/** Tells the worker the earliest deadline; it keeps Node running only while one is pending. */
function arm(): void {
  let at = Infinity;
  for (const t of pending) at = Math.min(at, t.at);
  deadline[0] = at;
  Atomics.add(generation, 0, 1);
  Atomics.notify(generation, 0);
  if (pending.size) worker!.ref();
  else worker!.unref();
}

function fire(): void {
  const now = clock();
  for (const t of [...pending]) {
    if (t.at > now) continue;
    pending.delete(t);
    t.fn();
  }
  arm();
}

function start(): Worker {
  const shared = new SharedArrayBuffer(16);
  generation = new Int32Array(shared, 0, 1);
  deadline = new Float64Array(shared, 8, 1);
  deadline[0] = Infinity;
  const w = new Worker(WORKER, { eval: true, workerData: shared });
  w.on("message", fire);
  w.unref();
  return w;
}

/** Calls `fn` after `ms`, a fraction of a millisecond or more; returns what cancels it. */
export function preciseTimeout(fn: () => void, ms: number): () => void {
  worker ??= start();
  const timeout = { at: clock() + ms, fn };
  pending.add(timeout);
  arm();
  return () => {
    if (pending.delete(timeout)) arm();
  };
}
