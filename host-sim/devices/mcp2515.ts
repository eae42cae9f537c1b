// A register-level model of Microchip's MCP2515 stand-alone CAN controller, written from its
// datasheet (DS20001801): the SPI instruction set, the register map with its reset values, the
// operating modes, bit timing from CNF1-3, the three transmit buffers with their priorities,
// the two receive buffers with masks, filters and rollover, the interrupt flags and the INT pin,
// and ISO 11898 fault confinement. It is one node on a CanBus.
import type { BusFrame, BusNode, CanBus } from "./can-bus.ts";

/** Time as the model sees it, in milliseconds, and a way to be called back at a later time. */
export interface ModelClock {
  now(): number;
  setTimer(delayMs: number, callback: () => void): { cancel(): void };
}

export const realClock: ModelClock = {
  now: () => performance.now(),
  setTimer(delayMs, callback) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref?.();
    return { cancel: () => clearTimeout(timer) };
  },
};

// Registers (DS20001801 section 11). CANSTAT and CANCTRL appear at xEh and xFh in every row.
const BFPCTRL = 0x0c;
const TXRTSCTRL = 0x0d;
const TEC = 0x1c;
const REC = 0x1d;
const CNF3 = 0x28;
const CNF2 = 0x29;
const CNF1 = 0x2a;
const CANINTE = 0x2b;
const CANINTF = 0x2c;
const EFLG = 0x2d;
const TXBCTRL = [0x30, 0x40, 0x50];
const RXBCTRL = [0x60, 0x70];

// CANINTE / CANINTF bits
const RX0IF = 0x01;
const RX1IF = 0x02;
const TXIF = [0x04, 0x08, 0x10];
const ERRIF = 0x20;
const WAKIF = 0x40;
const MERRF = 0x80;

// EFLG bits
const EWARN = 0x01;
const RXWAR = 0x02;
const TXWAR = 0x04;
const RXEP = 0x08;
const TXEP = 0x10;
const TXBO = 0x20;
const RX0OVR = 0x40;
const RX1OVR = 0x80;

// TXBnCTRL bits
const ABTF = 0x40;
const MLOA = 0x20;
const TXERR = 0x10;
const TXREQ = 0x08;

// CANCTRL bits
const ABAT = 0x10;
const OSM = 0x08;

/** REQOP / OPMOD values (CANCTRL[7:5], CANSTAT[7:5]). */
export const MODE = { normal: 0, sleep: 1, loopback: 2, listenOnly: 3, configuration: 4 } as const;
export type Mode = (typeof MODE)[keyof typeof MODE];
const MODE_NAMES: Record<number, string> = { 0: "normal", 1: "sleep", 2: "loopback", 3: "listen-only", 4: "configuration" };

/** How far behind the frames of other nodes may pile up when they come faster than the bus carries them. */
export const MAX_BACKLOG_MS = 50;

/** Registers the BIT MODIFY instruction reaches; on any other it writes the whole byte. */
function bitModifiable(address: number): boolean {
  const low = address & 0x0f;
  if (low === 0x0f) return true; // CANCTRL
  if (address === BFPCTRL || address === TXRTSCTRL) return true;
  if (address >= CNF3 && address <= EFLG) return true;
  return TXBCTRL.includes(address) || RXBCTRL.includes(address);
}

/** Registers written only in configuration mode: CNF1-3, TXRTSCTRL, filters and masks (section 10.1). */
function configurationOnly(address: number): boolean {
  if (address === TXRTSCTRL || (address >= CNF3 && address <= CNF1)) return true;
  return address < 0x0c || (address >= 0x10 && address < 0x1c) || (address >= 0x20 && address < 0x28);
}

/** Bits a WRITE sets in each register: unimplemented and read-only bits stay as they are. */
function writableBits(address: number): number {
  if (address < 0x1c && (address & 0x0f) < 0x0c) return (address & 3) === 1 ? 0xeb : 0xff; // RXFnSIDL: bits 4 and 2 unimplemented
  if (address >= 0x20 && address < 0x28) return (address & 3) === 1 ? 0xe3 : 0xff; // RXMnSIDL: bits 4-2 unimplemented
  switch (address) {
    case BFPCTRL:
      return 0x3f;
    case TXRTSCTRL:
      return 0x07;
    case CNF3:
      return 0xc7;
    case CNF2:
    case CNF1:
    case CANINTE:
    case CANINTF:
      return 0xff;
    case EFLG:
      return RX1OVR | RX0OVR;
    case TEC:
    case REC:
      return 0;
  }
  if ((address & 0x0f) === 0x0e) return 0; // CANSTAT
  if ((address & 0x0f) === 0x0f) return 0xff; // CANCTRL
  if (TXBCTRL.includes(address)) return TXREQ | 0x03;
  if (address >= 0x30 && address < 0x60) {
    const offset = (address & 0x0f) - 1;
    if (offset === 1) return 0xeb; // TXBnSIDL: bits 4 and 2 unimplemented
    if (offset === 4) return 0x4f; // TXBnDLC: bits 7, 5 and 4 unimplemented
    return 0xff;
  }
  if (address === RXBCTRL[0]) return 0x64; // RXM1:0, BUKT
  if (address === RXBCTRL[1]) return 0x60; // RXM1:0
  return 0; // receive buffers: written by the controller only
}

/** A frame as the controller holds it: 11- or 29-bit identifier, RTR, and up to 8 data bytes. */
export interface ModelFrame {
  id: number;
  extended: boolean;
  rtr: boolean;
  /** The DLC as sent, 0 to 15 (more than 8 still carries 8 bytes). */
  dlc: number;
  data: Uint8Array;
}

/** Bits on the wire for a frame, without stuff bits: SOF to EOF, and the 3-bit intermission. */
export function frameBits(frame: { extended: boolean; rtr: boolean; dlc: number }): number {
  const data = frame.rtr ? 0 : 8 * Math.min(frame.dlc, 8);
  return (frame.extended ? 67 : 47) + data;
}

/** The arbitration field as bits, first on the wire first: the lower sequence wins the bus. */
function arbitrationBits(frame: ModelFrame): number[] {
  const bits = (value: number, count: number) => Array.from({ length: count }, (_, i) => (value >>> (count - 1 - i)) & 1);
  if (!frame.extended) return [...bits(frame.id, 11), frame.rtr ? 1 : 0, 0];
  return [...bits(frame.id >>> 18, 11), 1, 1, ...bits(frame.id & 0x3ffff, 18), frame.rtr ? 1 : 0];
}

function winsArbitration(a: ModelFrame, b: ModelFrame): boolean {
  const x = arbitrationBits(a);
  const y = arbitrationBits(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i];
  return false;
}

/** The bit timing CNF1-3 select. */
export interface BitTiming {
  /** bit/s */
  bitrate: number;
  /** Time quanta per bit: SyncSeg + PropSeg + PS1 + PS2. */
  quanta: number;
  propSeg: number;
  ps1: number;
  ps2: number;
  sjw: number;
  /** Where the bit is sampled, as a fraction of the bit. */
  samplePoint: number;
  /** The datasheet's rules (section 5) the setting breaks, if any. */
  problems: string[];
}

/** CNF1-3 decoded as DS20001801 section 5 defines them, for an oscillator of `oscillator` Hz. */
export function decodeBitTiming(oscillator: number, cnf1: number, cnf2: number, cnf3: number): BitTiming {
  const brp = cnf1 & 0x3f;
  const sjw = (cnf1 >> 6) + 1;
  const propSeg = (cnf2 & 0x07) + 1;
  const ps1 = ((cnf2 >> 3) & 0x07) + 1;
  // BTLMODE 0: PS2 is the greater of PS1 and the information processing time (2 TQ).
  const ps2 = cnf2 & 0x80 ? (cnf3 & 0x07) + 1 : Math.max(ps1, 2);
  const quanta = 1 + propSeg + ps1 + ps2;
  const problems: string[] = [];
  if (quanta < 8 || quanta > 25) problems.push(`${quanta} time quanta in a bit (8 to 25)`);
  if (propSeg + ps1 < ps2) problems.push("PropSeg + PS1 < PS2");
  if (ps2 <= sjw) problems.push("PS2 <= SJW");
  if (ps2 < 2) problems.push("PS2 < 2 TQ");
  return { bitrate: oscillator / (2 * (brp + 1) * quanta), quanta, propSeg, ps1, ps2, sjw, samplePoint: (1 + propSeg + ps1) / quanta, problems };
}

export interface Mcp2515Options {
  /** The crystal on OSC1/OSC2, in Hz (8 MHz on the common modules). */
  oscillator: number;
  clock?: ModelClock;
  /** The bitrate the rest of the bus runs at; when set, another bitrate hears only errors. */
  busBitrate?: number;
  /** Where the model reports what it does (mode changes, bus-off), for the simulator's -v log. */
  log?: (line: string) => void;
  /** Called as the controller goes bus-off (the capture's error frame). */
  onBusOff?: () => void;
  /** Called as the controller's mode changes, goes bus-off or recovers (the trace's CAN controller track). */
  onState?: (state: string) => void;
}

interface InFlight {
  buffer: number;
  frame: ModelFrame;
  timer: { cancel(): void };
  startedAt: number;
  endsAt: number;
  /** The MCU cleared TXREQ or set ABAT while it was on the wire: no retransmission. */
  abort: boolean;
}

type Phase = "instruction" | "address" | "read" | "write" | "status" | "modify-address" | "modify-mask" | "modify-data" | "ignore";

/** The MCP2515. Drive it over SPI with select(), transfer() and deselect(); it answers on the bus. */
export class Mcp2515 implements BusNode {
  readonly oscillator: number;
  busBitrate?: number;
  readonly #clock: ModelClock;
  readonly #log: (line: string) => void;
  readonly #regs = new Uint8Array(128);
  #mode: Mode = MODE.configuration;
  #tec = 0;
  #rec = 0;
  #busOff = false;
  readonly #onBusOff?: () => void;
  readonly #onState?: (state: string) => void;
  #recovery?: { cancel(): void };
  #inFlight?: InFlight;
  #retry?: { cancel(): void };
  /** REQOP asked for while a frame was on the wire. */
  #pendingMode?: Mode;
  /** No transmission starts before this time: the bus integration after leaving configuration. */
  #idleFrom = 0;
  #lastEflg = 0;
  #rolledOver = false;
  /** Transmissions to spoil with a bit error, for tests and faults. */
  #bitErrors = 0;
  /** When the last frame another node sent is off the wire (model time). */
  #wireBusyUntil = -Infinity;
  /** A bus fault lasts until then (model time): see busFault(). */
  #brokenUntil = 0;
  #intLevel: 0 | 1 = 1;
  readonly #intListeners = new Set<(level: 0 | 1) => void>();
  #bus?: CanBus;
  #detach?: () => void;
  // SPI
  #selected = false;
  #phase: Phase = "instruction";
  #instruction = 0;
  #address = 0;
  #mask = 0;
  #status = 0;
  /** RXnIF bits a READ RX BUFFER clears when CS rises. */
  #clearOnDeselect = 0;

  constructor(options: Mcp2515Options) {
    this.oscillator = options.oscillator;
    this.busBitrate = options.busBitrate;
    this.#clock = options.clock ?? realClock;
    this.#log = options.log ?? (() => {});
    this.#onBusOff = options.onBusOff;
    this.#onState = options.onState;
    this.#reset();
  }

  /** Joins a bus; returns what leaves it. */
  attach(bus: CanBus): () => void {
    this.#detach?.();
    this.#bus = bus;
    const detach = bus.attach(this);
    this.#detach = () => {
      detach();
      if (this.#bus === bus) this.#bus = undefined;
    };
    return this.#detach;
  }

  // ---- pins ----

  /** The INT pin: 0 (low) while any enabled interrupt flag is set. */
  get int(): 0 | 1 {
    this.#catchUp();
    return this.#intLevel;
  }

  /** Calls `listener` with the INT pin's level each time it changes; returns what stops it. */
  onInt(listener: (level: 0 | 1) => void): () => void {
    this.#intListeners.add(listener);
    return () => this.#intListeners.delete(listener);
  }

  /** CS falls. */
  select(): void {
    this.#catchUp();
    this.#selected = true;
    this.#phase = "instruction";
  }

  /** CS rises: the instruction under way ends. */
  deselect(): void {
    if (!this.#selected) return;
    this.#selected = false;
    if (this.#clearOnDeselect) {
      this.#regs[CANINTF] &= ~this.#clearOnDeselect;
      this.#clearOnDeselect = 0;
    }
    this.#phase = "instruction";
    this.#settle();
  }

  /** Clocks bytes in on SI while CS is low; returns what SO gave back. */
  transfer(bytes: Uint8Array): Uint8Array {
    if (!this.#selected) this.select();
    this.#catchUp();
    const out = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = this.#exchange(bytes[i]);
    this.#settle();
    return out;
  }

  // ---- what a test or the simulator sees and does ----

  /** The operating mode (OPMOD). */
  get mode(): Mode {
    this.#catchUp();
    return this.#mode;
  }

  get modeName(): string {
    return MODE_NAMES[this.mode];
  }

  /** Transmit and receive error counters, as ISO 11898 counts them (TEC can pass 255: bus-off). */
  get counters(): { tec: number; rec: number; busOff: boolean } {
    this.#catchUp();
    return { tec: this.#tec, rec: this.#rec, busOff: this.#busOff };
  }

  /** Milliseconds of a bus fault (busFault) still to run, 0 when there is none. */
  get faultRemaining(): number {
    return Math.max(0, this.#brokenUntil - this.#clock.now());
  }

  /** The bit timing CNF1-3 hold now. */
  get timing(): BitTiming {
    return decodeBitTiming(this.oscillator, this.#regs[CNF1], this.#regs[CNF2], this.#regs[CNF3]);
  }

  /** A register as the MCU would read it, without the side effects of an SPI access. */
  peek(address: number): number {
    this.#catchUp();
    return this.#read(address & 0x7f);
  }

  /** The next `count` transmissions meet a bit error (a disturbed bus). */
  spoilTransmissions(count: number): void {
    this.#bitErrors += count;
  }

  /**
   * A bus fault (the bus held dominant, say) for `forMs`: the transmitter goes bus-off now (TEC
   * past 255, as a run of bit errors would leave it). Until the fault is over, every frame it
   * tries meets a bit error, and it neither recovers (128 x 11 recessive bits) nor joins the bus
   * again after configuration mode (11 recessive bits). A controller that is not on the bus
   * (configuration or sleep mode) only sees the bus stay broken.
   */
  busFault(forMs = 0): void {
    this.#catchUp();
    this.#brokenUntil = Math.max(this.#brokenUntil, this.#clock.now() + forMs);
    if (this.#mode === MODE.configuration || this.#mode === MODE.sleep || this.#busOff) return;
    this.#tec = 256;
    this.#enterBusOff();
    this.#settle();
  }

  // ---- the bus ----

  /**
   * A frame another node sent. The simulated bus hands frames over as they come (a burst from
   * python-can at once); a CAN bus carries one at a time, so a frame that comes while the last
   * one would still be on the wire ends one frame time after it, up to MAX_BACKLOG_MS behind.
   */
  receive(busFrame: BusFrame): void {
    this.#catchUp();
    const now = this.#clock.now();
    const duration = frameBits({ extended: busFrame.is_extended_id, rtr: busFrame.is_remote_frame, dlc: busFrame.dlc }) * this.#bitTimeMs();
    const end = Math.max(now, this.#wireBusyUntil + duration);
    if (end - now > MAX_BACKLOG_MS) {
      // More than the bus carries at this bitrate (python-can's UDP bus has no such limit):
      // no real bus could have carried it, and a backlog would delay every later frame.
      this.#log(`mcp2515: a frame more than ${MAX_BACKLOG_MS} ms of bus time behind: dropped`);
      return;
    }
    this.#wireBusyUntil = end;
    if (end <= now) {
      this.#hear(busFrame);
      this.#settle();
    } else {
      this.#schedule(end - now, () => {
        this.#hear(busFrame);
        this.#settle();
      });
    }
  }

  #hear(busFrame: BusFrame): void {
    if (this.#mode === MODE.sleep) {
      // Bus activity wakes the controller (WAKIF) into listen-only mode; that frame is lost.
      this.#regs[CANINTF] |= WAKIF;
      this.#enterMode(MODE.listenOnly);
      return;
    }
    if (this.#mode === MODE.configuration || this.#mode === MODE.loopback || this.#busOff) return;
    const listening = this.#mode === MODE.listenOnly;
    const garbled = this.#bitrateMismatch() || busFrame.is_fd || busFrame.is_error_frame;
    const frame: ModelFrame = {
      id: busFrame.arbitration_id >>> 0,
      extended: busFrame.is_extended_id,
      rtr: busFrame.is_remote_frame,
      dlc: busFrame.dlc,
      data: Uint8Array.from(busFrame.data.subarray(0, 8)),
    };
    const inFlight = this.#inFlight;
    if (inFlight && !garbled && !listening && winsArbitration(frame, inFlight.frame)) this.#loseArbitration(inFlight, frame);
    if (garbled) {
      // A frame this controller cannot decode: a receive error (a CAN FD frame is a form error
      // to a CAN 2.0 controller; another bitrate is noise).
      this.#regs[CANINTF] |= MERRF;
      if (!listening) this.#receiveError();
      return;
    }
    if (!listening) this.#receiveSuccess();
    this.#store(frame);
  }

  // ---- SPI instructions (DS20001801 section 12) ----

  #exchange(byte: number): number {
    switch (this.#phase) {
      case "instruction":
        return this.#startInstruction(byte);
      case "address":
        this.#address = byte & 0x7f;
        this.#phase = this.#instruction === 0x03 ? "read" : "write";
        return 0xff;
      case "read": {
        const value = this.#read(this.#address);
        this.#address = (this.#address + 1) & 0x7f;
        return value;
      }
      case "write":
        this.#write(this.#address, byte, 0xff);
        this.#address = (this.#address + 1) & 0x7f;
        return 0xff;
      case "status":
        return this.#status;
      case "modify-address":
        this.#address = byte & 0x7f;
        this.#phase = "modify-mask";
        return 0xff;
      case "modify-mask":
        this.#mask = bitModifiable(this.#address) ? byte : 0xff;
        this.#phase = "modify-data";
        return 0xff;
      case "modify-data":
        this.#write(this.#address, byte, this.#mask);
        this.#phase = "ignore";
        return 0xff;
      case "ignore":
        return 0xff;
    }
  }

  #startInstruction(byte: number): number {
    this.#instruction = byte;
    this.#phase = "ignore";
    if (byte === 0xc0) {
      this.#log(`mcp2515: RESET in ${MODE_NAMES[this.#mode]} mode`);
      this.#reset();
    }
    else if (byte === 0x03 || byte === 0x02) this.#phase = "address";
    else if (byte === 0x05) this.#phase = "modify-address";
    else if ((byte & 0xf9) === 0x90) {
      // READ RX BUFFER 1001 0nm0: n picks the buffer, m the start (SIDH or D0).
      const n = (byte >> 2) & 1;
      this.#address = RXBCTRL[n] + ((byte >> 1) & 1 ? 6 : 1);
      this.#clearOnDeselect |= n ? RX1IF : RX0IF;
      this.#phase = "read";
    } else if ((byte & 0xf8) === 0x40 && (byte & 0x07) < 6) {
      // LOAD TX BUFFER 0100 0abc: ab picks the buffer, c the start (SIDH or D0).
      this.#address = TXBCTRL[(byte >> 1) & 3] + (byte & 1 ? 6 : 1);
      this.#phase = "write";
    } else if ((byte & 0xf8) === 0x80) {
      for (let n = 0; n < 3; n++) if (byte & (1 << n)) this.#requestToSend(n);
    } else if (byte === 0xa0) {
      this.#status = this.#readStatus();
      this.#phase = "status";
    } else if (byte === 0xb0) {
      this.#status = this.#rxStatus();
      this.#phase = "status";
    }
    return 0xff;
  }

  /** READ STATUS: RX0IF, RX1IF, then TXREQ and TXnIF of each transmit buffer. */
  #readStatus(): number {
    const intf = this.#regs[CANINTF];
    let status = intf & (RX0IF | RX1IF);
    for (let n = 0; n < 3; n++) {
      if (this.#regs[TXBCTRL[n]] & TXREQ) status |= 0x04 << (2 * n);
      if (intf & TXIF[n]) status |= 0x08 << (2 * n);
    }
    return status;
  }

  /** RX STATUS: which buffers hold a message, and RXB0's (else RXB1's) type and filter. */
  #rxStatus(): number {
    const intf = this.#regs[CANINTF];
    const full = intf & (RX0IF | RX1IF);
    if (!full) return 0;
    const n = full & RX0IF ? 0 : 1;
    const base = RXBCTRL[n];
    const extended = (this.#regs[base + 2] & 0x08) !== 0;
    const rtr = extended ? (this.#regs[base + 5] & 0x40) !== 0 : (this.#regs[base + 2] & 0x10) !== 0;
    let filter = n === 0 ? this.#regs[base] & 0x01 : this.#regs[base] & 0x07;
    if (n === 1 && this.#rolledOver) filter |= 0x06;
    return (full << 6) | (extended ? 0x10 : 0) | (rtr ? 0x08 : 0) | filter;
  }

  // ---- registers ----

  #reset(): void {
    this.#inFlight?.timer.cancel();
    this.#inFlight = undefined;
    this.#retry?.cancel();
    this.#retry = undefined;
    this.#recovery?.cancel();
    this.#recovery = undefined;
    this.#pendingMode = undefined;
    // Reset values (section 11): CANCTRL 1000 0111, CANSTAT 100x 000x, the rest 0 or
    // unknown (the buffers and filters, which the model clears).
    this.#regs.fill(0);
    for (let row = 0; row < 8; row++) this.#regs[row * 16 + 0x0f] = 0x87;
    this.#regs[TXRTSCTRL] = 0x38; // the TXnRTS pins have pull-ups: they read high
    this.#mode = MODE.configuration;
    this.#onState?.(MODE_NAMES[MODE.configuration]);
    this.#tec = 0;
    this.#rec = 0;
    this.#busOff = false;
    this.#lastEflg = 0;
    this.#rolledOver = false;
    this.#clearOnDeselect = 0;
  }

  #read(address: number): number {
    const low = address & 0x0f;
    if (low === 0x0e) return (this.#mode << 5) | (this.#icod() << 1);
    if (low === 0x0f) return this.#regs[0x0f];
    if (address === TEC) return Math.min(this.#tec, 255);
    if (address === REC) return Math.min(this.#rec, 255);
    if (address === EFLG) return this.#eflg();
    if (address === RXBCTRL[0]) {
      const value = this.#regs[address];
      return value & 0x04 ? value | 0x02 : value & ~0x02; // BUKT1 copies BUKT
    }
    return this.#regs[address];
  }

  #write(address: number, value: number, mask: number): void {
    if (configurationOnly(address) && this.#mode !== MODE.configuration) return;
    const bits = writableBits(address) & mask;
    if (!bits) return;
    const low = address & 0x0f;
    if (low === 0x0f) {
      const before = this.#regs[0x0f];
      const after = (before & ~bits) | (value & bits);
      for (let row = 0; row < 8; row++) this.#regs[row * 16 + 0x0f] = after;
      this.#canctrlChanged(before, after);
      return;
    }
    const n = TXBCTRL.indexOf(address);
    if (n >= 0) {
      const before = this.#regs[address];
      this.#regs[address] = (before & ~bits) | (value & bits);
      if (bits & TXREQ) {
        if (value & TXREQ && !(before & TXREQ)) {
          this.#regs[address] &= ~TXREQ; // set through #requestToSend
          this.#requestToSend(n);
        } else if (!(value & TXREQ) && before & TXREQ) {
          this.#abortBuffer(n);
        }
      }
      return;
    }
    this.#regs[address] = (this.#regs[address] & ~bits) | (value & bits);
  }

  #canctrlChanged(before: number, after: number): void {
    if (after & ABAT && !(before & ABAT)) {
      for (let n = 0; n < 3; n++) if (this.#regs[TXBCTRL[n]] & TXREQ) this.#abortBuffer(n);
    }
    const requested = after >> 5;
    if (requested !== before >> 5) this.#requestMode(requested);
  }

  #icod(): number {
    const pending = this.#regs[CANINTE] & this.#regs[CANINTF];
    if (pending & ERRIF) return 1;
    if (pending & WAKIF) return 2;
    for (let n = 0; n < 3; n++) if (pending & TXIF[n]) return 3 + n;
    if (pending & RX0IF) return 6;
    if (pending & RX1IF) return 7;
    return 0;
  }

  /** EFLG: the receive overflows the MCU clears, and the error state from the counters. */
  #eflg(): number {
    let flags = this.#regs[EFLG] & (RX0OVR | RX1OVR);
    if (this.#tec >= 96) flags |= TXWAR;
    if (this.#rec >= 96) flags |= RXWAR;
    if (flags & (TXWAR | RXWAR)) flags |= EWARN;
    if (this.#tec >= 128) flags |= TXEP;
    if (this.#rec >= 128) flags |= RXEP;
    if (this.#busOff) flags |= TXBO;
    return flags;
  }

  /** After any change: ERRIF on a change of error state, and the INT pin. */
  #settle(): void {
    const state = this.#eflg() & 0x3f;
    if (state !== this.#lastEflg) {
      this.#lastEflg = state;
      if (this.#mode !== MODE.configuration) this.#regs[CANINTF] |= ERRIF;
    }
    const level = this.#regs[CANINTE] & this.#regs[CANINTF] ? 0 : 1;
    if (level !== this.#intLevel) {
      this.#intLevel = level;
      for (const listener of [...this.#intListeners]) listener(level);
    }
  }

  // ---- modes (section 10) ----

  #requestMode(requested: number): void {
    if (requested > MODE.configuration) return; // REQOP 101-111: not a mode
    if (this.#inFlight) {
      this.#pendingMode = requested as Mode; // the change waits for the frame on the wire
      return;
    }
    this.#enterMode(requested as Mode);
  }

  #enterMode(mode: Mode): void {
    this.#pendingMode = undefined;
    if (mode === this.#mode) return;
    const from = this.#mode;
    this.#mode = mode;
    this.#log(`mcp2515: ${MODE_NAMES[from]} mode -> ${MODE_NAMES[mode]} mode`);
    this.#onState?.(MODE_NAMES[mode]);
    if (mode === MODE.configuration) {
      // Entering configuration mode clears the error counters (section 10.1).
      this.#tec = 0;
      this.#rec = 0;
      this.#busOff = false;
      this.#recovery?.cancel();
      this.#recovery = undefined;
      this.#lastEflg = this.#eflg() & 0x3f;
    }
    this.#retry?.cancel();
    this.#retry = undefined;
    if (from === MODE.configuration || from === MODE.sleep) this.#idleFrom = Math.max(this.#clock.now() + this.#bitTimeMs() * 11, this.#brokenUntil);
    this.#startNext();
  }

  // ---- transmission (section 3) ----

  #requestToSend(n: number): void {
    const ctrl = TXBCTRL[n];
    if (this.#regs[ctrl] & TXREQ) return;
    // Setting TXREQ clears ABTF, MLOA and TXERR.
    this.#regs[ctrl] = (this.#regs[ctrl] & ~(ABTF | MLOA | TXERR)) | TXREQ;
    if (this.#regs[0x0f] & ABAT) {
      this.#abortBuffer(n);
      return;
    }
    this.#startNext();
  }

  /** The MCU aborts a buffer: one waiting is aborted now, one on the wire after this attempt. */
  #abortBuffer(n: number): void {
    if (this.#inFlight?.buffer === n) {
      this.#inFlight.abort = true;
      this.#regs[TXBCTRL[n]] |= TXREQ; // it reads as pending until the attempt ends
      return;
    }
    this.#regs[TXBCTRL[n]] = (this.#regs[TXBCTRL[n]] & ~TXREQ) | ABTF;
  }

  #bitTimeMs(): number {
    return 1000 / this.timing.bitrate;
  }

  #bitrateMismatch(): boolean {
    if (this.busBitrate === undefined) return false;
    return Math.abs(this.timing.bitrate - this.busBitrate) > this.busBitrate * 0.005;
  }

  /** Starts the highest-priority pending buffer when the controller may transmit. */
  #startNext(): void {
    if (this.#inFlight || this.#retry || this.#busOff) return;
    if (this.#mode !== MODE.normal && this.#mode !== MODE.loopback) return;
    let best = -1;
    for (let n = 0; n < 3; n++) {
      const ctrl = this.#regs[TXBCTRL[n]];
      if (!(ctrl & TXREQ)) continue;
      // Highest TXP first; between equal priorities, the higher buffer number (section 3.2).
      if (best < 0 || (ctrl & 3) >= (this.#regs[TXBCTRL[best]] & 3)) best = n;
    }
    if (best < 0) return;
    const now = this.#clock.now();
    if (now < this.#idleFrom) {
      this.#retry = this.#schedule(this.#idleFrom - now, () => {
        this.#retry = undefined;
        this.#startNext();
      });
      return;
    }
    const frame = this.#bufferFrame(best);
    const duration = frameBits(frame) * this.#bitTimeMs();
    const inFlight: InFlight = { buffer: best, frame, startedAt: now, endsAt: now + duration, abort: false, timer: { cancel() {} } };
    inFlight.timer = this.#schedule(duration, () => this.#finish(inFlight));
    this.#inFlight = inFlight;
  }

  #bufferFrame(n: number): ModelFrame {
    const base = TXBCTRL[n];
    const r = this.#regs;
    const sid = (r[base + 1] << 3) | (r[base + 2] >> 5);
    const extended = (r[base + 2] & 0x08) !== 0;
    const id = extended ? ((sid << 18) | ((r[base + 2] & 0x03) << 16) | (r[base + 3] << 8) | r[base + 4]) >>> 0 : sid;
    const dlc = r[base + 5] & 0x0f;
    const rtr = (r[base + 5] & 0x40) !== 0;
    return { id, extended, rtr, dlc, data: rtr ? new Uint8Array(0) : r.slice(base + 6, base + 6 + Math.min(dlc, 8)) };
  }

  #finish(inFlight: InFlight): void {
    if (this.#inFlight !== inFlight) return;
    this.#inFlight = undefined;
    const { buffer: n, frame } = inFlight;
    const ctrl = TXBCTRL[n];
    let error: "ack" | "bit" | undefined;
    if (this.#mode === MODE.normal) {
      if (this.#bitrateMismatch() || this.#bitErrors > 0 || this.#clock.now() < this.#brokenUntil) {
        error = "bit";
        if (this.#bitErrors > 0) this.#bitErrors--;
      } else if (!this.#bus || this.#bus.others(this) === 0) {
        error = "ack"; // nobody drove the ACK slot dominant
      }
    }
    if (!error) {
      this.#regs[ctrl] &= ~(TXREQ | ABTF); // MLOA and TXERR tell of earlier attempts

      this.#regs[CANINTF] |= TXIF[n];
      if (this.#mode === MODE.loopback) {
        this.#store(frame); // loopback: the controller receives its own frame, off the bus
      } else {
        if (this.#tec > 0) this.#tec--;
        this.#bus?.send(this.#busFrame(frame), this);
      }
    } else {
      this.#regs[ctrl] |= TXERR;
      this.#regs[CANINTF] |= MERRF;
      // ISO 11898-1 fault confinement: +8 for a transmitter's error, except an ACK error of an
      // error-passive transmitter (a lone node stays at 128, error-passive, never bus-off).
      if (!(error === "ack" && this.#tec >= 128)) this.#tec += 8;
      if (this.#tec > 255) this.#enterBusOff();
      // One-shot mode, or an abort asked for while it was on the wire: no retransmission.
      // Otherwise it stays pending (after bus-off, until the controller recovers).
      if (this.#regs[0x0f] & (OSM | ABAT) || inFlight.abort) this.#regs[ctrl] = (this.#regs[ctrl] & ~TXREQ) | ABTF;
    }
    if (this.#pendingMode !== undefined) {
      this.#enterMode(this.#pendingMode);
    } else if (error && !this.#busOff) {
      // The error frame (6-bit flag, 8-bit delimiter), the intermission, and for an
      // error-passive transmitter the 8-bit suspend, then the next attempt.
      const gap = (17 + (this.#tec >= 128 ? 8 : 0)) * this.#bitTimeMs();
      this.#retry = this.#schedule(gap, () => {
        this.#retry = undefined;
        this.#startNext();
        this.#settle();
      });
    } else {
      this.#startNext();
    }
    this.#settle();
  }

  #loseArbitration(inFlight: InFlight, winner: ModelFrame): void {
    inFlight.timer.cancel();
    this.#inFlight = undefined;
    const ctrl = TXBCTRL[inFlight.buffer];
    this.#regs[ctrl] |= MLOA;
    if (this.#regs[0x0f] & OSM || inFlight.abort) this.#regs[ctrl] = (this.#regs[ctrl] & ~TXREQ) | ABTF;
    if (this.#pendingMode !== undefined) {
      this.#enterMode(this.#pendingMode);
      return;
    }
    // The next attempt follows the winner's frame.
    this.#retry = this.#schedule(frameBits(winner) * this.#bitTimeMs(), () => {
      this.#retry = undefined;
      this.#startNext();
      this.#settle();
    });
  }

  #busFrame(frame: ModelFrame): BusFrame {
    return {
      arbitration_id: frame.id,
      is_extended_id: frame.extended,
      is_remote_frame: frame.rtr,
      is_error_frame: false,
      is_fd: false,
      bitrate_switch: false,
      error_state_indicator: false,
      dlc: Math.min(frame.dlc, 8),
      data: frame.data,
      timestamp: Date.now() / 1000,
    };
  }

  // ---- fault confinement (ISO 11898-1, DS20001801 section 6) ----

  #receiveError(): void {
    if (this.#rec < 255) this.#rec++;
  }

  #receiveSuccess(): void {
    if (this.#rec > 127) this.#rec = 127;
    else if (this.#rec > 0) this.#rec--;
  }

  #enterBusOff(): void {
    this.#busOff = true;
    this.#log(`mcp2515: bus-off (TEC ${this.#tec})`);
    this.#onBusOff?.();
    this.#onState?.("bus-off");
    this.#inFlight?.timer.cancel();
    this.#inFlight = undefined;
    this.#retry?.cancel();
    this.#retry = undefined;
    // It comes back by itself after 128 occurrences of 11 consecutive recessive bits.
    this.#recovery?.cancel();
    const recessive = 128 * 11 * this.#bitTimeMs();
    this.#recovery = this.#schedule(Math.max(recessive, this.#brokenUntil + recessive - this.#clock.now()), () => {
      this.#recovery = undefined;
      if (!this.#busOff || this.#mode === MODE.configuration) return;
      this.#busOff = false;
      this.#tec = 0;
      this.#rec = 0;
      this.#log("mcp2515: recovered from bus-off");
      this.#onState?.(MODE_NAMES[this.#mode]);
      this.#startNext();
      this.#settle();
    });
  }

  // ---- reception (section 4) ----

  /** Puts a received frame through the masks and filters into RXB0 or RXB1. */
  #store(frame: ModelFrame): void {
    const hit = this.#acceptance(frame);
    if (!hit) return;
    const filter = hit.filter;
    let buffer = hit.buffer;
    let rolled = false;
    if (buffer === 0 && this.#regs[CANINTF] & RX0IF) {
      if (!(this.#regs[RXBCTRL[0]] & 0x04)) {
        this.#overflow(RX0OVR);
        return;
      }
      buffer = 1; // BUKT: roll over into RXB1
      rolled = true;
    }
    if (buffer === 1 && this.#regs[CANINTF] & RX1IF) {
      this.#overflow(RX1OVR);
      return;
    }
    const base = RXBCTRL[buffer];
    const r = this.#regs;
    const sid = frame.extended ? frame.id >>> 18 : frame.id & 0x7ff;
    r[base + 1] = sid >> 3;
    r[base + 2] = ((sid & 7) << 5) | (!frame.extended && frame.rtr ? 0x10 : 0) | (frame.extended ? 0x08 | ((frame.id >> 16) & 0x03) : 0);
    r[base + 3] = frame.extended ? (frame.id >> 8) & 0xff : 0;
    r[base + 4] = frame.extended ? frame.id & 0xff : 0;
    r[base + 5] = (frame.extended && frame.rtr ? 0x40 : 0) | (frame.dlc & 0x0f);
    r.fill(0, base + 6, base + 14);
    r.set(frame.data.subarray(0, 8), base + 6);
    const filhit = buffer === 0 ? filter & 1 : filter & 7;
    r[base] = (r[base] & (buffer === 0 ? 0x64 : 0x60)) | (frame.rtr ? 0x08 : 0) | filhit;
    if (buffer === 1) this.#rolledOver = rolled;
    r[CANINTF] |= buffer === 0 ? RX0IF : RX1IF;
  }

  #overflow(flag: number): void {
    this.#regs[EFLG] |= flag;
    this.#regs[CANINTF] |= ERRIF;
  }

  /** Which buffer takes the frame, and which filter let it in; RXF0/1 and RXB0 first. */
  #acceptance(frame: ModelFrame): { buffer: 0 | 1; filter: number } | undefined {
    for (const buffer of [0, 1] as const) {
      const rxm = (this.#regs[RXBCTRL[buffer]] >> 5) & 3;
      if (rxm === 3) return { buffer, filter: buffer === 0 ? 0 : 2 }; // masks and filters off
      const filters = buffer === 0 ? [0, 1] : [2, 3, 4, 5];
      for (const filter of filters) if (this.#filterMatches(filter, buffer, rxm, frame)) return { buffer, filter };
    }
    return undefined;
  }

  #filterMatches(filter: number, mask: number, rxm: number, frame: ModelFrame): boolean {
    const f = filter < 3 ? filter * 4 : 0x10 + (filter - 3) * 4;
    const m = 0x20 + mask * 4;
    const r = this.#regs;
    const exide = (r[f + 1] & 0x08) !== 0;
    if (exide !== frame.extended) return false;
    // RXM 01 and 10 are reserved in DS20001801; earlier revisions define them as
    // standard-only and extended-only, which is what the model does.
    if (rxm === 1 && frame.extended) return false;
    if (rxm === 2 && !frame.extended) return false;
    const sidOf = (base: number) => (r[base] << 3) | (r[base + 1] >> 5);
    const sidMask = sidOf(m);
    if ((sidOf(f) & sidMask) !== ((frame.extended ? frame.id >>> 18 : frame.id) & 0x7ff & sidMask)) return false;
    const eidOf = (base: number) => ((r[base + 1] & 0x03) << 16) | (r[base + 2] << 8) | r[base + 3];
    const eidMask = eidOf(m);
    if (frame.extended) return (eidOf(f) & eidMask) === (frame.id & 0x3ffff & eidMask);
    if (rxm !== 0) return true;
    // RXM 00: for a standard frame, the EID8/EID0 filter bits apply to data bytes 0 and 1
    // (a byte the frame does not carry compares as 0).
    const bytes = ((frame.rtr || frame.dlc < 1 ? 0 : frame.data[0]) << 8) | (frame.rtr || frame.dlc < 2 ? 0 : frame.data[1]);
    return (eidOf(f) & eidMask & 0xffff) === (bytes & eidMask & 0xffff);
  }

  // ---- time ----

  readonly #queue: { at: number; run: () => void; cancelled: boolean }[] = [];
  #wake?: { cancel(): void };
  #wakeAt = Infinity;

  /** Runs `run` `delayMs` from now (model time); an access to the model catches up first. */
  #schedule(delayMs: number, run: () => void): { cancel(): void } {
    const event = { at: this.#clock.now() + delayMs, run, cancelled: false };
    const i = this.#queue.findIndex((e) => e.at > event.at);
    this.#queue.splice(i < 0 ? this.#queue.length : i, 0, event);
    this.#arm();
    return { cancel: () => void (event.cancelled = true) };
  }

  #arm(): void {
    while (this.#queue.length && this.#queue[0].cancelled) this.#queue.shift();
    const next = this.#queue[0]?.at ?? Infinity;
    if (next === this.#wakeAt) return;
    this.#wake?.cancel();
    this.#wakeAt = next;
    this.#wake =
      next === Infinity
        ? undefined
        : this.#clock.setTimer(next - this.#clock.now(), () => {
            this.#wakeAt = Infinity;
            this.#wake = undefined;
            this.#catchUp();
            this.#settle();
          });
  }

  /** Runs what was due by now, in order. */
  #catchUp(): void {
    const now = this.#clock.now();
    while (this.#queue.length && this.#queue[0].at <= now) {
      const event = this.#queue.shift()!;
      if (!event.cancelled) event.run();
    }
    this.#arm();
  }

  /** Stops its timers and leaves the bus. */
  close(): void {
    for (const event of this.#queue) event.cancelled = true;
    this.#queue.length = 0;
    this.#wake?.cancel();
    this.#wake = undefined;
    this.#wakeAt = Infinity;
    this.#detach?.();
  }
}
