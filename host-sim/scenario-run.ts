// Runs a scenario's steps against a simulated board: its UART, its listeners, its network.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, type Socket } from "node:net";
import type { SimBoard } from "./api.ts";
import { parseDuration } from "./faults.ts";
import { actionOf, type Action, type Scenario, type Step } from "./scenario.ts";
import { TextWaiters } from "./text-waiters.ts";

/** How long a waiting step waits when it says nothing. */
export const STEP_TIMEOUT = 10_000;

export interface StepResult {
  /** 1-based. */
  index: number;
  title: string;
  action: Action;
  status: "passed" | "failed" | "skipped";
  ms: number;
  /** What was expected and what was seen, for a failed step. */
  error?: string;
}

export interface ScenarioResult {
  name: string;
  passed: boolean;
  ms: number;
  steps: StepResult[];
}

/** `\r \n \t \0 \\ \xHH` in a scenario's text; the rest is UTF-8. A list is bytes as they are. */
export function scenarioBytes(data: string | number[]): Buffer {
  if (Array.isArray(data)) return Buffer.from(data);
  const parts: Buffer[] = [];
  let text = "";
  const flush = () => {
    if (text) parts.push(Buffer.from(text, "utf8"));
    text = "";
  };
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c !== "\\" || i + 1 === data.length) {
      text += c;
      continue;
    }
    const next = data[++i];
    const simple: Record<string, string> = { r: "\r", n: "\n", t: "\t", "0": "\0", "\\": "\\" };
    if (next in simple) text += simple[next];
    else if (next === "x" && /^[0-9a-fA-F]{2}$/.test(data.slice(i + 1, i + 3))) {
      flush();
      parts.push(Buffer.from([Number.parseInt(data.slice(i + 1, i + 3), 16)]));
      i += 2;
    } else text += `\\${next}`;
  }
  flush();
  return Buffer.concat(parts);
}

/** Expected text as the UART's and peers' text is kept: one character per byte. */
const expected = (text: string) => scenarioBytes(text).toString("latin1");

/** A step's argument as the file wrote it, in short: its text, data, port or kind. */
function argument(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object" && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if (typeof v.arbitration_id === "number") return ` 0x${v.arbitration_id.toString(16)}${v.data === undefined ? "" : argument(v.data)}`;
    return argument(v.text ?? v.data ?? v.kind ?? v.port ?? v.on);
  }
  // eslint-disable-next-line no-control-regex
  const text = typeof value === "string" ? `"${value.replace(/[\x00-\x1f]/g, (c) => JSON.stringify(c).slice(1, -1))}"` : JSON.stringify(value);
  return ` ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

/** A step's title: its name, or its action and argument. */
export function stepTitle(step: Step): string {
  const action = actionOf(step);
  return step.name ?? `${action}${argument(step[action])}`;
}

interface Peer<S> {
  socket: S;
  text: TextWaiters;
}

/** The TCP connections and UDP sockets a scenario's steps open on the host. */
class Peers {
  readonly tcp = new Map<string, Peer<Socket>>();
  readonly udp = new Map<number | "default", Peer<UdpSocket>>();

  async udpSocket(port: number | "default"): Promise<Peer<UdpSocket>> {
    let peer = this.udp.get(port);
    if (!peer) {
      const socket = createSocket("udp4");
      const text = new TextWaiters(port === "default" ? "UDP" : `UDP port ${port}`);
      socket.on("message", (data) => text.add(data.toString("latin1")));
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(port === "default" ? 0 : port, "127.0.0.1", () => resolve());
      });
      this.udp.set(port, (peer = { socket, text }));
    }
    return peer;
  }

  connection(name = "tcp"): Peer<Socket> {
    const peer = this.tcp.get(name);
    if (!peer) throw new Error(`no TCP connection named "${name}": open it with tcp-connect first`);
    return peer;
  }

  close(): void {
    for (const { socket } of this.tcp.values()) socket.destroy();
    for (const { socket } of this.udp.values()) socket.close();
  }
}

const timeoutOf = (value: { timeout?: number | string } | string | number | null | undefined) =>
  value && typeof value === "object" && value.timeout !== undefined ? parseDuration(value.timeout) : STEP_TIMEOUT;
const textOf = (value: string | { text: string }) => (typeof value === "string" ? value : value.text);

async function runStep(step: Step, board: SimBoard, peers: Peers): Promise<void> {
  const action = actionOf(step);
  switch (action) {
    case "wait-serial":
    case "wait-serial-regex": {
      const value = step[action]!;
      const text = textOf(value);
      await board.uart.expect(action === "wait-serial" ? expected(text) : new RegExp(text), { timeout: timeoutOf(value) });
      return;
    }
    case "write-serial":
      board.uart.write(scenarioBytes(step[action]!));
      return;
    case "delay":
      await new Promise((r) => setTimeout(r, parseDuration(step.delay!)));
      return;
    case "tcp-connect": {
      const value = step[action]!;
      const { port, host, as: name = "tcp" } = typeof value === "number" ? { port: value } : value;
      if (peers.tcp.has(name)) throw new Error(`a TCP connection named "${name}" is open already`);
      const to = `${host ?? board.ip}:${port}`;
      const text = new TextWaiters(`TCP connection "${name}"`);
      const socket = connect({ host: host ?? board.ip, port });
      socket.on("data", (d: Buffer) => text.add(d.toString("latin1")));
      socket.on("close", () => text.end("the board closed the connection"));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no connection to ${to} within ${timeoutOf(value)} ms`)), timeoutOf(value));
        socket.once("connect", () => (clearTimeout(timer), resolve()));
        socket.once("error", (e) => (clearTimeout(timer), reject(new Error(`cannot connect to ${to}: ${e.message}`))));
      });
      socket.on("error", () => {});
      peers.tcp.set(name, { socket, text });
      return;
    }
    case "tcp-send": {
      const value = step[action]!;
      const { data, on } = typeof value === "object" && !Array.isArray(value) ? value : { data: value, on: undefined };
      const { socket } = peers.connection(on);
      await new Promise<void>((resolve, reject) => socket.write(scenarioBytes(data), (e) => (e ? reject(e) : resolve())));
      return;
    }
    case "tcp-expect": {
      const value = step[action]!;
      await peers.connection(typeof value === "object" ? value.on : undefined).text.expect(expected(textOf(value)), timeoutOf(value));
      return;
    }
    case "tcp-close": {
      const value = step[action];
      const name = typeof value === "string" ? value : (value?.on ?? "tcp");
      const { socket } = peers.connection(name);
      peers.tcp.delete(name);
      if (socket.destroyed) return;
      await new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.end();
        setTimeout(() => (socket.destroy(), resolve()), 2000);
      });
      return;
    }
    case "udp-send": {
      const { port, host, data, from } = step[action]!;
      const { socket } = await peers.udpSocket(from ?? "default");
      await new Promise<void>((resolve, reject) => socket.send(scenarioBytes(data), port, host ?? board.ip, (e) => (e ? reject(e) : resolve())));
      return;
    }
    case "udp-expect": {
      const value = step[action]!;
      const peer = await peers.udpSocket((typeof value === "object" ? value.on : undefined) ?? "default");
      await peer.text.expect(expected(textOf(value)), timeoutOf(value));
      return;
    }
    case "can-send":
      board.can.send(step[action]!);
      return;
    case "can-expect": {
      const { timeout, ...fields } = step[action]!;
      await board.can.expect(fields, { timeout: timeout === undefined ? STEP_TIMEOUT : parseDuration(timeout) });
      return;
    }
    case "fault": {
      const value = step[action]!;
      const { kind, for: lasting } = typeof value === "string" ? { kind: value, for: undefined } : value;
      board.fault(kind, lasting === undefined ? undefined : parseDuration(lasting));
      return;
    }
  }
}

export interface RunOptions {
  /** Hears of each step as it ends, and of each skipped step. */
  onStep?: (result: StepResult) => void;
  /** Ends the run early: the step under way fails with the signal's reason. */
  signal?: AbortSignal;
}

/** Runs the steps in order; the first that fails ends the run, and the rest are skipped. */
export async function runScenario(scenario: Scenario, board: SimBoard, { onStep, signal }: RunOptions = {}): Promise<ScenarioResult> {
  const peers = new Peers();
  const results: StepResult[] = [];
  const start = Date.now();
  let failed = false;
  // Datagrams can come before the step that expects them: the ports steps name listen from the start.
  for (const step of scenario.steps) {
    const on = typeof step["udp-expect"] === "object" ? step["udp-expect"].on : undefined;
    for (const port of [on, step["udp-send"]?.from]) if (port !== undefined) await peers.udpSocket(port);
  }
  const stopped = board.stopped.then((code) => {
    const why = board.log.split("\n").filter((l) => l.startsWith("firmware:") || l.startsWith("  at ")).join("\n");
    throw new Error(`the board stopped (exit code ${code})${why ? `:\n${why}` : ""}`);
  });
  const aborted = new Promise<never>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason as Error)));
  stopped.catch(() => {});
  aborted.catch(() => {});
  try {
    for (const [i, step] of scenario.steps.entries()) {
      const result: StepResult = { index: i + 1, title: stepTitle(step), action: actionOf(step), status: "skipped", ms: 0 };
      results.push(result);
      if (!failed) {
        const t0 = Date.now();
        try {
          if (signal?.aborted) throw signal.reason as Error;
          await Promise.race([runStep(step, board, peers), aborted, stopped]);
          result.status = "passed";
        } catch (e) {
          result.status = "failed";
          result.error = (e as Error).message;
          failed = true;
        }
        result.ms = Date.now() - t0;
      }
      onStep?.(result);
    }
  } finally {
    peers.close();
  }
  return { name: scenario.name, passed: !failed, ms: Date.now() - start, steps: results };
}
