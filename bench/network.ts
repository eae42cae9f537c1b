// What the network commands cost the firmware, on every board in boards/: the XS computrons
// and deliveries of each command, against one bare `AT` measured on the same board in the same
// run, and the time from a link drop's end to the address again.
//   npm run bench:network      (BENCH_DROP_MS=300: how long the link stays down)
// The computrons are XS's own count: they do not depend on the machine's speed.
import { createConnection, type Socket } from "node:net";
import { readdirSync } from "node:fs";
import { Simulator } from "../host-sim/simulator.ts";

const DROP_MS = Number(process.env.BENCH_DROP_MS ?? 300);
const BOARDS = readdirSync(new URL("../boards/esp32", import.meta.url)).map((name) => `esp32/${name}`);

interface Cost {
  compute: number;
  deliveries: number;
}

/** A board on a TCP UART, with XS's work counted between mark() and the text awaited. */
async function open(board: string) {
  const sim = await Simulator.start({ board, uart: "tcp:0", log: () => {} });
  const cost: Cost = { compute: 0, deliveries: 0 };
  sim.onDelivery = (_kind, meter) => {
    cost.compute += meter.compute;
    cost.deliveries++;
  };
  const uart: Socket = createConnection(Number(sim.uart.path.slice(4)), "127.0.0.1");
  let text = "";
  uart.on("data", (d) => (text += d.toString("latin1")));
  const until = (pattern: RegExp, timeoutMs = 10000) =>
    new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`${board}: no ${pattern} in ${JSON.stringify(text.slice(-200))}`)), timeoutMs);
      const check = () => {
        if (!pattern.test(text)) return void setTimeout(check, 2);
        clearTimeout(deadline);
        resolve();
      };
      check();
    });
  /** Runs a command; returns what XS spent on it, to its OK (or ERROR). */
  async function command(line: string): Promise<Cost> {
    await new Promise((r) => setTimeout(r, 20)); // earlier deliveries' meters come in
    text = "";
    cost.compute = cost.deliveries = 0;
    uart.write(`${line}\r\n`);
    await until(/\r\n(OK|ERROR)\r\n$/);
    if (text.includes("ERROR")) throw new Error(`${board}: ${line} answered ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 20));
    return { ...cost };
  }
  await until(/ready\r\n/);
  return {
    sim,
    command,
    until,
    clear: () => (text = ""),
    async close() {
      uart.destroy();
      await sim.stop();
    },
  };
}

const rows: string[][] = [];
const show = (board: string, what: string, c: Cost, at: Cost) =>
  rows.push([board, what, String(c.compute), String(c.deliveries), `${(c.compute / at.compute).toFixed(1)}x`]);

for (const board of BOARDS) {
  const b = await open(board);
  const wired = b.sim.board.network.driver === "ethernet/esp32";
  if (wired) await b.until(/\+ETH_GOT_IP/); // the link comes up at boot
  await b.command("ATE0");
  const at = await b.command("AT");
  show(board, "AT (reference)", at, at);
  if (wired) {
    show(board, "AT+CIPETH?", await b.command("AT+CIPETH?"), at);
  } else {
    show(board, 'AT+CWJAP="xsock-sim",""', await b.command('AT+CWJAP="xsock-sim",""'), at);
    show(board, "AT+CWLAP", await b.command("AT+CWLAP"), at);
    show(board, "AT+CWJAP?", await b.command("AT+CWJAP?"), at);
    show(board, "AT+CIPSTA?", await b.command("AT+CIPSTA?"), at);
    show(board, "AT+CWMODE=3 (SoftAP on)", await b.command("AT+CWMODE=3"), at);
    show(board, 'AT+CWSAP="bench","",6,0,4,0', await b.command('AT+CWSAP="bench","",6,0,4,0'), at);
    show(board, 'AT+CIPAP="192.168.7.1"', await b.command('AT+CIPAP="192.168.7.1"'), at);
    show(board, 'AT+CWDHCPS=1,3,"192.168.7.10","192.168.7.20"', await b.command('AT+CWDHCPS=1,3,"192.168.7.10","192.168.7.20"'), at);
    show(board, "AT+CWDHCPS?", await b.command("AT+CWDHCPS?"), at);
  }
  show(board, "AT+CIFSR", await b.command("AT+CIFSR"), at);
  // A link drop: from the link back to the address again.
  b.clear();
  b.sim.fault("link-drop", DROP_MS);
  const back = performance.now() + DROP_MS;
  await b.until(wired ? /\+ETH_GOT_IP/ : /WIFI GOT IP/, DROP_MS + 10000);
  rows.push([board, `link back after a ${DROP_MS} ms drop, to ${wired ? "+ETH_GOT_IP" : "WIFI GOT IP"}`, "", "", `${Math.max(0, performance.now() - back).toFixed(0)} ms`]);
  await b.close();
}

const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...[["board", "command", "computrons", "deliveries", "vs AT"], ...rows].map((r) => r[i].length)));
for (const row of [["board", "command", "computrons", "deliveries", "vs AT"], ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i])).join("  "));
