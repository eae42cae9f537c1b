// Debian's Mosquitto broker on a loopback port of this run's own, and its command-line clients,
// as the other side of the console's MQTT commands.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

export interface Broker {
  port: number;
  /** Stops the broker for good (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops it, to start it again on the same port, as in a restart. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Everything the broker logged (-v): connections, subscriptions, wills. */
  readonly log: string;
}

/**
 * Starts mosquitto with extra config lines (a TLS listener's, say), and waits until it listens.
 * `verbose` false keeps its log to notices: a benchmark's every packet would fill it.
 */
export async function mosquitto(extra: string[] = [], verbose = true): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), "xsock-mosquitto-"));
  const port = await freePort();
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, "allow_anonymous true", "persistence false", ...extra, ""].join("\n"));
  let proc: ChildProcess | undefined;
  let log = "";
  const broker: Broker = {
    port,
    get log() {
      return log;
    },
    async start() {
      const p = spawn("mosquitto", ["-c", conf, ...(verbose ? ["-v"] : [])], { stdio: ["ignore", "pipe", "pipe"] });
      proc = p;
      const running = new Promise<void>((resolve, reject) => {
        const onData = (d: Buffer) => {
          log += d.toString();
          if (/ running/.test(log.slice(-200))) resolve();
        };
        p.stdout!.on("data", onData);
        p.stderr!.on("data", onData);
        p.once("exit", (code) => reject(new Error(`mosquitto exited with ${code}: ${log.slice(-500)}`)));
      });
      await running;
    },
    async stop() {
      await broker.kill();
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null) return;
      p.kill("SIGTERM");
      await once(p, "exit");
    },
  };
  await broker.start();
  return broker;
}

/**
 * mosquitto_sub for `count` messages on a topic filter: resolves with them once it has them all.
 * Past `timeout` ms it is stopped, and both promises fail with what it printed.
 */
export function subscribe(
  port: number,
  topic: string,
  count: number,
  options: string[] = [],
  timeout = 30000,
): { ready: Promise<void>; messages: Promise<{ topic: string; payload: Buffer; retained: boolean }[]> } {
  // -d prints the client's packets (SUBACK: the subscription holds); each message is one line,
  // its payload in hex, so that any bytes pass.
  const args = ["-h", "127.0.0.1", "-p", String(port), "-t", topic, "-C", String(count), "-d", "-F", "<<%t|%r|%x>>", ...options];
  // stdbuf: line-buffered, or the SUBACK line waits in stdio's buffer until the client exits.
  const p = spawn("stdbuf", ["-oL", "mosquitto_sub", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  p.stdout!.on("data", (d: Buffer) => (out += d.toString("latin1")));
  const ready = new Promise<void>((resolve, reject) => {
    p.stdout!.on("data", () => out.includes("SUBACK") && resolve());
    p.once("exit", () => reject(new Error(`mosquitto_sub ended before its SUBACK: ${out}`)));
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill();
  }, timeout).unref();
  const messages = once(p, "exit").then(() => {
    clearTimeout(timer);
    if (timedOut) throw new Error(`mosquitto_sub had no ${count} messages on ${topic} in ${timeout} ms: ${out.slice(-500)}`);
    return [...out.matchAll(/<<(.*)\|([01])\|([0-9a-f]*)>>/g)].map((m) => ({ topic: m[1], retained: m[2] === "1", payload: Buffer.from(m[3], "hex") }));
  });
  messages.catch(() => {}); // a test that fails before it awaits them hears of its own failure
  return { ready, messages };
}

/** mosquitto_pub of one message (a file's bytes with `-f`). */
export async function publish(port: number, topic: string, message: string | Buffer, options: string[] = []): Promise<void> {
  const p = spawn("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(port), "-t", topic, "-s", ...options], { stdio: ["pipe", "ignore", "pipe"] });
  let err = "";
  p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  p.stdin!.end(message);
  const [code] = (await once(p, "exit")) as [number];
  if (code !== 0) throw new Error(`mosquitto_pub failed (${code}): ${err}`);
}
