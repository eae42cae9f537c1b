// The simulator as a library for test suites: `import { startSim } from "xsock/sim"`.
import { CanPort, type FrameMatch } from "./can-port.ts";
import { CanBus, type BusFrame } from "./devices/can-bus.ts";
import type { CanMessage } from "./devices/can-message.ts";
import { parseCanTransport, type CanTransportSpec } from "./devices/can-udp.ts";
import { parseAccessPoint, type AccessPoint } from "./devices/wifi.ts";
import { parseControlAddress, type ControlAddress } from "./control.ts";
import { parseFault, type FaultKind, type FaultSpec } from "./faults.ts";
import type { FlowControl } from "./devices/serial.ts";
import { Simulator, type HeapFigures } from "./simulator.ts";
import { TextWaiters } from "./text-waiters.ts";

export type { HeapFigures } from "./simulator.ts";
export type { FaultKind } from "./faults.ts";
export type { BusFrame } from "./devices/can-bus.ts";
export type { CanMessage } from "./devices/can-message.ts";
export type { FrameMatch } from "./can-port.ts";

export interface StartOptions {
  /** A folder with a manifest.json; the ESP-AT modem by default. */
  app?: string;
  /** A board id (Moddable target name) or a path to a board.json. */
  board?: string;
  /** Access points, as `SSID[:PASSWORD]` or whole; one open AP named xsock-sim by default. */
  aps?: (string | AccessPoint)[];
  /** Paces the UART at this line rate, 8N1; unpaced by default. */
  baud?: number;
  /** "rtscts" (default): the writer waits while the board's receive buffer is full; "none": bytes past its FIFO are lost, as --flow none. */
  flow?: FlowControl;
  /** The board's address; 127.0.0.1 by default. */
  ip?: string;
  /** Overrides of the manifest's config, as `mcconfig key=value` gives them. */
  config?: Record<string, unknown>;
  /** Faults to inject, as --fault takes them: `link-drop@5s+2s`, `dhcp-fail`, `can-bus-off@3s`. */
  faults?: (string | FaultSpec)[];
  /**
   * Shares the CAN bus with python-can, as --can takes it: `udp-multicast`,
   * `udp-multicast:GROUP` or `udp-multicast:[GROUP]:PORT`. In-process only without it.
   */
  can?: string | CanTransportSpec;
  /** Opens the control socket at `[HOST:]PORT` (a loopback address; port 0 picks one), as --control does. */
  control?: string | number | ControlAddress;
  /** "pty" puts the UART on a pseudo-terminal too, at `uart.path`; "memory" (default) keeps it in this process. */
  uart?: "memory" | "pty";
  /** Writes a pcapng capture of the run to this file as it goes: network, CAN bus, UART, faults and Wi-Fi events (see docs/simulator.md). */
  pcap?: string;
  /** Writes a timeline of the run to this file as it goes, in the Chrome trace event format: AT commands, sockets, UART, XS heap, Wi-Fi, CAN (see docs/simulator.md). */
  trace?: string;
  /** Sees every byte the board sends out of its UART, from boot on. */
  onOutput?: (bytes: Uint8Array) => void;
  /** Also hands each line of the simulator's log (trace output among it) here. */
  log?: (line: string) => void;
  /** Logs every XS delivery with its computrons and heap. */
  verbose?: boolean;
}

export interface ExpectOptions {
  /** Milliseconds; 5000 by default. */
  timeout?: number;
}

export interface BoardUart {
  /** The pty's path with `uart: "pty"`, else "memory". */
  readonly path: string;
  /** Sends bytes to the board, as a client on its UART would. */
  write(data: string | Uint8Array): void;
  /**
   * Waits for text (or a match) in what the board has sent, and returns everything up to its
   * end. What it returns is consumed: the next expect looks after it.
   */
  expect(what: string | RegExp, options?: ExpectOptions): Promise<string>;
  /** Every line the board sends from now on, without its line end. */
  lines(): AsyncIterableIterator<string>;
  /** What the board has sent that no expect has consumed yet. */
  readonly pending: string;
  /** Everything the board has sent (its last 4 MiB at least), one character per byte. */
  readonly text: string;
}

/** The test's node on the board's CAN bus; it acknowledges frames, as an adapter on a bench does. */
export interface BoardCan {
  /** Puts a frame on the bus, given as python-can's Message fields (is_extended_id true unless said). */
  send(message: CanMessage): BusFrame;
  /**
   * Waits for a frame another node sent (the board, or python-can over the transport) that
   * passes a predicate or has the fields given. It is taken: the next expect looks at the others.
   */
  expect(match: FrameMatch, options?: ExpectOptions): Promise<BusFrame>;
  /** Every frame the other nodes have sent since boot. */
  readonly frames: readonly BusFrame[];
}

export interface SimBoard {
  readonly uart: BoardUart;
  readonly can: BoardCan;
  /** The board's IP address. */
  readonly ip: string;
  /** The board id. */
  readonly board: string;
  /** The simulator's log so far: trace output and the simulator's own lines. */
  readonly log: string;
  /** Waits for a match in the log. */
  waitLog(pattern: RegExp, options?: ExpectOptions): Promise<RegExpMatchArray>;
  /** XS's figures after its last delivery: slots, total slots, bytes, computrons. */
  heap(): HeapFigures;
  /** Has XS collect its garbage first: the heap the firmware holds live. */
  collect(): Promise<HeapFigures>;
  /** Sockets the firmware has open now. */
  readonly openSockets: number;
  /** Where the control socket listens, with the `control` option. */
  readonly control?: ControlAddress;
  /**
   * Injects a fault now: `link-drop` takes the link down (for `forMs`, else for a moment) and
   * aborts every TCP connection; `dhcp-fail` leaves joins without an address; `can-bus-off`
   * puts the CAN controller bus-off (it cannot recover before `forMs` is over).
   */
  fault(kind: FaultKind, forMs?: number): void;
  /**
   * A phone with this MAC joins the board's SoftAP (on with AT+CWMODE=2 or 3): the console
   * prints +STA_CONNECTED, then +DIST_STA_IP once DHCP gives the address returned here. Throws
   * when the SoftAP is off or full, or the phone is on it already.
   */
  stationJoin(mac: string): string;
  /** The phone with this MAC leaves the SoftAP (+STA_DISCONNECTED); throws when it is not on it. */
  stationLeave(mac: string): void;
  /** Restarts the board, as esp_restart() does; flash is kept. */
  restart(): Promise<void>;
  /** Stops the board; resolves with its exit code (0, or 1 when the firmware died). */
  stop(): Promise<number>;
  /** Resolves with the exit code once the board has stopped, by stop() or by a firmware fault. */
  readonly stopped: Promise<number>;
}

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

/** Boots a simulated board. Several can run at once. */
export async function startSim(options: StartOptions = {}): Promise<SimBoard> {
  const output = new TextWaiters("the UART");
  const log = new TextWaiters("the log");
  const listeners = new Set<(text: string) => void>();
  const canBus = new CanBus();
  const port = new CanPort(canBus);
  const sim = await Simulator.start({
    canBus,
    app: options.app,
    board: options.board,
    config: options.config,
    baud: options.baud,
    flow: options.flow,
    ip: options.ip,
    faults: options.faults?.map((f) => (typeof f === "string" ? parseFault(f) : f)),
    can: typeof options.can === "string" ? parseCanTransport(options.can) : options.can,
    aps: options.aps?.map((ap, i) => (typeof ap === "string" ? parseAccessPoint(ap, i) : ap)),
    uart: options.uart ?? "memory",
    control: typeof options.control === "object" || options.control === undefined ? options.control : parseControlAddress(String(options.control)),
    verbose: options.verbose,
    pcap: options.pcap,
    trace: options.trace,
    log: (line) => {
      log.add(`${line}\n`);
      options.log?.(line);
    },
    onOutput: (bytes) => {
      const text = latin1(bytes);
      output.add(text);
      for (const listener of listeners) listener(text);
      options.onOutput?.(bytes);
    },
  });
  void sim.stopped.then((code) => {
    const why = `the board stopped (exit code ${code})`;
    output.end(why);
    log.end(why);
    port.end(why);
    for (const listener of listeners) listener("");
  });

  const uart: BoardUart = {
    path: sim.uart.path,
    write: (data) => sim.uart.receive(typeof data === "string" ? Buffer.from(data, "latin1") : data),
    expect: (what, o) => output.expect(what, o?.timeout ?? 5000),
    lines: () => lineIterator(listeners, sim.stopped),
    get pending() {
      return output.pending;
    },
    get text() {
      return output.all;
    },
  };
  const can: BoardCan = {
    send: (message) => port.send(message),
    expect: (match, o) => port.expect(match, o?.timeout ?? 5000),
    get frames() {
      return port.frames;
    },
  };
  return {
    uart,
    can,
    ip: sim.ip,
    board: sim.board.id,
    get log() {
      return log.all;
    },
    waitLog: async (pattern, o) => (await log.match(pattern, o?.timeout ?? 5000)) as RegExpMatchArray,
    heap: () => sim.heap(),
    collect: () => sim.collect(),
    get openSockets() {
      return sim.openSockets;
    },
    control: sim.control?.address,
    fault: (kind, forMs) => sim.fault(kind, forMs),
    stationJoin: (mac) => sim.stationJoin(mac),
    stationLeave: (mac) => sim.stationLeave(mac),
    restart: () => sim.restart(),
    stop: () => sim.stop(),
    stopped: sim.stopped,
  };
}

/** Lines of UART output from now on; it ends when the board stops. */
function lineIterator(listeners: Set<(text: string) => void>, stopped: Promise<number>): AsyncIterableIterator<string> {
  const ready: string[] = [];
  let partial = "";
  let done = false;
  let wake: (() => void) | undefined;
  const listener = (text: string) => {
    const lines = (partial + text).split("\n");
    partial = lines.pop()!;
    ready.push(...lines.map((l) => l.replace(/\r$/, "")));
    wake?.();
  };
  listeners.add(listener);
  void stopped.then(() => {
    done = true;
    wake?.();
  });
  const finish = () => {
    listeners.delete(listener);
    done = true;
    return Promise.resolve({ done: true as const, value: undefined });
  };
  return {
    async next() {
      while (!ready.length && !done) await new Promise<void>((r) => (wake = r));
      if (ready.length) return { done: false, value: ready.shift()! };
      return finish();
    },
    return: finish,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
