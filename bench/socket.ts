// xsock/socket in `xsock sim`, against plain node:net servers measured in the same run.
//   npm run bench:socket
// Prints round trips per second and bulk TCP throughput both ways, each as a ratio to the
// node:net reference, and the XS heap an open idle TCP socket costs; issue 23's goals beside
// the two it sets them for (round trips, the idle socket).
import { spawn, type ChildProcess } from "node:child_process";
import { createConnection, type Socket } from "node:net";
import { appBoard, idleSocketSlots } from "./costs.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const BULK = Number(process.env.BENCH_BULK_MB ?? 16) * 1024 * 1024;
const SLOT_BYTES = 16; // an XS slot on the ESP32's 32-bit XS

/** A node:net server in a child process, as the simulator is one: echo, sink or source. */
function reference(mode: "echo" | "sink" | "source"): Promise<{ port: number; proc: ChildProcess }> {
  const code = `
const net = require("net");
const block = Buffer.alloc(65536, 0x78);
const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (c) => {
  if (${JSON.stringify(mode)} === "echo") c.pipe(c);
  else if (${JSON.stringify(mode)} === "sink") { let n = 0; c.on("data", (d) => (n += d.length)); c.on("end", () => c.end(n + "\\n")); }
  else { let left = ${BULK}; const pump = () => { while (left > 0) { const b = block.subarray(0, Math.min(left, block.length)); left -= b.length; if (!c.write(b)) return c.once("drain", pump); } c.end(); }; pump(); }
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));`;
  const proc = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve) => proc.stdout!.once("data", (d: Buffer) => resolve({ port: Number(d.toString()), proc })));
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(port, "127.0.0.1", () => resolve(s));
    s.setNoDelay(true);
    s.on("error", reject);
  });
}

/** Sequential 32-byte round trips for SECONDS; returns round trips per second. */
async function roundTrips(port: number): Promise<number> {
  const s = await connect(port);
  const msg = Buffer.alloc(32, 0x61);
  let count = 0;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    await new Promise<void>((resolve) => {
      let got = 0;
      const onData = (d: Buffer) => {
        got += d.length;
        if (got >= msg.length) {
          s.off("data", onData);
          resolve();
        }
      };
      s.on("data", onData);
      s.write(msg);
    });
    count++;
  }
  s.destroy();
  return count / SECONDS;
}

/** MB/s sending BULK bytes to a sink that answers with the count. */
async function upload(port: number): Promise<number> {
  const s = await connect(port);
  const block = Buffer.alloc(65536, 0x78);
  const start = performance.now();
  const answer = new Promise<string>((resolve) => {
    let text = "";
    s.on("data", (d) => (text += d.toString()));
    s.on("end", () => resolve(text));
  });
  for (let left = BULK; left > 0; left -= block.length) if (!s.write(block)) await new Promise((r) => s.once("drain", r));
  s.end();
  const counted = Number((await answer).trim());
  if (counted !== BULK) throw new Error(`the sink counted ${counted} of ${BULK} bytes`);
  return BULK / 1e6 / ((performance.now() - start) / 1000);
}

/** MB/s receiving BULK bytes from a source. */
async function download(port: number): Promise<number> {
  const s = await connect(port);
  const start = performance.now();
  let got = 0;
  await new Promise<void>((resolve) => {
    s.on("data", (d) => (got += d.length));
    s.on("end", () => resolve());
  });
  if (got !== BULK) throw new Error(`received ${got} of ${BULK} bytes`);
  return BULK / 1e6 / ((performance.now() - start) / 1000);
}

/** Issue 23 sets a goal for the round trips' ratio alone; bulk transfer is shown beside its reference. */
const ROUND_TRIP_GOAL = 0.5;
const ratio = (name: string, unit: string, ours: number, ref: number, goal?: number) =>
  console.log(
    `${name.padEnd(22)} ${ours.toFixed(1).padStart(8)} ${unit} (node:net ${ref.toFixed(1)} ${unit}): ratio ${(ours / ref).toFixed(2)}x${goal === undefined ? "" : ` (goal >= ${goal}x)`}`,
  );

{
  const ref = await reference("echo");
  const sim = await appBoard("bench/apps/bulk", { mode: "echo" });
  ratio("round trips", "/s", await roundTrips(sim.port), await roundTrips(ref.port), ROUND_TRIP_GOAL);
  await sim.sim.stop();
  ref.proc.kill();
}
{
  const ref = await reference("sink");
  const sim = await appBoard("bench/apps/bulk", { mode: "sink" });
  ratio("bulk to the board", "MB/s", await upload(sim.port), await upload(ref.port));
  await sim.sim.stop();
  ref.proc.kill();
}
{
  const ref = await reference("source");
  const sim = await appBoard("bench/apps/bulk", { mode: "source", size: BULK });
  ratio("bulk from the board", "MB/s", await download(sim.port), await download(ref.port));
  await sim.sim.stop();
  ref.proc.kill();
}
{
  const perSocket = await idleSocketSlots();
  console.log(`idle TCP socket        ${perSocket} XS slots = ${perSocket * SLOT_BYTES} bytes at ${SLOT_BYTES} bytes a slot (goal <= 768): each of 4 sockets opened after a first`);
}
