// The simulator's control socket (`xsock sim --control [HOST:]PORT`): a line protocol on a TCP
// port on loopback that injects faults into a running board and reports its state. Each
// command gets its reply lines, then `OK` or `ERROR <reason>`; several clients may connect.
import { BlockList, createServer, isIPv4, isIPv6, type Server, type Socket } from "node:net";
import { FAULT_KINDS, parseFault, type FaultKind } from "./faults.ts";
import { MAC } from "./devices/wifi.ts";

/** What the control socket drives: the Simulator. */
export interface ControlledBoard {
  fault(kind: FaultKind, forMs?: number): void;
  /** A phone joins the board's SoftAP; returns the address DHCP gives it. Throws with the reason it is refused. */
  stationJoin(mac: string): string;
  /** A phone leaves the board's SoftAP. Throws when it is not on it. */
  stationLeave(mac: string): void;
  /** `name value` lines that describe the board now. */
  status(): string[];
}

export interface ControlAddress {
  host: string;
  port: number;
}

/** A command line longer than this gets ERROR. */
export const MAX_CONTROL_LINE = 256;

const HELP = [
  "fault KIND [+FOR]   inject a fault now: link-drop (+FOR: the AP out of reach that long), dhcp-fail (+FOR: that long; without it, for good; +0 ends it), can-bus-off (+FOR: no recovery before it is over)",
  "station join MAC    a phone with this MAC joins the board's SoftAP (AT+CWMODE=2 or 3); replies with the address DHCP gives it",
  "station leave MAC   that phone leaves the SoftAP",
  "status              the board, its address, boots, open sockets, XS heap and the faults under way",
  "help                this list",
  "quit                close this connection",
];

/** 127.0.0.0/8 and ::1: the only places the control socket listens. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

function isLoopback(host: string): boolean {
  return isIPv4(host) ? LOOPBACK.check(host, "ipv4") : isIPv6(host) && LOOPBACK.check(host, "ipv6");
}

/** `PORT`, `HOST:PORT` or `[IPV6]:PORT`, on loopback only (127.0.0.0/8, ::1, localhost); HOST defaults to 127.0.0.1. */
export function parseControlAddress(spec: string): ControlAddress {
  const m = /^(?:\[([^\]]*)\]:|([^:[\]]*):)?(\d{1,5})$/.exec(spec);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new Error(`bad --control "${spec}": use PORT, HOST:PORT or [::1]:PORT (port 0 picks one)`);
  const named = m[1] ?? m[2] ?? "127.0.0.1";
  const host = named === "localhost" ? "127.0.0.1" : named;
  if (!isLoopback(host)) throw new Error(`--control listens on loopback only (127.0.0.1, ::1 or localhost), not on "${named}"`);
  return { host, port };
}

/** Runs one control command line; returns the reply lines, the last `OK` or `ERROR <reason>`. */
export function runControlLine(board: ControlledBoard, line: string): string[] {
  const [command, ...args] = line.trim().split(/\s+/);
  try {
    switch (command.toLowerCase()) {
      case "fault": {
        // `fault link-drop +2s` or `fault link-drop+2s`: --fault's KIND+FOR, starting now.
        const spec = args.join("");
        const kind = /^[a-z-]*/i.exec(spec)![0];
        if (!(FAULT_KINDS as readonly string[]).includes(kind)) return [`ERROR ${kind ? `no fault "${kind}"` : "fault needs a kind"}: the faults are ${FAULT_KINDS.join(", ")} (fault link-drop +2s)`];
        if (spec.includes("@")) return ["ERROR a fault from the control socket starts now: leave out @WHEN"];
        let fault;
        try {
          fault = parseFault(spec);
        } catch {
          return [`ERROR bad length "${spec.slice(kind.length)}": use fault ${kind} [+FOR], FOR such as 2s or 500ms`];
        }
        board.fault(fault.kind, fault.for);
        return ["OK"];
      }
      case "station": {
        const [verb = "", mac, ...rest] = args;
        const usage = "use station join MAC or station leave MAC (MAC as aa:bb:cc:dd:ee:ff)";
        if (!/^(join|leave)$/i.test(verb)) return [`ERROR ${verb ? `no station command "${verb}"` : "station needs join or leave"}: ${usage}`];
        if (!mac || rest.length) return [`ERROR station ${verb.toLowerCase()} takes one MAC: ${usage}`];
        if (!MAC.test(mac)) return [`ERROR bad MAC "${mac}": ${usage}`];
        if (verb.toLowerCase() === "join") return [`ip ${board.stationJoin(mac)}`, "OK"];
        board.stationLeave(mac);
        return ["OK"];
      }
      case "status":
        return args.length ? ["ERROR status takes no arguments"] : [...board.status(), "OK"];
      case "help":
      case "?":
        return [...HELP, "OK"];
      default:
        return [`ERROR unknown command "${command}": the commands are fault, station, status, help, quit`];
    }
  } catch (e) {
    return [`ERROR ${(e as Error).message}`];
  }
}

export interface ControlServer {
  readonly address: ControlAddress;
  close(): Promise<void>;
}

/** Listens at `address` (loopback only) and serves the control commands on `board`. */
export async function openControl(address: ControlAddress, board: ControlledBoard): Promise<ControlServer> {
  parseControlAddress(`[${address.host}]:${address.port}`); // loopback, whoever calls
  const clients = new Set<Socket>();
  const server: Server = createServer((socket) => {
    clients.add(socket);
    socket.on("close", () => clients.delete(socket));
    socket.on("error", () => {});
    serve(socket, board);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(new Error(`--control ${address.host}:${address.port}: ${e.code === "EADDRINUSE" ? "the port is in use" : e.message}`)));
    server.listen(address.port, address.host, () => resolve());
  });
  const bound = server.address() as { address: string; port: number };
  return {
    address: { host: bound.address, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One client: lines in (LF or CR-LF), replies out, until it goes or says quit. */
function serve(socket: Socket, board: ControlledBoard): void {
  let line = "";
  let overlong = false;
  const reply = (lines: string[]) => socket.write(lines.map((l) => `${l}\r\n`).join(""));
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    for (const piece of chunk.split(/(\n)/)) {
      if (piece !== "\n") {
        if (line.length + piece.length > MAX_CONTROL_LINE) overlong = true;
        else line += piece;
        continue;
      }
      const text = line.replace(/\r$/, "").trim();
      const tooLong = overlong;
      line = "";
      overlong = false;
      if (tooLong) reply([`ERROR a line is at most ${MAX_CONTROL_LINE} characters`]);
      else if (/^(quit|exit)$/i.test(text)) {
        reply(["OK"]);
        socket.end();
        return;
      } else if (text) reply(runControlLine(board, text));
    }
  });
}
