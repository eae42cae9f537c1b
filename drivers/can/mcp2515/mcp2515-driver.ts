// Microchip's MCP2515 CAN controller (datasheet DS20001801) on SPI, as a CanDriver: reset and
// bit timing, the masks and filters from the hardware filter, three transmit buffers kept in
// the order frames were written, both receive buffers with rollover, and the interrupt flags
// and error counters turned into frames, room to write and CAN states.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_CRTL, CAN_ERR_CRTL_RX_OVERFLOW, CAN_INV_FILTER, CAN_RTR_FLAG, CAN_SFF_MASK, errorFrame, type CanFrame } from "xsock/can-frame";
import type { CanCounters, CanDriver, CanDriverOptions, CanMode, CanState, HardwareFilter } from "xsock/can";

/** The SPI bus as ECMA-419 gives it; flush(true) raises CS and ends an instruction. */
export interface SpiPort {
  transfer(buffer: Uint8Array): void;
  write(buffer: Uint8Array): void;
  flush(deselect?: boolean): void;
}

/** The INT line: 0 while the MCP2515 has an enabled interrupt pending. */
export interface InterruptPin {
  read(): number;
}

export interface Mcp2515Options {
  /** The crystal on the module, in Hz (8 MHz on the common blue modules, 16 MHz on others). */
  oscillator: number;
  /** Runs a callback on a later turn (Timer.set(callback, 0) on the board). */
  defer(callback: () => void): void;
}

// SPI instructions (section 12)
const RESET = 0xc0;
const READ = 0x03;
const WRITE = 0x02;
const BIT_MODIFY = 0x05;
const READ_STATUS = 0xa0;
const RTS = 0x80;
const READ_RX_BUFFER = Object.freeze([0x90, 0x94]); // from RXBnSIDH

// Registers (section 11)
const RXF0SIDH = 0x00;
const RXF3SIDH = 0x10;
const RXM0SIDH = 0x20;
const CANSTAT = 0x0e;
const CANCTRL = 0x0f;
const TEC = 0x1c;
const CNF3 = 0x28;
const CANINTE = 0x2b;
const CANINTF = 0x2c;
const EFLG = 0x2d;
const TXBCTRL = Object.freeze([0x30, 0x40, 0x50]);
const RXB0CTRL = 0x60;

// CANINTE / CANINTF
const RX0IF = 0x01;
const RX1IF = 0x02;
const TX0IF = 0x04;
const TX_FLAGS = 0x1c;
const ERRIF = 0x20;
const MERRF = 0x80;
const ENABLED = RX0IF | RX1IF | TX_FLAGS | ERRIF | MERRF;

// EFLG
const EWARN = 0x01;
const RXWAR = 0x02;
const TXWAR = 0x04;
const RXEP = 0x08;
const TXEP = 0x10;
const TXBO = 0x20;
const RX0OVR = 0x40;
const RX1OVR = 0x80;

// CANCTRL: REQOP in bits 7-5, ABAT, OSM; CLKOUT off.
const ABAT = 0x10;
const OSM = 0x08;
const REQOP_NORMAL = 0;
const REQOP_LISTEN_ONLY = 3;
const REQOP_CONFIGURATION = 4;
const MODE_NAMES = Object.freeze(["normal", "sleep", "loopback", "listen-only", "configuration"]);

// RXBnCTRL
const RXM_OFF = 0x60; // RXM 11: masks and filters off, every frame
const BUKT = 0x04;
// TXBnSIDL / RXFnSIDL / RXBnSIDL
const EXIDE = 0x08;
const SRR = 0x10;
// TXBnDLC / RXBnDLC
const DLC_RTR = 0x40;

/** OPMOD polls before a mode change counts as failed: a frame on the wire delays it. */
const MODE_POLLS = 2000;
/** Interrupt passes in one turn before the rest waits for the next. */
const MAX_PASSES = 32;

/** The bitrates xsock offers (the board file's). */
export const CAN_BITRATES: readonly number[] = Object.freeze([25000, 50000, 100000, 125000, 250000, 500000, 800000, 1000000]);

export interface BitTiming {
  cnf1: number;
  cnf2: number;
  cnf3: number;
  /** BRP + 1: oscillator periods / 2 in a time quantum. */
  prescaler: number;
  quanta: number;
  propSeg: number;
  ps1: number;
  ps2: number;
  sjw: number;
  samplePoint: number;
}

/**
 * CNF1-3 for a bitrate, or undefined when the oscillator cannot make it exactly within the
 * datasheet's rules (section 5): 8 to 25 time quanta of 2 x (BRP + 1) oscillator periods,
 * PropSeg and PS1 of 1 to 8, PS2 of 2 to 8 with PropSeg + PS1 >= PS2, SJW 1. Of the settings
 * that fit, it takes the sample point nearest 87.5% (CiA's), then the most quanta.
 */
export function bitTiming(oscillator: number, bitrate: number): BitTiming | undefined {
  let best: BitTiming | undefined;
  for (let quanta = 25; quanta >= 8; quanta--) {
    if ((oscillator / 2) % (bitrate * quanta) !== 0) continue;
    const prescaler = oscillator / 2 / (bitrate * quanta);
    if (prescaler < 1 || prescaler > 64) continue;
    const ps2 = Math.min(8, Math.max(2, Math.round(quanta / 8), quanta - 17));
    const ps1 = Math.min(8, Math.ceil((quanta - 1 - ps2) / 2));
    const propSeg = quanta - 1 - ps2 - ps1;
    if (propSeg < 1 || propSeg > 8 || propSeg + ps1 < ps2) continue;
    const sjw = 1;
    const samplePoint = (1 + propSeg + ps1) / quanta;
    if (best && Math.abs(best.samplePoint - 0.875) <= Math.abs(samplePoint - 0.875)) continue;
    best = {
      cnf1: ((sjw - 1) << 6) | (prescaler - 1),
      cnf2: 0x80 | ((ps1 - 1) << 3) | (propSeg - 1), // BTLMODE: PS2 from CNF3
      cnf3: ps2 - 1,
      prescaler,
      quanta,
      propSeg,
      ps1,
      ps2,
      sjw,
      samplePoint,
    };
  }
  return best;
}

/** The bitrates of CAN_BITRATES an oscillator reaches: 25k-500k on 8 MHz, 25k-1M on 16 MHz, all but 800k on 20 MHz. */
export function bitratesFor(oscillator: number): number[] {
  return CAN_BITRATES.filter((bitrate) => bitTiming(oscillator, bitrate) !== undefined);
}

/** An identifier as SIDH, SIDL, EID8, EID0 (transmit buffers, filters, masks). */
function idBytes(id: number, extended: boolean, exide: boolean): number[] {
  if (!extended) return [(id >> 3) & 0xff, (id & 7) << 5, 0, 0];
  const sid = id >>> 18;
  return [(sid >> 3) & 0xff, ((sid & 7) << 5) | (exide ? EXIDE : 0) | ((id >> 16) & 3), (id >> 8) & 0xff, id & 0xff];
}

/** What the masks and filters hold: register images of RXF0-5 and RXM0-1, and RXB0/1CTRL. */
export interface Acceptance {
  rxb0ctrl: number;
  rxb1ctrl: number;
  masks: number[][];
  filters: number[][];
}

/**
 * The masks and filters for a hardware filter in SocketCAN's polarity (a 1 in can_mask is a
 * bit that must match, as in the MCP2515's masks). They pass every frame the filter passes and
 * maybe more, never less: CAN_RTR_FLAG is not filtered, an inverted filter passes everything.
 * When can_mask leaves the frame format open, RXB0 takes standard frames and RXB1 extended ones.
 */
export function acceptance(filter?: HardwareFilter): Acceptance {
  const none = [0, 0, 0, 0];
  if (!filter || (filter.can_id & CAN_INV_FILTER) !== 0) return { rxb0ctrl: RXM_OFF | BUKT, rxb1ctrl: RXM_OFF, masks: [none, none], filters: Array(6).fill(none) };
  const standard = { mask: idBytes(filter.can_mask & CAN_SFF_MASK, false, false), filter: idBytes(filter.can_id & CAN_SFF_MASK, false, false) };
  const extended = { mask: idBytes(filter.can_mask & CAN_EFF_MASK, true, false), filter: idBytes(filter.can_id & CAN_EFF_MASK, true, true) };
  let rxb0 = standard;
  let rxb1 = extended;
  if (filter.can_mask & CAN_EFF_FLAG) rxb0 = rxb1 = filter.can_id & CAN_EFF_FLAG ? extended : standard;
  // RXM 00: filters on; with the EID mask bits 0, a standard frame's data bytes do not count.
  return { rxb0ctrl: BUKT, rxb1ctrl: 0, masks: [rxb0.mask, rxb1.mask], filters: [rxb0.filter, rxb0.filter, rxb1.filter, rxb1.filter, rxb1.filter, rxb1.filter] };
}

function stateOf(eflg: number): CanState {
  if (eflg & TXBO) return "bus-off";
  if (eflg & (TXEP | RXEP)) return "error-passive";
  if (eflg & (TXWAR | RXWAR | EWARN)) return "error-warning";
  return "error-active";
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}

export class Mcp2515 implements CanDriver {
  readonly name = "mcp2515";
  readonly fd = false;
  readonly bitrates: readonly number[];
  readonly oscillator: number;
  /** Frames lost because both receive buffers were full (EFLG RX0OVR, RX1OVR). */
  overflows = 0;
  /** Errors on the bus while sending or receiving (CANINTF MERRF). */
  busErrors = 0;
  /** Frames dropped from the transmit buffers: by bus-off, stop(), or one-shot mode's single try. */
  dropped = 0;
  readonly #spi: SpiPort;
  readonly #int: InterruptPin;
  readonly #defer: (callback: () => void) => void;
  #options?: CanDriverOptions;
  #running = false;
  #state: CanState = "stopped";
  #counters: CanCounters = { tx: 0, rx: 0 };
  /** Transmit buffers holding a frame (bit n for TXBn), oldest first in #order. */
  #busy = 0;
  #order: number[] = [];
  #priority = [0, 0, 0];
  /** write() said no: onWritable is owed. */
  #blocked = false;
  /** MERRE is off until a frame goes through, so a retransmitting frame is not an interrupt storm. */
  #quietErrors = false;

  constructor(spi: SpiPort, interrupt: InterruptPin, options: Mcp2515Options) {
    this.#spi = spi;
    this.#int = interrupt;
    this.#defer = options.defer;
    this.oscillator = options.oscillator;
    this.bitrates = bitratesFor(options.oscillator);
  }

  get state(): CanState {
    return this.#state;
  }

  /** TEC and REC, read from the controller while it runs. */
  get counters(): CanCounters {
    if (this.#running && this.#state !== "bus-off") {
      const [tec, rec] = this.#read(TEC, 2);
      this.#counters = { tx: tec, rx: rec };
    }
    return { ...this.#counters };
  }

  start(options: CanDriverOptions): void {
    const timing = bitTiming(this.oscillator, options.bitrate);
    if (!timing)
      throw new RangeError(`an MCP2515 on a ${this.oscillator / 1e6} MHz crystal runs at ${this.bitrates.join(", ")} bit/s, not ${options.bitrate}`);
    if (this.#running) this.stop();
    this.#options = options;
    this.#reset();
    this.#write(CNF3, [timing.cnf3, timing.cnf2, timing.cnf1]); // CNF3, CNF2, CNF1 are 28h-2Ah
    const plan = acceptance(options.filter);
    this.#write(RXF0SIDH, plan.filters.slice(0, 3).flat());
    this.#write(RXF3SIDH, plan.filters.slice(3).flat());
    this.#write(RXM0SIDH, plan.masks.flat());
    this.#write(RXB0CTRL, [plan.rxb0ctrl]);
    this.#write(RXB0CTRL + 0x10, [plan.rxb1ctrl]);
    this.#write(CANINTE, [ENABLED]);
    this.#quietErrors = false;
    this.#busy = 0;
    this.#order = [];
    this.#blocked = false;
    this.#enterOperatingMode();
    this.#running = true;
    this.#state = "error-active";
    this.#counters = { tx: 0, rx: 0 };
    if (this.#int.read() === 0) this.#defer(() => this.interrupt());
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#state = "stopped";
    try {
      this.#write(CANINTE, [0]);
      this.#setMode(REQOP_CONFIGURATION, ABAT); // abort what waits to be sent, off the bus
      this.#write(CANINTF, [0]);
    } catch {
      // a controller that stopped answering is stopped too
    }
    this.#drop(this.#busy);
  }

  write(frame: CanFrame): boolean {
    if (frame.fd) throw new RangeError("the MCP2515 does not carry CAN FD frames");
    if (!this.#running || this.#state === "bus-off" || this.#options?.mode === "listen-only") return false;
    let n = this.#freeBuffer();
    if (n < 0) {
      this.#release(this.#sentBuffers()); // one may have finished since the last interrupt
      n = this.#freeBuffer();
    }
    if (n < 0) {
      this.#blocked = true;
      return false;
    }
    // The controller sends the highest TXP first: frames keep their order when each new one
    // gets a lower priority than those still waiting, which move up as the oldest leave.
    this.#order.forEach((buffer, i) => {
      if (this.#priority[buffer] !== 3 - i) {
        this.#priority[buffer] = 3 - i;
        this.#modify(TXBCTRL[buffer], 0x03, 3 - i);
      }
    });
    this.#priority[n] = 3 - this.#order.length;
    const extended = (frame.can_id & CAN_EFF_FLAG) !== 0;
    const rtr = (frame.can_id & CAN_RTR_FLAG) !== 0;
    const id = frame.can_id & (extended ? CAN_EFF_MASK : CAN_SFF_MASK);
    const length = rtr ? 0 : frame.len;
    // WRITE from TXBnCTRL: the priority, SIDH, SIDL, EID8, EID0, DLC and the data; then RTS.
    const bytes = new Uint8Array(8 + length);
    bytes[0] = WRITE;
    bytes[1] = TXBCTRL[n];
    bytes[2] = this.#priority[n];
    bytes.set(idBytes(id, extended, true), 3);
    bytes[7] = (rtr ? DLC_RTR : 0) | frame.len;
    if (length) bytes.set(frame.data.subarray(0, length), 8);
    this.#spi.write(bytes);
    this.#spi.flush(true);
    this.#command(Uint8Array.of(RTS | (1 << n)));
    this.#busy |= 1 << n;
    this.#order.push(n);
    return true;
  }

  /** After bus-off the driver holds the controller in configuration mode; this lets it back on. */
  recover(): void {
    if (!this.#running || this.#state !== "bus-off") return;
    this.#enterOperatingMode();
    this.#quietErrors = false;
    this.#write(CANINTE, [ENABLED]);
    this.#setState("error-active", { tx: 0, rx: 0 });
    if (this.#blocked) {
      this.#blocked = false;
      this.#options?.onWritable();
    }
  }

  /**
   * The INT line fell: serve the controller until no enabled flag is pending (INT is high
   * again), for the line only falls again after that.
   */
  interrupt(): void {
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      if (!this.#running || !this.#serve() || this.#int.read() !== 0) return;
    }
    this.#defer(() => this.interrupt()); // still busy: let others run first
  }

  /** One pass over CANINTF and EFLG; false when nothing enabled was pending. */
  #serve(): boolean {
    const options = this.#options!;
    const [flags, eflg] = this.#read(CANINTF, 2);
    // A change of error state or an overflow raises ERRIF, so nothing enabled means nothing new.
    if (!(flags & (this.#quietErrors ? ENABLED & ~MERRF : ENABLED))) return false;
    let intf = flags;
    const frames: CanFrame[] = [];
    if (intf & RX0IF) {
      frames.push(this.#readFrame(0));
      // A frame may have rolled over into RXB1 while RXB0 was read: take it now, in order.
      if (!(intf & RX1IF)) intf |= this.#read(CANINTF, 1)[0] & RX1IF;
    }
    if (intf & RX1IF) frames.push(this.#readFrame(1));
    // TXnIF: sent. A buffer freed without it (one-shot's single try, an abort) shows in READ STATUS.
    let sent = 0;
    for (let n = 0; n < 3; n++) if (this.#busy & (1 << n) && intf & (TX0IF << n)) sent |= 1 << n;
    if (this.#busy & ~sent && intf & MERRF) sent |= this.#sentBuffers();
    if (eflg & (RX0OVR | RX1OVR)) {
      this.#modify(EFLG, eflg & (RX0OVR | RX1OVR), 0);
      const lost = (eflg & RX0OVR ? 1 : 0) + (eflg & RX1OVR ? 1 : 0);
      this.overflows += lost;
      frames.push(errorFrame(CAN_ERR_CRTL, [0, CAN_ERR_CRTL_RX_OVERFLOW]));
    }
    const clear = intf & (TX_FLAGS | ERRIF | MERRF);
    if (clear) this.#modify(CANINTF, clear, 0);
    if (intf & MERRF) {
      this.busErrors++;
      // In one-shot mode (no-ack) a failed frame raises only MERRF: keep it on.
      if (options.mode !== "no-ack" && !this.#quietErrors) {
        this.#quietErrors = true;
        this.#modify(CANINTE, MERRF, 0);
      }
    } else if (this.#quietErrors && intf & (RX0IF | RX1IF | TX_FLAGS)) {
      this.#quietErrors = false;
      this.#modify(CANINTE, MERRF, MERRF);
    }
    const state = stateOf(eflg);
    const counters = state !== this.#state || intf & (ERRIF | MERRF) ? this.#readCounters() : this.#counters;
    for (const frame of frames) options.onReceive(frame);
    if (!this.#running) return false;
    this.#release(sent);
    if (state === "bus-off" && this.#state !== "bus-off") this.#holdOffBus();
    this.#setState(state, counters);
    return true;
  }

  #readCounters(): CanCounters {
    const [tec, rec] = this.#read(TEC, 2);
    return { tx: tec, rx: rec };
  }

  #setState(state: CanState, counters: CanCounters): void {
    this.#counters = counters;
    if (state === this.#state) return;
    this.#state = state;
    this.#options?.onState(state, { ...counters });
  }

  /**
   * Bus-off: the MCP2515 would come back by itself after 128 x 11 recessive bits. Holding it in
   * configuration mode (which clears its counters) leaves the restart to recover(), as Linux's
   * mcp251x does; what waited to be sent is aborted.
   */
  #holdOffBus(): void {
    this.#setMode(REQOP_CONFIGURATION, ABAT);
    this.#write(CANINTF, [0]);
    this.#drop(this.#busy);
  }

  /** RXBn's frame, with READ RX BUFFER (which frees the buffer when CS rises). */
  #readFrame(n: number): CanFrame {
    const bytes = new Uint8Array(14);
    bytes[0] = READ_RX_BUFFER[n];
    this.#spi.transfer(bytes);
    this.#spi.flush(true);
    const [, sidh, sidl, eid8, eid0, dlc] = bytes;
    const len = Math.min(dlc & 0x0f, 8);
    const sid = (sidh << 3) | (sidl >> 5);
    if (sidl & EXIDE) {
      const rtr = (dlc & DLC_RTR) !== 0;
      const can_id = (CAN_EFF_FLAG | (rtr ? CAN_RTR_FLAG : 0) | (sid << 18) | ((sidl & 3) << 16) | (eid8 << 8) | eid0) >>> 0;
      return { can_id, len, data: rtr ? new Uint8Array(0) : bytes.slice(6, 6 + len) };
    }
    const rtr = (sidl & SRR) !== 0;
    return { can_id: ((rtr ? CAN_RTR_FLAG : 0) | sid) >>> 0, len, data: rtr ? new Uint8Array(0) : bytes.slice(6, 6 + len) };
  }

  /** Buffers this driver filled whose TXREQ has dropped: sent, or aborted (READ STATUS). */
  #sentBuffers(): number {
    const status = this.#transfer(Uint8Array.of(READ_STATUS, 0))[1];
    let done = 0;
    for (let n = 0; n < 3; n++) if (this.#busy & (1 << n) && !(status & (0x04 << (2 * n)))) done |= 1 << n;
    return done;
  }

  #freeBuffer(): number {
    for (let n = 0; n < 3; n++) if (!(this.#busy & (1 << n))) return n;
    return -1;
  }

  #release(buffers: number): void {
    if (!buffers) return;
    this.#busy &= ~buffers;
    this.#order = this.#order.filter((n) => !(buffers & (1 << n)));
    if (this.#blocked) {
      this.#blocked = false;
      this.#options?.onWritable();
    }
  }

  #drop(buffers: number): void {
    for (let n = 0; n < 3; n++) if (buffers & (1 << n)) this.dropped++;
    this.#busy &= ~buffers;
    this.#order = this.#order.filter((n) => !(buffers & (1 << n)));
  }

  /** RESET, then configuration mode, as the datasheet leaves it (CANCTRL 87h). */
  #reset(): void {
    this.#command(Uint8Array.of(RESET));
    let canstat = 0;
    for (let i = 0; i < MODE_POLLS; i++) {
      canstat = this.#read(CANSTAT, 1)[0];
      if (canstat >> 5 === REQOP_CONFIGURATION) break;
    }
    const canctrl = this.#read(CANCTRL, 1)[0];
    // Linux's mcp251x probes the same way: ABAT, CLKEN and CLKPRE as a reset leaves them.
    if (canstat >> 5 !== REQOP_CONFIGURATION || (canctrl & 0x17) !== 0x07)
      throw new Error(`no MCP2515 answers on SPI: after RESET, CANSTAT reads ${hex(canstat)} and CANCTRL ${hex(canctrl)} (expected 0x80 and 0x87)`);
  }

  #enterOperatingMode(): void {
    const mode: CanMode = this.#options!.mode;
    // The MCP2515 has no self-acknowledging mode. no-ack sends each frame once (one-shot,
    // OSM): unacknowledged, it is not repeated, and TEC stops at 128 (error-passive).
    if (mode === "listen-only") this.#setMode(REQOP_LISTEN_ONLY, 0);
    else this.#setMode(REQOP_NORMAL, mode === "no-ack" ? OSM : 0);
  }

  /** Writes REQOP (and the other CANCTRL bits), then waits until OPMOD shows the mode. */
  #setMode(reqop: number, bits: number): void {
    this.#write(CANCTRL, [(reqop << 5) | bits]);
    let canstat = 0;
    for (let i = 0; i < MODE_POLLS; i++) {
      canstat = this.#read(CANSTAT, 1)[0];
      if (canstat >> 5 === reqop) return;
    }
    throw new Error(`the MCP2515 did not enter ${MODE_NAMES[reqop]} mode: CANSTAT reads ${hex(canstat)}`);
  }

  // ---- SPI: one instruction per CS low ----

  #transfer(bytes: Uint8Array): Uint8Array {
    this.#spi.transfer(bytes);
    this.#spi.flush(true);
    return bytes;
  }

  #command(bytes: Uint8Array): void {
    this.#spi.write(bytes);
    this.#spi.flush(true);
  }

  #read(address: number, count: number): Uint8Array {
    const bytes = new Uint8Array(2 + count);
    bytes[0] = READ;
    bytes[1] = address;
    return this.#transfer(bytes).subarray(2);
  }

  #write(address: number, values: number[]): void {
    const bytes = new Uint8Array(2 + values.length);
    bytes[0] = WRITE;
    bytes[1] = address;
    bytes.set(values, 2);
    this.#command(bytes);
  }

  #modify(address: number, mask: number, value: number): void {
    this.#command(Uint8Array.of(BIT_MODIFY, address, mask, value));
  }
}
