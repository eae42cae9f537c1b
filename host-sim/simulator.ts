// One simulated board: the firmware on XS, its UART, timers, network, Wi-Fi and CAN bus.
import { decode, encode } from "./xs/codec.ts";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { hostHas } from "./host-addresses.ts";
import { PACKAGE_ROOT } from "./package-root.ts";
import { loadBoard, type Board } from "./board.ts";
import { Capture } from "./capture/capture.ts";
import { Trace, TRACK } from "./capture/trace.ts";
import { CanBus } from "./devices/can-bus.ts";
import { CanUdpTransport, type CanTransportSpec } from "./devices/can-udp.ts";
import { ETHERNET_MAC, ethernet, type EthernetDevice } from "./devices/ethernet.ts";
import { Addressing, DHCP_DNS, ipconfig, type IpConfigDevice } from "./devices/ipconfig.ts";
import { gpio, NO_WIRING } from "./devices/gpio.ts";
import { Mcp2515Module } from "./devices/mcp2515-module.ts";
import { network, tcpWindow, type NetworkDevice } from "./devices/network.ts";
import { ota } from "./devices/ota.ts";
import { FLOW_CONTROLS, serial, UNPACED_BUFFER, type FlowControl, type SerialDevice } from "./devices/serial.ts";
import { system, type Flash } from "./devices/system.ts";
import { timers } from "./devices/timers.ts";
import { twai } from "./devices/twai.ts";
import { DEFAULT_APS, STATION_MAC, wifi, type AccessPoint, type WifiRadio } from "./devices/wifi.ts";
import { NetworkFaults, type FaultKind, type FaultSpec } from "./faults.ts";
import { openControl, type ControlAddress, type ControlServer } from "./control.ts";
import { buildFirmware, type Firmware } from "./firmware.ts";
import { PlatformError, type Host, type OpHandler, type SimEvent } from "./host.ts";
import { openUartLine, type UartLine, type UartSpec } from "./uart-line.ts";
import { boardWorkerPath, XsnapWorker, type Meter } from "./xsnap.ts";

/** What the firmware told (host-sim/xs/bridge.ts's tell()): each command as its op, then its arguments. */
type Told = (string | never[])[];

export const ROOT_APP = PACKAGE_ROOT;

/**
 * The board's chunk heap, scaled to this host: XS's chunks hold slots (array items, closures'
 * variables), 32 bytes each on a 64-bit host and 16 on the ESP32.
 */
const CHUNK_SCALE = 2;

/**
 * Chunk bytes for the bridge's copies of I/O data, beyond the board's: an unpaced 16 KB UART or
 * TCP read is in XS as the delivery's message, its decoded bytes and the encoded write to Node,
 * where the board holds one smaller buffer, outside XS.
 */
const BRIDGE_CHUNKS = 10 * UNPACED_BUFFER;

/** xsnap-worker's exit codes when XS aborts with "memory full" and "stack overflow". */
const XS_NOT_ENOUGH_MEMORY = 11;
const XS_STACK_OVERFLOW = 12;

/** XS stack slots for the frames of the simulator's bridge (the codec, the issueCommand proxies), beyond the board's. */
const BRIDGE_STACK = 256;


export interface SimOptions {
  /** A folder with a manifest.json; the root app (the ESP-AT modem) by default. */
  app?: string;
  /** Overrides of the manifest's config, as `mcconfig key=value` gives them. */
  config?: Record<string, unknown>;
  /** A board id (Moddable target name) or a path to a board.json. */
  board?: string;
  uart?: UartSpec;
  /** With the UART on a terminal (stdio): bytes as typed, no line editor. */
  rawTerminal?: boolean;
  /** Paces the UART at this line rate, 8N1. */
  baud?: number;
  /** RTS/CTS (the default: the client waits) or none (a full receive FIFO loses bytes). */
  flow?: FlowControl;
  aps?: AccessPoint[];
  /** The board's address; 127.0.0.1 by default. */
  ip?: string;
  /** Faults to inject, each at its time after the first boot. */
  faults?: FaultSpec[];
  /** Shares the board's CAN bus with python-can over its udp_multicast transport; in-process only without it. */
  can?: CanTransportSpec;
  /** The board's CAN bus, for callers that attach nodes before it boots; a bus of its own by default. */
  canBus?: CanBus;
  /** Opens the control socket here (loopback only) once the board has booted. */
  control?: ControlAddress;
  /** Writes a pcapng capture of the network, the CAN bus, the UART and the faults here, as the run goes. */
  pcap?: string;
  /** Writes a timeline of the run here, as it goes, in the Chrome trace event format (Perfetto). */
  trace?: string;
  verbose?: boolean;
  /** Where the simulator's log goes; stderr by default. */
  log?: (line: string) => void;
  /** Called once the UART line is open, before the firmware starts. */
  onUart?: (path: string) => void;
  /** Sees every byte the firmware sends out of its UART, from boot on. */
  onOutput?: (bytes: Uint8Array) => void;
  /** Sees each boot and each Wi-Fi change. */
  onEvent?: (event: SimEvent) => void;
}

/** XS's figures after the last delivery. */
export interface HeapFigures {
  /** Heap slots the firmware holds, beyond XS's built-ins. */
  slots: number;
  /** Heap slots in use, built-ins included. */
  totalSlots: number;
  /** Bytes XS has reserved. */
  allocated: number;
  /** Computrons of the last delivery. */
  compute: number;
}

/** This process's temporary files (scripts, snapshots), removed when it exits. */
let tempDir: string | undefined;
let tempFiles = 0;

/** A fresh folder for a file that XS's stacks name by its file name. */
function tempFolder(): string {
  if (!tempDir) {
    const dir = (tempDir = mkdtempSync(join(tmpdir(), "xsock-")));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  const sub = join(tempDir, String(tempFiles++));
  mkdirSync(sub);
  return sub;
}

const scriptFiles = new Map<string, string>();

/** A file holding `code`, named `<name>.js` (XS's stacks name it), one per content: boards of the same firmware share them. */
function scriptFile(name: string, code: string): string {
  const key = `${name}:${createHash("sha256").update(code).digest("hex")}`;
  let path = scriptFiles.get(key);
  if (!path) {
    path = join(tempFolder(), `${name}.js`);
    writeFileSync(path, code);
    scriptFiles.set(key, path);
  }
  return path;
}

/**
 * Snapshots of an XS machine that has run the bridge and the firmware's preload, by firmware
 * (its scripts hold the board file and the config too): the first board of a firmware writes
 * one, and the others start from it instead of parsing the firmware again. Undefined when that
 * board failed before it wrote it: the others then load the firmware themselves.
 */
const snapshots = new Map<string, Promise<string | undefined>>();

const firmwareKeys = new WeakMap<Firmware, string>();

/** The firmware's scripts' hash: once per build, as boards of one build share its Firmware. */
function firmwareKey(firmware: Firmware): string {
  let key = firmwareKeys.get(firmware);
  if (key === undefined) {
    key = createHash("sha256").update(firmware.bridge.code).update("\0").update(firmware.app.code).digest("hex");
    firmwareKeys.set(firmware, key);
  }
  return key;
}

export class Simulator {
  /** Resolves with the exit code once the simulator has stopped. */
  readonly stopped: Promise<number>;
  /** Every delivery's meter, for those who count XS's work. */
  onDelivery?: (kind: string, meter: Meter) => void;
  private finish!: (code: number) => void;
  private readonly ops = new Map<string, OpHandler>();
  private worker!: XsnapWorker;
  private baselineSlots = 0;
  private last: Meter = { compute: 0, currentHeapCount: 0, allocate: 0 };
  private traceLine = "";
  private closers: { close(): void }[] = [];
  private net!: NetworkDevice;
  private wifiDevice!: WifiRadio;
  /** The Ethernet port, on boards whose network driver is ethernet/esp32. */
  private ethernetDevice?: EthernetDevice;
  private readonly networkFaults = new NetworkFaults();
  /** The board's CAN bus: its controller is one node, the transport and test handles others. It outlives restarts. */
  readonly can: CanBus;
  /** The controller the board's CAN driver has (its TWAI, or an MCP2515), where the bus-off fault lands. */
  private canController?: { busOff(forMs?: number): void; active(): string[] };
  private canTransport?: CanUdpTransport;
  private mcp2515?: Mcp2515Module;
  private faultTimers: NodeJS.Timeout[] = [];
  private uartDevice!: SerialDevice;
  private stopping = false;
  /** A deep sleep's wake-up (AT+GSLP): a stop cancels it. */
  private sleeping?: NodeJS.Timeout;
  /** A restart is under way: the old XS machine's end is expected. */
  private restarting = false;
  /** NVS: it outlives restarts. */
  private readonly flash: Flash = new Map();
  /** The ESP32's system time starts at 1970 when the simulator starts, and outlives restarts. */
  private readonly rtc = { offset: -Date.now() };
  /** Boots so far: 1 after the first, one more with each restart. */
  boots = 0;
  private collectFirst = false;
  private firmware?: Firmware;
  /** What an OTA update set as the boot partition: the next restart boots it. */
  private bootFirmware?: Firmware;
  /** The control socket, with --control: where it listens. */
  control?: ControlServer;
  /** The pcapng capture, with `pcap`. */
  private capture?: Capture;
  /** The timeline, with `trace`. */
  private timeline?: Trace;

  private constructor(
    readonly board: Board,
    readonly uart: UartLine,
    private readonly options: SimOptions,
  ) {
    this.stopped = new Promise((resolve) => (this.finish = resolve));
    this.can = options.canBus ?? new CanBus();
  }

  static async start(options: SimOptions = {}): Promise<Simulator> {
    if (options.flow && !FLOW_CONTROLS.includes(options.flow)) throw new Error(`bad flow control "${options.flow}": use ${FLOW_CONTROLS.join(" or ")}`);
    const board = loadBoard(options.board);
    const firmware = await buildFirmware(resolve(options.app ?? ROOT_APP), board, options.config);
    const started: { sim?: Simulator } = {};
    const uart = await openUartLine(options.uart ?? "stdio", () => void started.sim?.stop(), options.rawTerminal);
    const { onOutput } = options;
    if (onOutput) {
      const write = uart.write;
      uart.write = (bytes) => {
        onOutput(bytes);
        write(bytes);
      };
    }
    const sim = (started.sim = new Simulator(board, uart, options));
    if (options.pcap || options.trace) {
      try {
        if (options.pcap) sim.capture = sim.startCapture(options.pcap);
        if (options.trace) sim.timeline = sim.startTrace(options.trace);
      } catch (e) {
        await sim.capture?.close();
        uart.close();
        throw e;
      }
    }
    if (options.can) {
      try {
        sim.canTransport = await CanUdpTransport.open(options.can, sim.can, (line) => sim.log(line));
      } catch (e) {
        uart.close();
        throw e;
      }
      sim.log(`sim: the CAN bus is on udp-multicast [${options.can.group}]:${options.can.port}`);
    }
    options.onUart?.(uart.path);
    for (const f of options.faults ?? []) if (!f.at) sim.fault(f.kind, f.for);
    await sim.boot(firmware);
    sim.faultTimers = (options.faults ?? []).filter((f) => f.at).map((f) => setTimeout(() => sim.fault(f.kind, f.for), f.at));
    if (options.control) {
      try {
        sim.control = await openControl(options.control, sim);
      } catch (e) {
        await sim.stop(1);
        throw e;
      }
    }
    return sim;
  }

  /**
   * Injects a fault now. `link-drop` takes the link down (for `forMs`, else for a moment): the
   * station loses its AP and address, and every TCP connection is aborted. `dhcp-fail` leaves
   * joins without an address (for `forMs`, else for good). `can-bus-off` puts the CAN
   * controller bus-off (TEC past 255); it cannot recover before `forMs` is over.
   */
  fault(kind: FaultKind, forMs?: number): void {
    this.log(`sim: fault ${kind}${forMs === undefined ? "" : ` for ${forMs} ms`}`);
    this.capture?.note(`fault ${kind}${forMs === undefined ? "" : ` for ${forMs} ms`}`);
    this.timeline?.instant(TRACK.EVENTS, `fault ${kind}`, forMs === undefined ? undefined : { ms: forMs });
    if (kind === "can-bus-off") {
      if (this.canController) this.canController.busOff(forMs);
      else this.log(`sim: ${this.board.id} has no CAN controller the simulator models (${this.board.can.driver})`);
      return;
    }
    this.networkFaults.apply(kind, forMs);
    if (kind === "link-drop" && this.wifiDevice) {
      this.wifiDevice.drop();
      this.ethernetDevice?.drop();
      this.net.linkDown();
    }
  }

  /** A phone with this MAC joins the board's SoftAP; returns the address DHCP gives it. Throws when the SoftAP refuses it. */
  stationJoin(mac: string): string {
    const ip = this.wifiDevice.stationJoin(mac);
    this.log(`sim: ${mac.toLowerCase()} joins the SoftAP (${ip})`);
    return ip;
  }

  /** The phone with this MAC leaves the board's SoftAP. */
  stationLeave(mac: string): void {
    this.wifiDevice.stationLeave(mac);
    this.log(`sim: ${mac.toLowerCase()} leaves the SoftAP`);
  }

  get ip(): string {
    return this.options.ip ?? "127.0.0.1";
  }

  /** `name value` lines for the control socket's status. */
  status(): string[] {
    const faults = [...this.networkFaults.active(), ...(this.canController?.active() ?? [])];
    return [`board ${this.board.id}`, `ip ${this.ip}`, `boots ${this.boots}`, `sockets ${this.openSockets}`, `heap ${this.heap().slots} slots`, `faults ${faults.join(", ") || "none"}`];
  }

  /** XS's heap and computron figures after the last delivery. */
  heap(): HeapFigures {
    return {
      slots: this.last.currentHeapCount - this.baselineSlots,
      totalSlots: this.last.currentHeapCount,
      allocated: this.last.allocate,
      compute: this.last.compute,
    };
  }

  /** Has XS collect its garbage, then gives the heap figures: what the firmware holds live. */
  async collect(): Promise<HeapFigures> {
    this.account("gc", (await this.worker.deliver(encode([1, "gc", 0]))).meter);
    return this.heap();
  }

  /** Sockets the firmware has open now. */
  get openSockets(): number {
    return this.net.open;
  }

  /**
   * Restarts the board, as esp_restart() does: the devices and the XS machine go, and the
   * same firmware boots again (or the image an OTA update set to boot). The UART line stays
   * open and the flash keeps what it holds.
   * After a deep sleep it boots sleepMs later, and says nothing meanwhile.
   */
  async restart(sleepMs = 0): Promise<void> {
    if (this.restarting || this.stopping) return;
    this.restarting = true;
    for (const c of this.closers) c.close();
    this.ops.clear();
    this.uart.onData(() => {}); // bytes that arrive while the board is down are lost
    this.worker.close();
    await this.worker.exited;
    if (sleepMs) await new Promise((resolve) => (this.sleeping = setTimeout(resolve, sleepMs)));
    this.restarting = false;
    this.collectFirst = false;
    if (!this.stopping) await this.boot(this.bootFirmware ?? this.firmware!);
  }

  async stop(code = 0): Promise<number> {
    if (!this.stopping) {
      this.stopping = true;
      for (const t of this.faultTimers) clearTimeout(t);
      clearTimeout(this.sleeping);
      void this.control?.close();
      for (const c of this.closers) c.close();
      this.canTransport?.close();
      this.uart.close();
      this.worker?.close();
      await this.worker?.exited;
      await this.capture?.close();
      await this.timeline?.close();
      this.finish(code);
    }
    return this.stopped;
  }

  /**
   * Opens the capture and taps what the simulator sees: both ways of the UART, every frame on
   * the CAN bus (the board's, python-can's, the test's); the network devices tap their sockets
   * through the host.
   */
  private startCapture(path: string): Capture {
    const mac = this.board.network.driver === "ethernet/esp32" ? ETHERNET_MAC : STATION_MAC;
    const capture = new Capture(path, mac, this.ip, tcpWindow(this.board.chip));
    const { uart } = this;
    const write = uart.write;
    uart.write = (bytes) => {
      capture.uart(false, bytes);
      write(bytes);
    };
    const onData = uart.onData;
    uart.onData = (handler) =>
      onData((bytes) => {
        capture.uart(true, bytes);
        handler(bytes);
      });
    this.can.attach({ receive: (frame) => capture.can(frame) });
    return capture;
  }

  /**
   * Opens the timeline and taps what it follows here: both ways of the UART (and the AT
   * commands in them), every frame on the CAN bus; the devices add their sockets and states
   * through the host, and account() the deliveries.
   */
  private startTrace(path: string): Trace {
    const trace = new Trace(path, this.board.id);
    const { uart } = this;
    const write = uart.write;
    uart.write = (bytes) => {
      trace.uart(false, bytes);
      write(bytes);
    };
    const onData = uart.onData;
    uart.onData = (handler) =>
      onData((bytes) => {
        trace.uart(true, bytes);
        handler(bytes);
      });
    this.can.attach({ receive: (frame) => trace.canFrame(frame) });
    return trace;
  }

  private log(line: string): void {
    (this.options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  private async boot(firmware: Firmware): Promise<void> {
    this.firmware = firmware;
    // Snapshots need xsock's worker: it fixes the board's heap after the restore.
    const key = boardWorkerPath() === undefined ? undefined : firmwareKey(firmware);
    const snapshot = key === undefined ? undefined : await snapshots.get(key);
    if (this.stopping) return;
    let wrote: ((path: string | undefined) => void) | undefined;
    if (key !== undefined && !snapshots.has(key)) snapshots.set(key, new Promise((resolve) => (wrote = resolve)));
    const host: Host = {
      board: this.board,
      post: (kind, id, ...args) => this.post(kind, id, args),
      handle: (op, fn) => void this.ops.set(op, fn),
      log: (line) => this.log(line),
      debug: (line) => this.options.verbose && this.log(line),
      event: (event) => {
        this.capture?.note(Object.entries(event).map(([k, v]) => (k === "event" ? v : `${k} ${v}`)).join(", "));
        if (event.event === "wifi") this.timeline?.state(TRACK.WIFI, event.state, event);
        else this.timeline?.instant(TRACK.EVENTS, event.event, event);
        this.options.onEvent?.(event);
      },
      capture: this.capture,
      trace: this.timeline,
    };
    this.ops.set("trace", (text: string) => this.trace(text));
    this.ops.set("fatal", (kind: string, message: string, stack: string) => this.fatal(kind, message, stack));
    // esp_netif's addressing, DNS and hostnames start afresh with each boot.
    const netifs: { device?: IpConfigDevice } = {};
    const dns = () => netifs.device?.dnsServers ?? DHCP_DNS;
    const wifiDevice = (this.wifiDevice = wifi(host, this.options.aps ?? DEFAULT_APS, this.ip, this.networkFaults, new Addressing(), dns));
    // On a wired board the Ethernet port answers `net` (registered after Wi-Fi, it takes over).
    const wired = this.board.network.driver === "ethernet/esp32" ? ethernet(host, this.ip, this.networkFaults, new Addressing(), dns) : undefined;
    this.ethernetDevice = wired;
    netifs.device = ipconfig(host, { WIFI_STA_DEF: wifiDevice, WIFI_AP_DEF: wifiDevice.softApInterface, ETH_DEF: wired });
    // Sockets bind to the board's address where the host has it (a static 127.x), else to the simulator's:
    // the station's, or with none the SoftAP's while it runs (ESP-IDF's 192.168.4.1 is the simulator's).
    const onHost = (ip: string | undefined) => (ip === undefined || hostHas(ip) ? ip : this.ip);
    const boardIp = () => (wired ?? wifiDevice).ip ?? (wifiDevice.softAp && wifiDevice.softApInterface.address?.ip);
    this.net = network(host, () => onHost(boardIp()), this.options.ip, () => netifs.device?.dnsServers);
    this.uartDevice = serial(host, this.uart, this.options.baud, this.options.flow);
    const board = system(host, this.flash, this.rtc, {
      slots: () => this.heap().slots,
      sockets: () => this.net.open,
      restart: (sleepMs) => void this.restart(sleepMs),
    });
    const can = this.board.can.driver === "twai" ? twai(host, this.can) : undefined;
    // An MCP2515 module on the GPIO pins: its own chip, it outlives restarts of the ESP32.
    if (this.board.can.driver === "mcp2515") this.mcp2515 ??= new Mcp2515Module(this.board.can, this.can, (line) => host.debug(line), () => this.capture?.canBusOff(), (state) => this.timeline?.state(TRACK.CAN_CONTROLLER, state));
    this.canController = can ?? this.mcp2515;
    const pins = gpio(host, this.mcp2515?.wiring ?? NO_WIRING);
    const update = ota(host, (next) => (this.bootFirmware = next));
    this.closers = [timers(host), this.net, this.uartDevice, wifiDevice, ...(wired ? [wired] : []), board, ...(can ? [can] : []), pins, update];

    this.worker = new XsnapWorker(
      "xsock-sim",
      (m) => this.answer(m),
      (reply) => reply.length && this.runTold(decode(reply) as Told),
      this.board.limits.xs.stack + BRIDGE_STACK,
      snapshot,
    );
    const worker = this.worker;
    const current = () => !this.stopping && !this.restarting && this.worker === worker;
    const [out, err] = this.worker.output;
    out.on("data", (d: Buffer) => this.log(d.toString().trimEnd()));
    err.on("data", (d: Buffer) => current() && this.log(`xs: ${d.toString().trimEnd()}`));
    void worker.exited.then((exit) => {
      // XS's own abort (xsnap-worker's exit code 11), with the board's heap in xsock's worker.
      const { xs } = this.board.limits;
      if (exit === XS_NOT_ENOUGH_MEMORY && current()) {
        this.fatal("memory full", `XS found no room in ${this.board.id}'s heap (${xs.heap} slots, ${xs.chunk} bytes of chunks)`, "");
      } else if (exit === XS_STACK_OVERFLOW && current()) {
        this.fatal("stack overflow", `XS's stack is ${xs.stack} slots on ${this.board.id} (${xs.stack + BRIDGE_STACK} with the simulator's bridge)`, "");
      } else if (current()) {
        this.log(`firmware: the XS machine stopped (exit code ${exit})`);
        void this.stop(1);
      }
    });

    // XS runs both scripts from files, so its stacks name their lines. The bridge is the
    // simulator's, not the board's: the firmware's heap is counted from after it.
    try {
      if (snapshot !== undefined) host.debug("xs: the machine starts from the snapshot of the firmware's preload");
      else {
        await this.worker.execute(scriptFile("bridge", firmware.bridge.code));
        await this.worker.execute(scriptFile("firmware", firmware.app.code));
        // The heap is counted from after the bridge and the preloaded modules, which the
        // board keeps in flash; collections drop what instantiating them left behind.
        await this.worker.deliver(encode([0, "preload", 0]));
        if (wrote) {
          // Before the heap is fixed: each board fixes its own after the restore.
          const path = join(tempFolder(), "firmware.xss");
          await this.worker.writeSnapshot(path);
          wrote(path);
          wrote = undefined;
        }
      }
      if (worker.boardSized) {
        // From here XS's heap is the board's: its room beyond what is live, fixed.
        const { heap, chunk } = this.board.limits.xs;
        const room = await worker.fixHeap(heap, chunk * CHUNK_SCALE + BRIDGE_CHUNKS);
        host.debug(`xs: the heap is fixed at ${room.slots} slots and ${room.chunkBytes} chunk bytes beyond the preload's ${room.liveSlots} and ${room.liveChunkBytes}; ${room.shared ? "the preload shared as the chip's flash" : "the preload in the board's heap"}`);
      }
      this.baselineSlots = (await this.worker.deliver(encode([1, "gc", 0]))).meter.currentHeapCount;
      this.account("boot", (await this.worker.deliver(encode([0, "boot", 0]))).meter);
      await this.collect();
      this.boots++;
      this.options.onEvent?.({ event: "boot", boot: this.boots });
      this.timeline?.instant(TRACK.EVENTS, "boot", { event: "boot", boot: this.boots });
    } catch (e) {
      if (wrote) {
        snapshots.delete(key!);
        wrote(undefined);
      }
      // A firmware that dies at boot has been reported already; the exit code says so.
      if (!this.stopping) throw e;
    }
  }

  /**
   * Delivers an event. When the last delivery left the heap over the board's room, this one
   * has XS collect first, as XS on the chip collects when an allocation finds no room.
   */
  private post(kind: string, id: number, args: unknown[]): void {
    if (this.stopping) return;
    // The bridge hands a handler two arguments, read by index (host-sim/xs/bridge.ts).
    if (args.length > 2) throw new Error(`an event takes at most two arguments: ${kind} has ${args.length}`);
    let collected = false;
    const worker = this.worker;
    worker.post(
      () => {
        collected = this.collectFirst || kind === "gc";
        this.collectFirst = false;
        return [collected ? 1 : 0, kind, id, ...args.map((a) => (typeof a === "function" ? (a as () => unknown)() : a))];
      },
      (d) => this.account(kind, d.meter, collected),
      (e: Error) => {
        // A restart closes the machine, then waits for the snapshot before the next one is there.
        if (!this.stopping && !this.restarting && !worker.closed && this.worker === worker) this.fatal("delivery failed", e.message, "");
      },
    );
  }

  private account(kind: string, meter: Meter, collected = false): void {
    this.last = meter;
    this.onDelivery?.(kind, meter);
    this.timeline?.delivery(meter.compute, meter.currentHeapCount - this.baselineSlots);
    if (this.options.verbose) this.log(`xs: ${kind}: ${meter.compute} computrons, ${meter.currentHeapCount - this.baselineSlots} slots`);
    // On xsock's worker XS holds the limit itself; on @agoric/xsnap's the simulator counts.
    if (this.worker.boardSized) return;
    const slots = meter.currentHeapCount - this.baselineSlots;
    const room = this.board.limits.xs.heap;
    if (slots <= room || this.stopping) return;
    if (kind === "gc") this.fatal("memory full", `the firmware holds ${slots} live XS slots; ${this.board.id} has room for ${room}`, "");
    else if (collected) this.post("gc", 0, []); // still over after a collection: look closer
    else this.collectFirst = true;
  }

  private answer(message: Uint8Array): unknown {
    const reply = (ok: boolean, value: unknown) => [ok, value ?? null];
    const failure = (e: unknown) => {
      const err = e as PlatformError;
      return reply(false, { message: err.message ?? String(e), errno: err.errno, code: err.code });
    };
    try {
      const [told, op, args] = decode(message) as [Told, string, never[]];
      this.runTold(told);
      const value = this.op(op)(...args);
      return value instanceof Promise ? value.then((v) => reply(true, v), failure) : reply(true, value);
    } catch (e) {
      return failure(e);
    }
  }

  private op(name: string): OpHandler {
    const fn = this.ops.get(name);
    if (!fn) throw new PlatformError(`the simulator has no "${name}"`);
    return fn;
  }

  /** Runs what the firmware told without waiting for an answer; a failure is the firmware's bug. */
  private runTold(told: Told): void {
    for (let i = 0; i < told.length; i += 2) {
      const op = told[i] as string;
      const args = told[i + 1] as never[];
      try {
        void this.op(op)(...args);
      } catch (e) {
        this.fatal("platform misuse", `${op}: ${(e as Error).message}`, "");
      }
    }
  }

  /** Moddable's trace() writes no newline of its own: log whole lines. */
  private trace(text: string): void {
    this.traceLine += text;
    const lines = this.traceLine.split("\n");
    this.traceLine = lines.pop() ?? "";
    for (const line of lines) this.log(line.replace(/\r$/, ""));
  }

  /** `at f (/tmp/.../firmware.js:12)` becomes `at f (src/at/console.ts:40)`. */
  private mapFrame(frame: string): string {
    return frame.replace(/\([^()]*\/(firmware|bridge)\.js:(\d+)\)/, (whole, file: string, line: string) => {
      const source = this.firmware?.[file === "bridge" ? "bridge" : "app"].source(Number(line));
      return source ? `(${source})` : whole;
    });
  }

  private fatal(kind: string, message: string, stack: string): void {
    this.log(`firmware: ${kind}: ${message}`);
    for (const line of stack.split("\n").slice(1)) if (line.trim()) this.log(`  ${this.mapFrame(line.trim())}`);
    void this.stop(1);
  }
}
