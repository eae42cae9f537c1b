// Where the time of unpaced passthrough and of a socket-module round trip goes: the CPU each
// process spends (the client, `xsock sim`'s Node, its pty relay, its XS worker) and the XS
// deliveries it takes, by kind, per MiB bridged each way and per round trip. CPU time and
// counts swing far less than wall-clock ratios on a shared machine.
//   npm run bench:stages   (BENCH_STAGES_MB=16, BENCH_STAGES_TRIPS=10000)
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { startSim, type SimProcess } from "../test/helpers/sim.ts";
import { UartClient } from "../test/helpers/uart.ts";
import { onDeliveries } from "./deliveries.ts";

const BYTES = Number(process.env.BENCH_STAGES_MB ?? 16) * 1024 * 1024;
const TRIPS = Number(process.env.BENCH_STAGES_TRIPS ?? 10000);
const MIB = BYTES / 1024 / 1024;

/** CPU ms a process has spent (utime + stime, at Linux's 100 ticks a second). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
const childrenOf = (pid: number) =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
const nameOf = (pid: number) => readFileSync(`/proc/${pid}/comm`, "utf8").trim();

/** The simulator's processes (Node, the relay, the worker), named, and this one's CPU. */
function processes(sim: SimProcess): { names: string[]; sample(): number[] } {
  const pids = [sim.proc.pid!, ...childrenOf(sim.proc.pid!).filter((p) => nameOf(p) !== "esbuild")];
  const names = ["client", ...pids.map((p) => (p === sim.proc.pid ? "node" : nameOf(p)))];
  return {
    names,
    sample: () => {
      const self = process.cpuUsage();
      return [(self.user + self.system) / 1000, ...pids.map(cpuMs)];
    },
  };
}

/** Counts `xsock sim -v`'s deliveries by kind while `on`. */
function deliveryCounter(sim: SimProcess): { on: boolean; kinds: Map<string, number> } {
  const counter = { on: false, kinds: new Map<string, number>() };
  onDeliveries(sim, (kind) => {
    if (counter.on) counter.kinds.set(kind, (counter.kinds.get(kind) ?? 0) + 1);
  });
  return counter;
}

const perUnit = (names: string[], before: number[], after: number[], units: number, unit: string) =>
  names.map((n, i) => `${n} ${(((after[i] - before[i]) * (unit === "us" ? 1000 : 1)) / units).toFixed(1)}`).join(", ") + ` ${unit}`;
const kindsPer = (kinds: Map<string, number>, units: number) =>
  [...kinds].map(([k, n]) => `${k} ${(n / units).toFixed(n / units < 10 ? 2 : 0)}`).join(", ");

/** Bridges BYTES each way in passthrough: prints MB/s and the CPU a MiB, or (`verbose`, `xsock sim -v`) the deliveries a MiB. */
async function passthrough(verbose: boolean): Promise<void> {
  let accept!: (s: Socket) => void;
  const accepted = new Promise<Socket>((r) => (accept = r));
  const server = createServer({ noDelay: true }, (s) => accept(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const sim = await startSim(verbose ? ["-v"] : []);
  const counter = deliveryCounter(sim);
  const uart = await UartClient.open(sim.uart);
  await uart.expect("ready\r\n", 10000);
  for (const command of ["ATE0", 'AT+CWJAP="xsock-sim",""', "AT+CIPMODE=1", `AT+CIPSTART="TCP","127.0.0.1",${(server.address() as { port: number }).port}`])
    await uart.command(command);
  await uart.write("AT+CIPSEND\r\n");
  await uart.expect(">");
  const peer = await accepted;
  const procs = processes(sim);
  const oneWay = async (name: string, send: (data: Buffer) => Promise<void>, source: { on(e: "data", f: (d: Buffer) => void): unknown; off(e: "data", f: (d: Buffer) => void): unknown }) => {
    let got = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const onData = (d: Buffer) => (got += d.length) >= BYTES && done();
    source.on("data", onData);
    counter.kinds.clear();
    counter.on = true;
    const before = procs.sample();
    const start = performance.now();
    await send(randomBytes(BYTES));
    await finished;
    const seconds = (performance.now() - start) / 1000;
    const after = procs.sample();
    await new Promise((r) => setTimeout(r, 200)); // the last deliveries' lines
    counter.on = false;
    source.off("data", onData);
    if (verbose) console.log(`  ${name}: deliveries a MiB: ${kindsPer(counter.kinds, MIB)}`);
    else console.log(`${name}: ${(BYTES / 1e6 / seconds).toFixed(1)} MB/s; CPU a MiB: ${perUnit(procs.names, before, after, MIB, "ms")}`);
  };
  await oneWay("UART->TCP", async (data) => {
    for (let at = 0; at < data.length; at += 65536) await uart.write(data.subarray(at, at + 65536));
  }, peer);
  await oneWay("TCP->UART", async (data) => {
    for (let at = 0; at < data.length; at += 65536) if (!peer.write(data.subarray(at, at + 65536))) await new Promise((r) => peer.once("drain", r));
  }, uart.port);
  await uart.close();
  peer.destroy();
  server.close();
  await sim.stop();
}

/** Sequential 32-byte round trips through bench/apps/bulk's xsock/socket echo: the same figures, each. */
async function roundTrips(verbose: boolean): Promise<void> {
  const sim = await startSim(["bench/apps/bulk", "mode=echo", ...(verbose ? ["-v"] : [])], "tcp:0");
  const port = Number((await sim.waitLog(/bulk echo on (\d+)/))[1]);
  const counter = deliveryCounter(sim);
  const s = createConnection(port, "127.0.0.1");
  s.setNoDelay(true);
  await new Promise((r) => s.once("connect", r));
  const msg = Buffer.alloc(32, 0x61);
  const trips = async (n: number) => {
    for (let i = 0; i < n; i++)
      await new Promise<void>((resolve) => {
        let got = 0;
        const onData = (d: Buffer) => {
          if ((got += d.length) < msg.length) return;
          s.off("data", onData);
          resolve();
        };
        s.on("data", onData);
        s.write(msg);
      });
  };
  await trips(500);
  const procs = processes(sim);
  counter.kinds.clear();
  counter.on = true;
  const before = procs.sample();
  const start = performance.now();
  await trips(TRIPS);
  const seconds = (performance.now() - start) / 1000;
  const after = procs.sample();
  await new Promise((r) => setTimeout(r, 200));
  counter.on = false;
  if (verbose) console.log(`  round trip: deliveries each: ${kindsPer(counter.kinds, TRIPS)}`);
  else console.log(`round trips: ${(TRIPS / seconds).toFixed(0)}/s; CPU each: ${perUnit(procs.names, before, after, TRIPS, "us")}`);
  s.destroy();
  await sim.stop();
}

// The counts come from separate `-v` runs: logging each delivery costs time.
await passthrough(false);
await passthrough(true);
await roundTrips(false);
await roundTrips(true);
process.exit(0);
