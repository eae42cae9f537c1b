// ESP-AT passthrough (AT+CIPMODE=1, AT+CIPSEND) through `xsock sim`'s console pty, against
// socat bridging a pty to TCP, measured in the same run with the same client code.
//   npm run bench:at   (BENCH_AT_MB=4 unpaced, BENCH_AT_RUNS=3, BENCH_AT_PACED_KB=256 at 921600 baud)
// Prints the median MB/s each way and the ratio to socat (target >= 0.5x), the fraction of
// the line rate at --baud 921600 (target >= 0.95), bytes lost, and XS computrons per KiB
// bridged. TLS passthrough (AT+CIPSTART="SSL" to a node:tls peer) is a ratio to the plain TCP
// passthrough of the same run, with the computrons of its handshake (AT+CIPSTART's, from the
// line to its OK). The computrons come from a separate `xsock sim -v` run, as logging every
// delivery slows the simulator. The unpaced TCP passthrough runs again with `--pcap`, with
// `--trace` and with both, each as a ratio to the run without (target >= 0.8x: capturing must
// not change what it observes). Exits 1 if any byte is lost or wrong.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { have, startSim, type SimProcess } from "../test/helpers/sim.ts";
import { UartClient } from "../test/helpers/uart.ts";
import { onDeliveries } from "./deliveries.ts";

const UNPACED_BYTES = Number(process.env.BENCH_AT_MB ?? 4) * 1024 * 1024;
const RUNS = Number(process.env.BENCH_AT_RUNS ?? 3);
const PACED_BYTES = Number(process.env.BENCH_AT_PACED_KB ?? 256) * 1024;
const PACED_BAUD = 921600;
const WRITE_CHUNK = 64 * 1024;
/** A transfer that makes no progress for this long is over: what is missing is lost. */
const STALL_MS = 5000;

/** A pty on one side, a TCP connection to our peer on the other. */
interface Bridge {
  uart: UartClient;
  peer: Socket;
  /** XS computrons counted while counting is on (xsock only). */
  computrons?: { on: boolean; total: number };
  /** The computrons of AT+CIPSTART, counted with the others (xsock only). */
  handshake?: number;
  close(): Promise<void>;
}

interface Transfer {
  seconds: number;
  /** Bytes that never arrived. */
  lost: number;
  /** Bytes that arrived different, or beyond the end. */
  wrong: number;
  computrons?: number;
}

/** The tests' self-signed certificate, for the TLS peer. */
const tlsFixture = (name: string) => readFileSync(new URL(`../test/fixtures/tls/${name}`, import.meta.url));

/** A loopback TCP (or TLS) server; resolves the first connection it accepts. */
async function peerServer(tls = false): Promise<{ server: Server; port: number; accepted: Promise<Socket> }> {
  let accept!: (s: Socket) => void;
  const accepted = new Promise<Socket>((r) => (accept = r));
  const onConnection = (s: Socket) => {
    s.on("error", () => {});
    accept(s);
  };
  const server = tls
    ? createTlsServer({ cert: tlsFixture("cert.pem"), key: tlsFixture("key.pem") }, (s) => onConnection(s.setNoDelay(true)))
    : createServer({ noDelay: true }, onConnection);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, port: (server.address() as { port: number }).port, accepted };
}

const check = (got: string, want: string, what: string) => {
  if (got !== want) throw new Error(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
};

/** Sums the computrons of `xsock sim -v`'s deliveries while `on`. */
function countComputrons(sim: SimProcess): { on: boolean; total: number } {
  const counter = { on: false, total: 0 };
  onDeliveries(sim, (_kind, computrons) => {
    if (counter.on) counter.total += computrons;
  });
  return counter;
}

/** Stops a count once the last deliveries' meters have arrived; returns it. */
async function settledCount(counter: { on: boolean; total: number }): Promise<number> {
  await new Promise((r) => setTimeout(r, 200));
  counter.on = false;
  return counter.total;
}

/** `xsock sim` in passthrough to our peer, set up over the console as a host would. */
async function xsockBridge(options: { baud?: number; countComputrons?: boolean; tls?: boolean; pcap?: string; trace?: string } = {}): Promise<Bridge> {
  const { server, port, accepted } = await peerServer(options.tls);
  const sim = await startSim([
    ...(options.baud ? ["--baud", String(options.baud)] : []),
    ...(options.countComputrons ? ["-v"] : []),
    ...(options.pcap ? ["--pcap", options.pcap] : []),
    ...(options.trace ? ["--trace", options.trace] : []),
  ]);
  const computrons = options.countComputrons ? countComputrons(sim) : undefined;
  const uart = await UartClient.open(sim.uart);
  await uart.expect("ready\r\n", 10000);
  check(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n", "ATE0");
  check(await uart.command('AT+CWJAP="xsock-sim",""'), "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n", "AT+CWJAP");
  check(await uart.command("AT+CIPMODE=1"), "\r\nOK\r\n", "AT+CIPMODE=1");
  if (computrons) Object.assign(computrons, { on: true, total: 0 });
  check(await uart.command(`AT+CIPSTART="${options.tls ? "SSL" : "TCP"}","127.0.0.1",${port}`), "CONNECT\r\n\r\nOK\r\n", "AT+CIPSTART");
  const handshake = computrons && (await settledCount(computrons));
  await uart.write("AT+CIPSEND\r\n");
  check(await uart.expect(">"), "\r\nOK\r\n\r\n>", "AT+CIPSEND");
  const peer = await accepted;
  return {
    uart,
    peer,
    computrons,
    handshake,
    async close() {
      try {
        // `+++` alone leaves passthrough; the console must still answer.
        if (uart.pending) await uart.expect(uart.pending.slice(-16));
        await new Promise((r) => setTimeout(r, 50));
        await uart.write("+++");
        await new Promise((r) => setTimeout(r, 100));
        check(await uart.command("AT"), "\r\nOK\r\n", "AT after +++");
      } finally {
        await uart.close();
        peer.destroy();
        server.close();
        await sim.stop();
      }
    },
  };
}

/** socat bridging a pty to our peer: the reference. */
async function socatBridge(): Promise<Bridge> {
  const { server, port, accepted } = await peerServer();
  const socat = spawn("socat", ["-d", "-d", "PTY,raw,echo=0", `TCP:127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<void>((r) => socat.on("exit", () => r()));
  const path = await new Promise<string>((resolve, reject) => {
    let text = "";
    socat.stderr.on("data", (d: Buffer) => {
      text += d.toString();
      const m = /PTY is (\S+)/.exec(text);
      if (m) resolve(m[1]);
    });
    socat.on("exit", (code) => reject(new Error(`socat exited (${code}): ${text}`)));
  });
  const peer = await accepted;
  const uart = await UartClient.open(path);
  return {
    uart,
    peer,
    async close() {
      await uart.close();
      peer.destroy();
      socat.kill();
      await exited;
      server.close();
    },
  };
}

/**
 * Sends `data` with `send` while `listen` collects what arrives at the other end; times from
 * the first byte sent to the last byte received, and compares byte for byte.
 */
async function transfer(bridge: Bridge, data: Buffer, send: (data: Buffer) => Promise<void>, listen: (onData: (d: Buffer) => void) => () => void): Promise<Transfer> {
  const got = Buffer.alloc(data.length);
  let received = 0;
  let extra = 0;
  let lastAt = performance.now();
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const unlisten = listen((d) => {
    const fits = Math.min(d.length, data.length - received);
    d.copy(got, received, 0, fits);
    received += fits;
    extra += d.length - fits;
    lastAt = performance.now();
    if (received === data.length) done();
  });
  const watchdog = setInterval(() => performance.now() - lastAt > STALL_MS && done(), 100);
  if (bridge.computrons) Object.assign(bridge.computrons, { on: true, total: 0 });
  const start = performance.now();
  lastAt = start;
  const sent = send(data);
  await finished;
  const seconds = (lastAt - start) / 1000;
  clearInterval(watchdog);
  await Promise.race([sent, new Promise((r) => setTimeout(r, 1000))]);
  let computrons: number | undefined;
  if (bridge.computrons) computrons = await settledCount(bridge.computrons);
  unlisten();
  let differing = 0;
  for (let i = 0; i < received; i++) if (got[i] !== data[i]) differing++;
  return { seconds, lost: data.length - received, wrong: differing + extra, computrons };
}

/** UART→TCP: the pty client writes, the TCP peer reads. */
function uartToTcp(bridge: Bridge, data: Buffer): Promise<Transfer> {
  return transfer(
    bridge,
    data,
    async (bytes) => {
      for (let at = 0; at < bytes.length; at += WRITE_CHUNK) await bridge.uart.write(bytes.subarray(at, at + WRITE_CHUNK));
    },
    (onData) => {
      bridge.peer.on("data", onData);
      return () => bridge.peer.off("data", onData);
    },
  );
}

/** TCP→UART: the TCP peer writes, the pty client reads. */
function tcpToUart(bridge: Bridge, data: Buffer): Promise<Transfer> {
  return transfer(
    bridge,
    data,
    async (bytes) => {
      for (let at = 0; at < bytes.length; at += WRITE_CHUNK) {
        if (!bridge.peer.write(bytes.subarray(at, at + WRITE_CHUNK))) await new Promise((r) => bridge.peer.once("drain", r));
      }
    },
    (onData) => {
      bridge.uart.port.on("data", onData);
      return () => bridge.uart.port.off("data", onData);
    },
  );
}

interface BothWays {
  up: Transfer[];
  down: Transfer[];
  /** AT+CIPSTART's computrons, when counted. */
  handshake?: number;
}

async function bothWays(open: () => Promise<Bridge>, bytes: number, runs: number): Promise<BothWays> {
  const bridge = await open();
  const result: BothWays = { up: [], down: [], handshake: bridge.handshake };
  try {
    for (let i = 0; i < runs; i++) {
      result.up.push(await uartToTcp(bridge, randomBytes(bytes)));
      result.down.push(await tcpToUart(bridge, randomBytes(bytes)));
    }
    return result;
  } finally {
    await bridge.close();
  }
}

const medianSeconds = (ts: Transfer[]) => [...ts].map((t) => t.seconds).sort((a, b) => a - b)[Math.floor(ts.length / 2)];
const mbps = (bytes: number, ts: Transfer[]) => bytes / 1e6 / medianSeconds(ts);
const lost = (ts: Transfer[]) => ts.reduce((n, t) => n + t.lost, 0);
const wrong = (ts: Transfer[]) => ts.reduce((n, t) => n + t.wrong, 0);

const hasSocat = have("socat");
const unpaced = await bothWays(() => xsockBridge(), UNPACED_BYTES, RUNS);
const metered = await bothWays(() => xsockBridge({ countComputrons: true }), UNPACED_BYTES, 1);
const reference = hasSocat ? await bothWays(socatBridge, UNPACED_BYTES, RUNS) : undefined;
const paced = await bothWays(() => xsockBridge({ baud: PACED_BAUD }), PACED_BYTES, 1);
const tls = await bothWays(() => xsockBridge({ tls: true }), UNPACED_BYTES, RUNS);
const tlsMetered = await bothWays(() => xsockBridge({ tls: true, countComputrons: true }), UNPACED_BYTES, 1);
const captureDir = mkdtempSync(join(tmpdir(), "xsock-bench-"));
const pcap = join(captureDir, "at.pcapng");
const trace = join(captureDir, "at.json");
const captured = await bothWays(() => xsockBridge({ pcap }), UNPACED_BYTES, RUNS);
const pcapBytes = statSync(pcap).size;
const traced = await bothWays(() => xsockBridge({ trace }), UNPACED_BYTES, RUNS);
const traceBytes = statSync(trace).size;
const both = await bothWays(() => xsockBridge({ pcap, trace }), UNPACED_BYTES, RUNS);
rmSync(captureDir, { recursive: true, force: true });

const lineRate = PACED_BAUD / 10;
const rows: string[][] = [["", "xsock", "reference", "ratio", "target", "lost", "wrong", "computrons/KiB"]];
for (const [name, key] of [
  ["UART→TCP", "up"],
  ["TCP→UART", "down"],
] as const) {
  const ours = unpaced[key];
  const ref = reference?.[key];
  const [counted] = metered[key];
  rows.push([
    `${name} unpaced, ${UNPACED_BYTES / 1024 / 1024} MiB x${RUNS}`,
    `${mbps(UNPACED_BYTES, ours).toFixed(2)} MB/s`,
    ref ? `socat ${mbps(UNPACED_BYTES, ref).toFixed(2)} MB/s${lost(ref) + wrong(ref) ? ` (lost ${lost(ref)}, wrong ${wrong(ref)})` : ""}` : "socat skipped",
    ref ? `${(mbps(UNPACED_BYTES, ours) / mbps(UNPACED_BYTES, ref)).toFixed(2)}x` : "",
    ">= 0.5x",
    String(lost(ours) + counted.lost),
    String(wrong(ours) + counted.wrong),
    (counted.computrons! / (UNPACED_BYTES / 1024)).toFixed(0),
  ]);
}
for (const [name, key] of [
  ["UART→TCP", "up"],
  ["TCP→UART", "down"],
] as const) {
  const ours = paced[key];
  rows.push([
    `${name} ${PACED_BAUD} baud, ${PACED_BYTES / 1024} KiB`,
    `${(mbps(PACED_BYTES, ours) * 1000).toFixed(1)} kB/s`,
    `line ${(lineRate / 1000).toFixed(1)} kB/s`,
    `${(PACED_BYTES / medianSeconds(ours) / lineRate).toFixed(3)}`,
    ">= 0.95",
    String(lost(ours)),
    String(wrong(ours)),
    "",
  ]);
}
for (const [name, key] of [
  ["UART→TLS", "up"],
  ["TLS→UART", "down"],
] as const) {
  const [counted] = tlsMetered[key];
  rows.push([
    `${name} unpaced, ${UNPACED_BYTES / 1024 / 1024} MiB x${RUNS}`,
    `${mbps(UNPACED_BYTES, tls[key]).toFixed(2)} MB/s`,
    `TCP ${mbps(UNPACED_BYTES, unpaced[key]).toFixed(2)} MB/s`,
    `${(mbps(UNPACED_BYTES, tls[key]) / mbps(UNPACED_BYTES, unpaced[key])).toFixed(2)}x`,
    "",
    String(lost(tls[key]) + counted.lost),
    String(wrong(tls[key]) + counted.wrong),
    (counted.computrons! / (UNPACED_BYTES / 1024)).toFixed(0),
  ]);
}
for (const [flags, run] of [
  ["--pcap", captured],
  ["--trace", traced],
  ["--pcap --trace", both],
] as const) {
  for (const [name, key] of [
    ["UART→TCP", "up"],
    ["TCP→UART", "down"],
  ] as const) {
    rows.push([
      `${name} ${flags}, ${UNPACED_BYTES / 1024 / 1024} MiB x${RUNS}`,
      `${mbps(UNPACED_BYTES, run[key]).toFixed(2)} MB/s`,
      `TCP ${mbps(UNPACED_BYTES, unpaced[key]).toFixed(2)} MB/s`,
      `${(mbps(UNPACED_BYTES, run[key]) / mbps(UNPACED_BYTES, unpaced[key])).toFixed(2)}x`,
      ">= 0.8x",
      String(lost(run[key])),
      String(wrong(run[key])),
      "",
    ]);
  }
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  "));
if (!hasSocat) console.log("socat is not on PATH: the reference is skipped");
// The simulator's TLS record layer and handshake run in node:tls, outside XS (Moddable's runs in XS on the chip).
console.log(`--pcap wrote ${(pcapBytes / 1024 / 1024).toFixed(1)} MiB, --trace ${(traceBytes / 1024 / 1024).toFixed(1)} MiB, for ${(2 * RUNS * UNPACED_BYTES) / 1024 / 1024} MiB bridged`);
console.log(`AT+CIPSTART, from its line to its OK: "SSL" ${tlsMetered.handshake} computrons, "TCP" ${metered.handshake} (the simulator's TLS handshake itself runs in node:tls, outside XS)`);

const bad = [unpaced, metered, paced, tls, tlsMetered, captured, traced, both].reduce((n, r) => n + lost(r.up) + wrong(r.up) + lost(r.down) + wrong(r.down), 0);
if (bad) {
  console.error(`xsock: ${bad} bytes lost or wrong`);
  process.exit(1);
}
process.exit(0);
