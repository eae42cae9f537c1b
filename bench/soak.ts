// Soak and load on one simulated board, loopback only, bounded in bytes and counts.
//   npm run soak             (the long run: 5 links x 1 MiB each way, 1,000 accept/close cycles, 50 chat clients x 100 messages,
//                             5,000 console commands over the pty with the UART reconfigured now and then)
//   npx tsx bench/soak.ts links       (one workload, or several: links, churn, chat, uart)
//   SOAK_BYTES=262144 npx tsx bench/soak.ts links   (sizes: SOAK_BYTES, SOAK_CYCLES, SOAK_CLIENTS, SOAK_MESSAGES)
//   SOAK_COMMANDS=5000 SOAK_BAUD=921600 npx tsx bench/soak.ts uart   (SOAK_BAUD paces the line as `xsock sim --baud`
//                             does, unpaced without it; SOAK_SEED picks the commands, SOAK_TIMEOUT_MS is how long a reply may take)
// The test suite runs the same workloads, shorter (test/sim/soak.test.ts). Every byte is
// checked by SHA-256; each workload prints bytes moved and lost, errors, and XS's heap before
// and after (live slots, after a collection).
import { createHash } from "node:crypto";
import { createSocket } from "node:dgram";
import { createServer, connect, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { startSim, type SimBoard } from "../host-sim/api.ts";
import { openPort } from "../host-sim/serial/link.ts";
import { TextWaiters } from "../host-sim/text-waiters.ts";

export interface SoakFigures {
  name: string;
  bytes: number;
  lost: number;
  errors: string[];
  heapBefore: number;
  heapAfter: number;
  ms: number;
  [more: string]: unknown;
}

const sha = (parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest("hex");

/** Deterministic bytes, different per stream. */
function pattern(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/**
 * The console's UART output split in two: `+IPD,<id>,<len>:<data>` frames go to onData, the
 * rest is console text to wait on.
 */
class ConsoleReader {
  readonly text = new TextWaiters("the console");
  private buffer = Buffer.alloc(0);

  constructor(private readonly onData: (id: number, data: Buffer) => void) {}

  feed(bytes: Uint8Array): void {
    this.buffer = Buffer.concat([this.buffer, bytes]);
    for (;;) {
      const at = this.buffer.indexOf("+IPD,");
      if (at < 0) {
        // Keep a tail that may be the start of "+IPD,".
        let keep = Math.min(this.buffer.length, 4);
        while (keep && !"+IPD,".startsWith(this.buffer.subarray(-keep).toString("latin1"))) keep--;
        this.take(this.buffer.length - keep);
        return;
      }
      this.take(at);
      const colon = this.buffer.indexOf(":");
      if (colon < 0) return;
      const [id, len] = this.buffer.subarray(5, colon).toString("latin1").split(",").map(Number);
      if (this.buffer.length < colon + 1 + len) return;
      this.onData(id, Buffer.from(this.buffer.subarray(colon + 1, colon + 1 + len)));
      this.buffer = this.buffer.subarray(colon + 1 + len);
    }
  }

  private take(n: number): void {
    if (n <= 0) return;
    this.text.add(this.buffer.subarray(0, n).toString("latin1"));
    this.buffer = this.buffer.subarray(n);
  }
}

/** A board running the ESP-AT console, joined, with CIPMUX=1; `reader` sees its UART. */
async function modem(onData: (id: number, data: Buffer) => void = () => {}): Promise<{ board: SimBoard; reader: ConsoleReader; command(line: string, reply?: string | RegExp): Promise<string> }> {
  const reader = new ConsoleReader(onData);
  const problems: string[] = [];
  const board = await startSim({ onOutput: (bytes) => reader.feed(bytes), log: (line) => /^(firmware|xs):/.test(line) && problems.push(line) });
  // A board that dies (memory full, an exception) fails the wait under way with its reason.
  void board.stopped.then((code) => reader.text.end(`the board stopped (exit code ${code})${problems.length ? `: ${problems.join("; ")}` : ""}`));
  const command = async (line: string, reply: string | RegExp = /\r\n(OK|ERROR)\r\n/) => {
    board.uart.write(`${line}\r\n`);
    const text = await reader.text.expect(reply, 10_000);
    if (text.endsWith("ERROR\r\n")) throw new Error(`${line}: ${text}`);
    return text;
  };
  await reader.text.expect("ready\r\n", 5000);
  await command("ATE0");
  await command('AT+CWJAP="xsock-sim",""');
  await command("AT+CIPMUX=1");
  return { board, reader, command };
}

const listen = (server: Server) => new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));

/** 5 links, each with a TCP peer streaming `bytes` down while the host sends `bytes` up by CIPSEND. */
export async function links(bytes: number): Promise<SoakFigures> {
  const LINKS = 5;
  const CHUNK = 2048;
  const down = Array.from({ length: LINKS }, (_, i) => pattern(i + 1, bytes));
  const up = Array.from({ length: LINKS }, (_, i) => pattern(i + 101, bytes));
  const gotDown: Buffer[][] = down.map(() => []);
  const gotUp: Buffer[][] = up.map(() => []);
  let downCount = 0;
  const errors: string[] = [];
  const { board, reader, command } = await modem((id, data) => {
    gotDown[id].push(data);
    downCount += data.length;
  });
  const heapBefore = (await board.collect()).slots;
  const start = Date.now();
  const peers: Socket[] = [];
  const servers = await Promise.all(
    down.map(async (_, i) => {
      const server = createServer((socket) => {
        peers[i] = socket;
        socket.on("data", (d) => gotUp[i].push(d));
        socket.on("error", (e) => errors.push(`peer ${i}: ${e.message}`));
        // Streams down in chunks, waiting for the socket to drain: the board reads at its pace.
        void (async () => {
          for (let at = 0; at < bytes; at += CHUNK) {
            if (!socket.write(down[i].subarray(at, at + CHUNK))) await new Promise((r) => socket.once("drain", r));
          }
        })();
      });
      return { server, port: await listen(server) };
    }),
  );
  for (const [i, { port }] of servers.entries()) await command(`AT+CIPSTART=${i},"TCP","127.0.0.1",${port}`);
  // Up: CIPSEND on each link in turn, while the peers stream down.
  for (let at = 0; at < bytes; at += CHUNK) {
    for (let i = 0; i < LINKS; i++) {
      const chunk = up[i].subarray(at, at + CHUNK);
      await command(`AT+CIPSEND=${i},${chunk.length}`, ">");
      board.uart.write(chunk);
      await reader.text.expect(/SEND (OK|FAIL)\r\n/, 10_000).then((t) => t.endsWith("FAIL\r\n") && errors.push(`link ${i}: SEND FAIL`));
    }
  }
  const deadline = Date.now() + 60_000;
  const upCount = () => gotUp.reduce((n, parts) => n + parts.reduce((m, p) => m + p.length, 0), 0);
  while ((downCount < LINKS * bytes || upCount() < LINKS * bytes) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const ms = Date.now() - start;
  let lost = 0;
  for (let i = 0; i < LINKS; i++) {
    if (sha(gotDown[i]) !== sha([down[i]])) lost += Math.max(1, bytes - gotDown[i].reduce((n, p) => n + p.length, 0));
    if (sha(gotUp[i]) !== sha([up[i]])) lost += Math.max(1, bytes - gotUp[i].reduce((n, p) => n + p.length, 0));
  }
  for (let i = 0; i < LINKS; i++) await command(`AT+CIPCLOSE=${i}`);
  for (const { server } of servers) server.close();
  for (const p of peers) p?.destroy();
  await new Promise((r) => setTimeout(r, 100));
  const heapAfter = (await board.collect()).slots;
  const sockets = board.openSockets;
  await board.stop();
  return { name: "links", bytes: 2 * LINKS * bytes, lost, errors, heapBefore, heapAfter, ms, sockets };
}

/**
 * `cycles` clients that connect to AT+CIPSERVER, send, and go (half by FIN, half by reset) once
 * the board has their data; four at a time, each waiting for the board to close the last.
 */
export async function churn(cycles: number): Promise<SoakFigures> {
  const errors: string[] = [];
  let heard = "";
  const { board, reader, command } = await modem((_, data) => (heard += data.toString("latin1")));
  const port = await freePort();
  await command(`AT+CIPSERVER=1,${port}`);
  const heapBefore = (await board.collect()).slots;
  const socketsBefore = board.openSockets;
  const start = Date.now();
  const count = (re: RegExp) => (reader.text.all.match(re) ?? []).length;
  const PARALLEL = 4;
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < cycles) {
        const n = next++;
        const line = `hello ${n}\n`;
        await new Promise<void>((resolve) => {
          const socket = connect(port, "127.0.0.1", () => {
            socket.write(line);
            void until(() => heard.includes(line), 5000).then(() => (n % 2 ? socket.resetAndDestroy() : socket.end()));
          });
          socket.on("error", (e) => (errors.push(`client ${n}: ${e.message}`), resolve()));
          socket.on("close", () => resolve());
          socket.resume();
        });
        await until(() => count(/\d,CLOSED\r\n/g) >= count(/\d,CONNECT\r\n/g), 5000);
      }
    }),
  );
  const ms = Date.now() - start;
  const status = await command("AT+CIPSTATUS");
  const heapAfter = (await board.collect()).slots;
  const sockets = board.openSockets;
  await board.stop();
  const lost = Array.from({ length: cycles }, (_, n) => `hello ${n}\n`).filter((l) => !heard.includes(l)).reduce((a, l) => a + l.length, 0);
  return {
    name: "churn",
    bytes: heard.length,
    lost,
    errors,
    heapBefore,
    heapAfter,
    ms,
    connects: count(/\d,CONNECT\r\n/g),
    closes: count(/\d,CLOSED\r\n/g),
    linksLeft: (status.match(/\+CIPSTATUS:/g) ?? []).length,
    socketsBefore,
    socketsAfter: sockets,
  };
}

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  return port;
}

/** `clients` chat clients (up to 63) each send `messages` lines to examples/chat-server; all the others get each, in order. */
export async function chat(clients: number, messages: number, ip?: string): Promise<SoakFigures> {
  // A 10-socket board holds the server and 9 clients; more need lwIP's limit raised.
  const board = await startSim({
    app: fileURLToPath(new URL("../examples/chat-server", import.meta.url)),
    board: clients < 10 ? undefined : fileURLToPath(new URL("./boards/soak.json", import.meta.url)),
    // The chat server's port is fixed (5000): a board address of the caller's own keeps it from another run's.
    ip,
    log: () => {},
  });
  try {
    return await chatOn(board, clients, messages);
  } finally {
    await board.stop();
  }
}

async function chatOn(board: SimBoard, clients: number, messages: number): Promise<SoakFigures> {
  await board.waitLog(/Chat server started on port 5000/);
  const heapBefore = (await board.collect()).slots;
  const errors: string[] = [];
  const sockets: Socket[] = [];
  const received: string[] = [];
  for (let i = 0; i < clients; i++) {
    const socket = connect(5000, board.ip);
    socket.setEncoding("latin1");
    received[i] = "";
    socket.on("data", (d: string) => (received[i] += d));
    socket.on("error", (e) => errors.push(`client ${i}: ${e.message}`));
    await new Promise((r) => socket.once("connect", r));
    sockets.push(socket);
  }
  const ports = sockets.map((s) => s.localPort!);
  // Everyone is in once the last one's entrance reached the first.
  await until(() => received[0].includes(`:${ports[clients - 1]}] entered room`), 10_000);
  const start = Date.now();
  for (let m = 0; m < messages; m++) for (const [i, s] of sockets.entries()) s.write(`m ${i} ${m}\n`);
  const expected = (clients - 1) * messages;
  const lines = (i: number) => received[i].match(/m \d+ \d+\n/g) ?? [];
  await until(() => sockets.every((_, i) => lines(i).length >= expected), 120_000);
  const ms = Date.now() - start;
  let lost = 0;
  let outOfOrder = 0;
  for (let i = 0; i < clients; i++) {
    const last = new Map<number, number>();
    for (const line of lines(i)) {
      const [, from, m] = line.trim().split(" ").map(Number);
      if (from === i) errors.push(`client ${i} got its own message back`);
      if (m !== (last.get(from) ?? -1) + 1) outOfOrder++;
      last.set(from, m);
    }
    lost += expected - lines(i).length;
  }
  const socketsBefore = board.openSockets - clients;
  for (const s of sockets) s.destroy();
  // The heap is measured once the server has closed every client's socket.
  await until(() => board.openSockets <= socketsBefore, 10_000);
  const heapAfter = (await board.collect()).slots;
  const delivered = sockets.reduce((n, _, i) => n + lines(i).join("").length, 0);
  return { name: "chat", bytes: delivered, lost, errors, heapBefore, heapAfter, ms, outOfOrder, messages: clients * messages, deliveries: clients * (clients - 1) * messages };
}

/** A seeded generator (mulberry32): the same seed, the same commands. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Queries and settings that change nothing a later command depends on; each ends in OK. */
const QUERIES = [
  "AT",
  "AT+GMR",
  "AT+CIPMUX?",
  "AT+SYSMSG?",
  "AT+CIPSTATUS",
  "AT+CIPSTATE?",
  "AT+CWMODE?",
  "AT+CWJAP?",
  "AT+CIPRECVMODE?",
  "AT+CIPDINFO?",
  "AT+CIFSR",
  "AT+SYSRAM?",
  "AT+SYSSTORE?",
  "AT+UART_CUR?",
  "AT+UART_DEF?",
  "AT+CMD?",
];
/** Rates a baud change goes to, and back from. */
const BAUDS = [115200, 230400, 460800, 921600];
/** A final reply: the end of every command's answer. */
const FINAL = /\r\n(OK|ERROR|SEND OK|SEND FAIL)\r\n/;

/**
 * Random valid console commands over the simulator's pty, each sent the moment the previous
 * final reply (OK, ERROR, SEND OK) has come: queries, ATE0/ATE1, AT+SYSMSG=n, CIPSEND on a UDP
 * link, AT+UART_CUR/AT+UART_DEF at the baud in force, and now and then a change to another baud
 * and, a few commands later, back; the host changes its own side once the OK has come, as
 * ESP-AT's UART commands expect (docs/at-console.md). A command with no final reply within `timeout` ms is unanswered: it is
 * reported with the commands before it, then the console is brought back with AT.
 * `baud` paces the line as `xsock sim --baud` does.
 */
export async function uart(commands: number, options: { baud?: number; seed?: number; timeout?: number } = {}): Promise<SoakFigures> {
  const { baud, seed = 1, timeout = 5000 } = options;
  const next = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)];
  const errors: string[] = [];
  const problems: string[] = [];
  const board = await startSim({ uart: "pty", baud, log: (line) => /^(firmware|xs):/.test(line) && problems.push(line) });
  const text = new TextWaiters("the pty");
  void board.stopped.then((code) => text.end(`the board stopped (exit code ${code})${problems.length ? `: ${problems.join("; ")}` : ""}`));
  const port = await openPort(board.uart.path, 115200);
  let bytes = 0;
  port.on("data", (d: Buffer) => {
    bytes += d.length;
    text.add(d.toString("latin1"));
  });
  /** The host's own side of a baud change; serialport's update flushes the tty's buffers, so nothing is sent meanwhile. */
  const setHostBaud = (baudRate: number) => new Promise<void>((resolve, reject) => port.update({ baudRate }, (e) => (e ? reject(e) : resolve())));
  const write = (data: string | Buffer) => {
    bytes += data.length;
    port.write(data);
  };
  const sink = createSocket("udp4");
  let datagrams = 0;
  sink.on("message", () => datagrams++);
  const sinkPort = await new Promise<number>((resolve) => sink.bind(0, "127.0.0.1", () => resolve(sink.address().port)));
  const setup = async (line: string) => {
    write(`${line}\r\n`);
    const reply = await text.expect(FINAL, 10_000);
    if (!reply.endsWith("\r\nOK\r\n")) throw new Error(`${line}: ${JSON.stringify(reply)}`);
  };
  await text.expect("ready\r\n", 10_000);
  await setup("ATE0");
  await setup('AT+CWJAP="xsock-sim",""');
  await setup(`AT+CIPSTART="UDP","127.0.0.1",${sinkPort}`);
  const heapBefore = (await board.collect()).slots;

  const home = 115200; // the board's console rate: AT+UART_CUR? says so
  let current = home;
  /** Commands left before the change of baud goes back, and which command made it. */
  let away: { left: number; command: "AT+UART_CUR" | "AT+UART_DEF" } | undefined;
  let sent = 0;
  let answered = 0;
  let reconfigurations = 0;
  let baudChanges = 0;
  let echo = false;
  const history: string[] = [];
  /** Sends one command (and CIPSEND's data after its prompt); false if no final reply came in time. */
  const run = async (line: string, data?: Buffer): Promise<boolean> => {
    sent++;
    if (/^AT\+UART_(CUR|DEF)=/.test(line)) reconfigurations++;
    history.push(line);
    if (history.length > 6) history.shift();
    write(`${line}\r\n`);
    try {
      let reply: string;
      if (data) {
        reply = await text.expect(/>|\r\nERROR\r\n/, timeout);
        if (reply.endsWith(">")) {
          write(data);
          reply += await text.expect(FINAL, timeout);
        }
      } else reply = await text.expect(FINAL, timeout);
      answered++;
      if (!/\r\n(SEND )?OK\r\n$/.test(reply)) errors.push(`${line}: ${JSON.stringify(reply.slice(-200))}`);
      return true;
    } catch {
      // What the board last sent tells whether the command was read (its echo, a reply) or lost.
      errors.push(`unanswered: ${line} (after ${history.slice(0, -1).join(", ")}); the board last sent ${JSON.stringify(board.uart.text.slice(-120))}`);
      // Back to a console that answers: what came late is dropped.
      for (let tries = 0; ; tries++) {
        text.pending = "";
        write("AT\r\n");
        try {
          await text.expect(FINAL, 2000);
          await new Promise((r) => setTimeout(r, 200));
          text.pending = "";
          break;
        } catch (e) {
          if (tries === 4) throw new Error(`the console stopped answering after ${line}: ${(e as Error).message.split("; it sent")[0]}`, { cause: e });
        }
      }
      return false;
    }
  };

  const start = Date.now();
  while (sent < commands) {
    const roll = next();
    if (away && --away.left <= 0) {
      // Back to the board's rate: the host switches once the OK has come.
      const back = away.command;
      away = undefined;
      baudChanges++;
      if (await run(`${back}=${home},8,1,0,0`)) {
        await setHostBaud(home);
        current = home;
      }
    } else if (roll < 0.04 && !away) {
      const to = pick(BAUDS.filter((b) => b !== current));
      const command = next() < 0.8 ? "AT+UART_CUR" : "AT+UART_DEF";
      baudChanges++;
      if (await run(`${command}=${to},8,1,0,0`)) {
        await setHostBaud(to);
        current = to;
        away = { left: 2 + Math.floor(next() * 20), command };
      }
    } else if (roll < 0.16) {
      await run(`${next() < 0.7 ? "AT+UART_CUR" : "AT+UART_DEF"}=${current},8,1,0,${next() < 0.5 ? 0 : 3}`);
    } else if (roll < 0.2) {
      echo = !echo;
      await run(echo ? "ATE1" : "ATE0");
    } else if (roll < 0.24) {
      await run(`AT+SYSMSG=${Math.floor(next() * 8)}`);
    } else if (roll < 0.3) {
      const data = Buffer.from(`soak ${sent} `.padEnd(1 + Math.floor(next() * 200), "x"));
      await run(`AT+CIPSEND=${data.length}`, data);
    } else {
      await run(pick(QUERIES));
    }
  }
  if (away) {
    baudChanges++;
    if (await run(`${away.command}=${home},8,1,0,0`)) await setHostBaud(home);
  }
  const ms = Date.now() - start;
  await setup("AT+UART_DEF=115200,8,1,0,0");
  await setup("AT+CIPCLOSE");
  await new Promise((r) => setTimeout(r, 100));
  const heapAfter = (await board.collect()).slots;
  await new Promise((r) => port.close(r));
  sink.close();
  await board.stop();
  return {
    name: "uart",
    bytes,
    lost: sent - answered,
    errors,
    heapBefore,
    heapAfter,
    ms,
    sent,
    answered,
    unanswered: sent - answered,
    reconfigurations,
    baudChanges,
    datagrams,
    baud: baud ?? "unpaced",
    commandsPerSecond: Math.round((sent / ms) * 1000),
  };
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

export function report(f: SoakFigures): string {
  const { name, bytes, lost, errors, heapBefore, heapAfter, ms, ...more } = f;
  const extra = Object.entries(more).map(([k, v]) => `${k} ${String(v)}`).join(", ");
  return `${name}: ${bytes.toLocaleString("en")} bytes moved in ${ms} ms, ${lost} lost, ${errors.length} errors${errors.length ? ` (${errors.slice(0, 3).join("; ")})` : ""}; heap ${heapBefore} -> ${heapAfter} slots${extra ? `; ${extra}` : ""}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let failed = false;
  const runs: [string, () => Promise<SoakFigures>][] = [
    ["links", () => links(Number(process.env.SOAK_BYTES ?? 1 << 20))],
    ["churn", () => churn(Number(process.env.SOAK_CYCLES ?? 1000))],
    ["chat", () => chat(Number(process.env.SOAK_CLIENTS ?? 50), Number(process.env.SOAK_MESSAGES ?? 100))],
    [
      "uart",
      () =>
        uart(Number(process.env.SOAK_COMMANDS ?? 5000), {
          baud: process.env.SOAK_BAUD ? Number(process.env.SOAK_BAUD) : undefined,
          seed: Number(process.env.SOAK_SEED ?? 1),
          timeout: Number(process.env.SOAK_TIMEOUT_MS ?? 5000),
        }),
    ],
  ];
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !runs.some(([n]) => n === name));
  if (unknown.length) {
    console.error(`soak: no workload ${unknown.join(", ")}; they are ${runs.map(([n]) => n).join(", ")}`);
    process.exit(2);
  }
  // Each workload runs and reports, whatever the one before did.
  for (const [name, run] of runs.filter(([n]) => !only.length || only.includes(n))) {
    try {
      const f = await run();
      console.log(report(f));
      failed ||= f.lost > 0 || f.errors.length > 0;
    } catch (e) {
      console.log(`${name}: FAILED: ${(e as Error).message.split("\n")[0]}`);
      failed = true;
    }
  }
  // A failed workload may leave its board and peers open: end here.
  process.exit(failed ? 1 : 0);
}
