// Where the simulated UART's wire ends: the terminal (stdio), a pseudo-terminal, a TCP port,
// or memory (the test API's own end).
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { packagePath } from "./package-root.ts";
import { terminalLine } from "./terminal-line.ts";

export type UartSpec = "stdio" | "pty" | `tcp:${number}` | "memory";

export interface UartLine {
  /** Where a client attaches: the pty path, `tcp:PORT`, or `stdio`. */
  readonly path: string;
  write(bytes: Uint8Array): void;
  /** Bytes arriving on the line as if a client had sent them. */
  receive(bytes: Uint8Array): void;
  /** Takes the line's input; what came before is handed over first. */
  onData(handler: (bytes: Uint8Array) => void): void;
  /** Flow control (RTS): stop taking input from the client, until resume(). */
  pause(): void;
  resume(): void;
  close(): void;
}

/** Holds input until a handler takes it: typed-ahead bytes wait for the firmware to open its UART. */
function inbox(): { push(bytes: Uint8Array): void; onData(handler: (bytes: Uint8Array) => void): void } {
  let early: Uint8Array[] | undefined = [];
  let handler: ((bytes: Uint8Array) => void) | undefined;
  return {
    push(bytes) {
      if (handler) handler(bytes);
      else if (early!.reduce((n, b) => n + b.length, 0) + bytes.length <= HOLD_LIMIT) early!.push(bytes);
    },
    onData(h) {
      handler = h;
      for (const bytes of early ?? []) h(bytes);
      early = undefined;
    },
  };
}

/**
 * Bytes for a client that is not there yet are held, up to this many. A client that connects
 * gets them SETTLE_MS later, unless it writes first: then they are dropped, as a board's output
 * from before the host opened the port is gone (the pty's relay does the same).
 */
const HOLD_LIMIT = 64 * 1024;
const SETTLE_MS = 50;

export function parseUartSpec(spec: string): UartSpec {
  if (spec === "stdio" || spec === "pty") return spec;
  const m = /^tcp:(\d{1,5})$/.exec(spec);
  if (m && Number(m[1]) < 65536) return spec as UartSpec;
  throw new Error(`bad --uart "${spec}": use stdio, pty or tcp:PORT`);
}

/**
 * Opens the line. On a terminal, stdio has line editing unless `raw` (bytes as typed, Enter as
 * CR-LF); from a pipe it is byte-exact.
 */
export async function openUartLine(spec: UartSpec, onInterrupt: () => void, raw = false): Promise<UartLine> {
  if (spec === "stdio") return process.stdin.isTTY && !raw ? editedStdioLine(onInterrupt) : stdioLine(onInterrupt);
  if (spec === "pty") return ptyLine();
  if (spec === "memory") return memoryLine();
  return tcpLine(Number(spec.slice(4)));
}

/** No client but receive(): output goes only to the simulator's onOutput. */
function memoryLine(): UartLine {
  const input = inbox();
  let paused: Uint8Array[] | undefined;
  return {
    path: "memory",
    write: () => {},
    receive: (bytes) => (paused ? paused.push(bytes) : input.push(bytes)),
    onData: input.onData,
    pause: () => void (paused ??= []),
    resume() {
      const held = paused ?? [];
      paused = undefined;
      for (const bytes of held) input.push(bytes);
    },
    close: () => {},
  };
}

/** A terminal with a line editor: the UART's input is what Enter sends. */
function editedStdioLine(onInterrupt: () => void): UartLine {
  const input = inbox();
  const terminal = terminalLine(input.push, onInterrupt);
  return {
    path: "stdio",
    write: terminal.write,
    receive: input.push,
    onData: input.onData,
    pause: terminal.pause,
    resume: terminal.resume,
    close: terminal.close,
  };
}

function stdioLine(onInterrupt: () => void): UartLine {
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  const input = inbox();
  const onStdin = (chunk: Buffer) => {
    // In raw mode the terminal sends Ctrl-C as a byte: it stops the simulator.
    if (stdin.isTTY && chunk.includes(0x03)) return onInterrupt();
    // A terminal's Enter sends CR; the console's lines end in CR-LF.
    input.push(stdin.isTTY ? Buffer.from(chunk.toString("latin1").replace(/\r(?!\n)/g, "\r\n"), "latin1") : chunk);
  };
  stdin.on("data", onStdin);
  return {
    path: "stdio",
    write: (bytes) => void process.stdout.write(bytes),
    receive: input.push,
    onData: input.onData,
    pause: () => void stdin.pause(),
    resume: () => void stdin.resume(),
    close() {
      stdin.off("data", onStdin);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
    },
  };
}

const RELAY = packagePath("host-sim", "pty-relay.py");

function ptyLine(): Promise<UartLine> {
  return new Promise((resolve, reject) => {
    let relay: ChildProcess;
    try {
      relay = spawn("python3", [RELAY], { stdio: ["pipe", "pipe", "pipe"] });
    } catch (e) {
      reject(e as Error);
      return;
    }
    relay.on("error", (e) => reject(new Error(`cannot open a pty (python3 runs the relay): ${e.message}`)));
    relay.stdin!.on("error", () => {});
    let stderr = "";
    const onStderr = (chunk: Buffer) => {
      stderr += chunk.toString();
      const nl = stderr.indexOf("\n");
      if (nl < 0) return;
      relay.stderr!.off("data", onStderr);
      const path = stderr.slice(0, nl).trim();
      const input = inbox();
      relay.stdout!.on("data", (chunk: Buffer) => input.push(chunk));
      resolve({
        path,
        write: (bytes) => void relay.stdin!.write(bytes),
        receive: input.push,
        onData: input.onData,
        // The relay blocks writing to a paused pipe, and stops reading the pty.
        pause: () => void relay.stdout!.pause(),
        resume: () => void relay.stdout!.resume(),
        close: () => {
          relay.stdin!.end();
          relay.kill();
        },
      });
    };
    relay.stderr!.on("data", onStderr);
    relay.on("exit", (code) => reject(new Error(`the pty relay exited (${code}): ${stderr}`)));
  });
}

function tcpLine(port: number): Promise<UartLine> {
  return new Promise((resolve, reject) => {
    let client: Socket | undefined;
    let paused = false;
    let held: Buffer[] = [];
    let heldBytes = 0;
    // What was held when the client connected: sent after SETTLE_MS, or dropped if the client writes first.
    let early: Buffer[] | undefined;
    let settle: NodeJS.Timeout | undefined;
    const input = inbox();
    const release = (send: boolean) => {
      clearTimeout(settle);
      const out = [...(send ? early! : []), ...held];
      early = undefined;
      held = [];
      heldBytes = 0;
      for (const chunk of out) client?.write(chunk);
    };
    const server: Server = createServer((socket) => {
      if (client) {
        socket.end("uart busy: one client at a time\r\n");
        return;
      }
      client = socket;
      socket.setNoDelay(true);
      if (paused) socket.pause();
      socket.on("data", (chunk) => {
        if (early) release(false);
        input.push(chunk);
      });
      socket.on("error", () => {});
      socket.on("close", () => {
        if (client !== socket) return;
        client = undefined;
        clearTimeout(settle);
        // Gone before the held bytes went out: they wait for the next client.
        if (early) held = [...early, ...held];
        heldBytes = held.reduce((n, b) => n + b.length, 0);
        early = undefined;
      });
      if (!held.length) return;
      early = held;
      held = [];
      heldBytes = 0;
      settle = setTimeout(() => release(true), SETTLE_MS);
    });
    server.on("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : port;
      resolve({
        path: `tcp:${bound}`,
        write(bytes) {
          if (client && !early) client.write(bytes);
          else if (heldBytes + bytes.length <= HOLD_LIMIT) {
            held.push(Buffer.from(bytes));
            heldBytes += bytes.length;
          }
        },
        receive: input.push,
        onData: input.onData,
        pause() {
          paused = true;
          client?.pause();
        },
        resume() {
          paused = false;
          client?.resume();
        },
        close() {
          clearTimeout(settle);
          client?.destroy();
          server.close();
        },
      });
    });
  });
}
