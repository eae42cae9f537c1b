// The firmware's own costs, as XS counts them: computrons per command or socket operation, and
// heap slots. Unlike times, they do not swing with the machine, so CI holds them to budgets
// (bench/budgets.ts, test/sim/budgets.test.ts).
//   npm run bench:costs   prints each cost beside its budget
import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { Simulator } from "../host-sim/simulator.ts";
import { budgets, type CostName } from "./budgets.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const KIB = Buffer.alloc(1024, 0x61);
/** Idle sockets and links opened to measure one: the slots are averaged over them. */
const SAMPLES = 4;

/** A board running an app of bench/apps that traces the port it listens on. */
export async function appBoard(app: string, config: Record<string, unknown>): Promise<{ sim: Simulator; port: number }> {
  let resolvePort!: (port: number) => void;
  const listening = new Promise<number>((r) => (resolvePort = r));
  const sim = await Simulator.start({
    app: `${ROOT}/${app}`,
    config,
    uart: "tcp:0",
    log: (line) => {
      const m = / on (\d+)$/.exec(line);
      if (m) resolvePort(Number(m[1]));
    },
  });
  return { sim, port: await listening };
}

/** Sums the computrons of the board's deliveries while a step runs, up to when XS has finished them. */
function meter(sim: Simulator): (step: () => Promise<unknown>) => Promise<number> {
  let total = 0;
  let on = false;
  sim.onDelivery = (kind, m) => {
    if (on && kind !== "gc") total += m.compute;
  };
  return async (step) => {
    total = 0;
    on = true;
    await step();
    // The deliveries run in order: once a collection has run, so have those the step caused.
    await sim.collect();
    on = false;
    return total;
  };
}

/** Reads a socket's text until a pattern shows, from where the last read stopped. */
function reader(s: Socket): (what: string | RegExp) => Promise<string> {
  let text = "";
  let wake = () => {};
  s.on("data", (d: Buffer) => {
    text += d.toString("latin1");
    wake();
  });
  return async (what) => {
    for (;;) {
      const at = typeof what === "string" ? text.indexOf(what) : text.search(what);
      if (at >= 0) {
        const end = at + (typeof what === "string" ? what.length : what.exec(text)![0].length);
        const got = text.slice(0, end);
        text = text.slice(end);
        return got;
      }
      await new Promise<void>((r) => (wake = r));
    }
  };
}

async function connect(port: number): Promise<Socket> {
  const s = createConnection(port, "127.0.0.1");
  s.setNoDelay(true);
  await once(s, "connect");
  return s;
}

async function listen(): Promise<{ server: Server; port: number; accepted: Promise<Socket> }> {
  const server = createServer();
  const accepted = once(server, "connection").then(([c]) => c as Socket);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as { port: number }).port, accepted };
}

/** The console's costs: an AT round trip, a 1 KiB CIPSEND and +IPD, the heap after boot and per link. */
async function consoleCosts(): Promise<Partial<Record<CostName, number>>> {
  const sim = await Simulator.start({ uart: "tcp:0", log: () => {} });
  const uart = await connect(Number(sim.uart.path.slice(4)));
  const read = reader(uart);
  const peers: Socket[] = [];
  const servers: Server[] = [];
  try {
    const count = meter(sim);
    await read("ready\r\n");
    const bootSlots = (await sim.collect()).slots;
    const command = (line: string, until: string | RegExp = "OK\r\n") => {
      uart.write(`${line}\r\n`);
      return read(until);
    };
    const atRoundTrip = await count(() => command("AT"));
    await command("ATE0");
    await command('AT+CWJAP="xsock-sim",""');
    await command("AT+CIPMUX=1");
    const linkSlots = [];
    for (let id = 0; id < SAMPLES; id++) {
      const before = (await sim.collect()).slots;
      const { server, port, accepted } = await listen();
      servers.push(server);
      await command(`AT+CIPSTART=${id},"TCP","127.0.0.1",${port}`);
      peers.push(await accepted);
      linkSlots.push((await sim.collect()).slots - before);
    }
    const cipsend = await count(async () => {
      await command("AT+CIPSEND=0,1024", ">");
      uart.write(KIB);
      await read("SEND OK\r\n");
    });
    const ipd = await count(async () => {
      peers[0].write(KIB);
      await read(/\+IPD,0,1024:a{1024}/);
    });
    return {
      atRoundTrip,
      cipsend1KiB: cipsend,
      ipd1KiB: ipd,
      slotsAfterBoot: bootSlots,
      slotsPerLink: Math.max(...linkSlots),
    };
  } finally {
    for (const p of peers) p.destroy();
    for (const s of servers) s.close();
    uart.destroy();
    await sim.stop();
  }
}

/** The socket module's costs: a 32-byte echo round trip, an accept, and an idle TCP socket's slots. */
async function socketCosts(): Promise<Partial<Record<CostName, number>>> {
  const echo = await appBoard("bench/apps/bulk", { mode: "echo" });
  let socketRoundTrip: number;
  let accept: number;
  try {
    const count = meter(echo.sim);
    let client!: Socket;
    // The accept, and the app's first recv on the new socket.
    accept = await count(async () => {
      client = await connect(echo.port);
      while (echo.sim.openSockets < 2) await new Promise((r) => setImmediate(r));
    });
    const read = reader(client);
    const message = "x".repeat(32);
    client.write(message);
    await read(message);
    socketRoundTrip = await count(async () => {
      client.write(message);
      await read(message);
    });
    client.destroy();
  } finally {
    await echo.sim.stop();
  }

  return { socketRoundTrip, accept, slotsPerIdleSocket: await idleSocketSlots() };
}

/**
 * The XS heap slots one more open idle TCP socket holds (bench/apps/idle holds what it accepts).
 * Measured after a first socket: its first use of the preloaded modules' state copies that state
 * into the board's heap once (XS's aliases, as on the chip), which is not a cost per socket.
 */
export async function idleSocketSlots(): Promise<number> {
  const idle = await appBoard("bench/apps/idle", {});
  const clients: Socket[] = [];
  // Each connection the host took is delivered before the collection that follows.
  const held = async (count: number) => {
    while (idle.sim.openSockets < count + 1) await new Promise((r) => setImmediate(r));
  };
  try {
    clients.push(await connect(idle.port));
    await held(1);
    const before = (await idle.sim.collect()).slots;
    for (let i = 0; i < SAMPLES; i++) clients.push(await connect(idle.port));
    await held(SAMPLES + 1);
    const after = (await idle.sim.collect()).slots;
    return Math.ceil((after - before) / SAMPLES);
  } finally {
    for (const c of clients) c.destroy();
    await idle.sim.stop();
  }
}

/** Every cost that has a budget. */
export async function measureCosts(): Promise<Record<CostName, number>> {
  return { ...(await consoleCosts()), ...(await socketCosts()) } as Record<CostName, number>;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const costs = await measureCosts();
  console.log(`${"cost".padEnd(20)} ${"now".padStart(8)} ${"budget".padStart(8)}  unit`);
  for (const [name, budget] of Object.entries(budgets) as [CostName, (typeof budgets)[CostName]][]) {
    const flag = costs[name] > budget.limit ? "  OVER BUDGET" : "";
    console.log(`${name.padEnd(20)} ${String(costs[name]).padStart(8)} ${String(budget.limit).padStart(8)}  ${budget.unit}${flag}`);
  }
}
