// CAN frames into a simulated board over python-can's udp_multicast transport.
//   npm run bench:can
// A sender process offers 8-byte frames to a multicast group of the bench's own at a rising
// rate; the board (bench/apps/can-sink, on xsock/can and the TWAI model; BENCH_BOARD names another
// board file, such as test/fixtures/boards/nodemcu-mcp2515.json) counts them. It prints
// the highest rate the board receives with none lost, the same for a plain Node udp6 multicast
// receiver of the same datagrams (decoding each with msgpack) measured in the same run, their
// ratio, and the XS computrons per frame received at the board's best rate.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BusFrame, BusNode } from "../host-sim/devices/can-bus.ts";
import { busFrame } from "../host-sim/devices/can-message.ts";
import { packMessage } from "../host-sim/devices/can-udp.ts";
import { Simulator } from "../host-sim/simulator.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
/** Another board file (BENCH_BOARD=test/fixtures/boards/nodemcu-mcp2515.json: an MCP2515 on SPI). */
const BOARD = process.env.BENCH_BOARD;
const RATES = [1000, 2000, 4000, 8000, 16000, 32000, 64000];
/** Bisection steps between the best rate without loss and the first with. */
const REFINE = 3;

const last = 1 + Math.floor(Math.random() * 0xfffe);
const GROUP = `ff15:7079:7468:6f6e:6465:6d6f:6d63:${(last === 0x6173 ? 1 : last).toString(16)}`;
const PORT = 20000 + Math.floor(Math.random() * 30000);

// The datagram python-can would send for an 8-byte standard frame; bytes 0-3 of its data carry a sequence number.
const MARK = [0xde, 0xad, 0xbe, 0xef];
const TEMPLATE = Buffer.from(packMessage(busFrame({ arbitration_id: 0x100, is_extended_id: false, data: [...MARK, 0, 0, 0, 0] })));
const SEQUENCE_AT = TEMPLATE.indexOf(Buffer.from(MARK));

/** Offers `rate` frames a second for SECONDS; resolves with the frames sent and the rate achieved. */
function offer(rate: number): Promise<{ sent: number; rate: number }> {
  const code = `
const dgram = require("node:dgram");
const [group, port, rate, seconds, hex, at] = process.argv.slice(1);
const template = Buffer.from(hex, "hex");
const total = Math.round(Number(rate) * Number(seconds));
const s = dgram.createSocket("udp6");
s.bind(0, "::", () => {
  s.setMulticastTTL(1);
  let sent = 0;
  let done = 0;
  const t0 = performance.now();
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * Number(rate)));
    for (; sent < due; sent++) {
      const b = Buffer.from(template);
      b.writeUInt32LE(sent, Number(at));
      s.send(b, Number(port), group, () => {
        if (++done === total) {
          console.log(JSON.stringify({ sent: total, rate: total / ((performance.now() - t0) / 1000) }));
          s.close();
        }
      });
    }
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
});`;
  const proc = spawn(process.execPath, ["-e", code, GROUP, String(PORT), String(rate), String(SECONDS), TEMPLATE.toString("hex"), String(SEQUENCE_AT)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => proc.on("exit", (c) => (c === 0 ? resolve(JSON.parse(out) as { sent: number; rate: number }) : reject(new Error(`the sender exited ${c}`)))));
}

/** The reference: a plain Node receiver in a process of its own, joined to the group, decoding each datagram. */
async function reference(rate: number): Promise<{ sent: number; received: number }> {
  const code = `
const dgram = require("node:dgram");
const { decode } = require("@msgpack/msgpack");
const [group, port] = process.argv.slice(1);
const s = dgram.createSocket({ type: "udp6", reuseAddr: true });
let received = 0;
s.on("message", (m) => { if (decode(m).dlc === 8) received++; });
s.bind(Number(port), group, () => { s.addMembership(group); console.log("ready"); });
process.stdin.on("data", () => { console.log(received); process.exit(0); });`;
  const proc = spawn(process.execPath, ["-e", code, GROUP, String(PORT)], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  proc.stdout.on("data", (d: Buffer) => {
    lines.push(...d.toString().trim().split("\n"));
    wake?.();
  });
  const line = async () => {
    while (!lines.length) await new Promise<void>((r) => (wake = r));
    return lines.shift()!;
  };
  await line();
  const { sent } = await offer(rate);
  await new Promise((r) => setTimeout(r, 300));
  proc.stdin.write("report\n");
  return { sent, received: Number(await line()) };
}

/** The board, with a node of the bench's on its bus that asks for the count. */
async function board(): Promise<{ sim: Simulator; count(): Promise<number> }> {
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  const sim = await Simulator.start({
    app: `${ROOT}/bench/apps/can-sink`,
    board: BOARD,
    uart: "memory",
    can: { transport: "udp-multicast", group: GROUP, port: PORT },
    log: (line) => {
      if (line === "sink: ready") resolveReady();
      else if (!line.startsWith("sim: the CAN bus")) console.error(line);
    },
  });
  await ready;
  let answer: ((n: number) => void) | undefined;
  const node: BusNode = {
    receive(frame: BusFrame) {
      if (frame.arbitration_id === 0x7fe && !frame.is_extended_id) answer?.(Buffer.from(frame.data).readUInt32LE(0));
    },
  };
  sim.can.attach(node);
  const count = () =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the board did not report its count")), 5000);
      answer = (n) => {
        clearTimeout(timer);
        resolve(n);
      };
      sim.can.send(busFrame({ arbitration_id: 0x7ff, is_extended_id: false }), node);
    });
  return { sim, count };
}

interface Run {
  rate: number;
  achieved: number;
  lost: number;
  computrons?: number;
  deliveries?: number;
}

interface Target {
  name: string;
  measure(rate: number): Promise<Run>;
  /** The best run without loss, and the first with. */
  best?: Run;
  failed?: Run;
}

async function record(target: Target, rate: number): Promise<void> {
  const run = await target.measure(rate);
  console.log(`  ${target.name.padEnd(9)} ${String(rate).padStart(6)} frames/s offered (${run.achieved.toFixed(0)} sent/s): ${run.lost} lost`);
  if (run.lost) target.failed = run;
  else target.best = run;
}

/**
 * Sweeps the offered rate up to each target's first loss, then bisects between its best rate
 * and that. The targets take turns at each rate, so a change in the machine's load touches both.
 */
async function sweep(targets: Target[]): Promise<void> {
  for (const rate of RATES) {
    for (const t of targets) if (!t.failed) await record(t, rate);
    if (targets.every((t) => t.failed)) break;
  }
  for (let i = 0; i < REFINE; i++) for (const t of targets) if (t.failed) await record(t, Math.round(((t.best?.rate ?? 0) + t.failed.rate) / 2));
}

console.log(`CAN frames into the board over udp_multicast [${GROUP}]:${PORT}, ${SECONDS} s a rate`);
const { sim, count } = await board();
let counting = false;
let compute = 0;
let deliveries = 0;
sim.onDelivery = (kind, meter) => {
  // The controller's deliveries: TWAI alerts, or the MCP2515's INT line.
  if (!counting || (kind !== "twai" && kind !== "digital")) return;
  compute += meter.compute;
  deliveries++;
};
const boardTarget: Target = {
  name: "board",
  async measure(rate) {
    const before = await count();
    compute = deliveries = 0;
    counting = true;
    const { sent, rate: achieved } = await offer(rate);
    await new Promise((r) => setTimeout(r, 300));
    counting = false;
    const received = (await count()) - before;
    return { rate, achieved, lost: sent - received, computrons: received ? compute / received : 0, deliveries: deliveries ? received / deliveries : 0 };
  },
};
const refTarget: Target = {
  name: "reference",
  async measure(rate) {
    const { sent, received } = await reference(rate);
    return { rate, achieved: rate, lost: sent - received };
  },
};
await sweep([boardTarget, refTarget]);
await sim.stop();
const boardResult = boardTarget;
const refResult = refTarget;

const figure = (r: { best?: Run; failed?: Run }) => (r.best ? `${r.best.rate}${r.failed ? "" : "+"}` : "0");
const boardBest = boardResult.best?.rate ?? 0;
const refBest = refResult.best?.rate ?? 0;
console.log(
  `received without loss: ${figure(boardResult)} frames/s (reference, a Node udp6 receiver: ${figure(refResult)} frames/s): ratio ${refBest ? (boardBest / refBest).toFixed(2) : "n/a"}x` +
    `${refResult.failed ? "" : "; the reference lost none at the highest rate offered, so the ratio is an upper bound"}`,
);
if (boardResult.best)
  console.log(`XS cost: ${boardResult.best.computrons!.toFixed(0)} computrons a frame at ${boardResult.best.rate} frames/s (${boardResult.best.deliveries!.toFixed(1)} frames a delivery)`);
console.log("for scale: a 500 kbit/s bus carries at most 4500 such frames a second (111 bits each, before stuffing), 1 Mbit/s 9000");
