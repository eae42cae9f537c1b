// The console's CAN commands on the board's bus (can0): AT+CANCFG, AT+CANSEND, AT+CANFLT and
// AT+CANSLCAN, with the +CANRX and +CANERR messages. Ids, masks and data are hex, as candump
// prints them and cansend reads them: 3 digits for a standard id, 8 for an extended one.
import {
  CAN_EFF_FLAG,
  CAN_EFF_MASK,
  CAN_ERR_BUSOFF,
  CAN_ERR_CNT,
  CAN_ERR_CRTL,
  CAN_ERR_CRTL_ACTIVE,
  CAN_ERR_CRTL_RX_OVERFLOW,
  CAN_ERR_CRTL_RX_PASSIVE,
  CAN_ERR_CRTL_RX_WARNING,
  CAN_ERR_CRTL_TX_PASSIVE,
  CAN_ERR_CRTL_TX_WARNING,
  CAN_ERR_FLAG,
  CAN_ERR_RESTARTED,
  CAN_INV_FILTER,
  CAN_RTR_FLAG,
  CAN_SFF_MASK,
  type CanFrame,
} from "xsock/can-frame";
import { DEFAULT_FILTERS, FilterSet, type CanFilter } from "xsock/can-filter";
import { encodeLatin1, REPLIED, type AtConsole, type Clock, type CommandTable } from "./console";
import { isInt, type Param } from "./parser";
import { Slcan, type SlcanOptions } from "./slcan";

export type CanModeName = "normal" | "no-ack" | "listen-only";
/** AT+CANCFG's <mode> numbers, as ESP-IDF's twai_mode_t has them: 0 normal, 1 no-ack, 2 listen-only. */
export const CAN_MODE_NUMBERS: readonly CanModeName[] = ["normal", "no-ack", "listen-only"];

type CanReceiver = (frame: CanFrame, own: boolean) => void;

/** What the commands need of can0; CanInterface (xsock/can) is one. */
export interface CanBus {
  readonly up: boolean;
  readonly state: string;
  readonly settings: { readonly bitrate: number; readonly mode: string };
  readonly driver: { readonly bitrates: readonly number[]; readonly counters: { readonly tx: number; readonly rx: number } };
  start(settings: { bitrate: number; mode: CanModeName }): void;
  stop(): void;
  /** Queues a frame: false when the transmit queue is full. Throws when the bus is down or bus-off. */
  send(frame: CanFrame, from?: CanReceiver): boolean;
  onWritable(waiter: () => void): () => void;
  subscribe(receiver: CanReceiver): () => void;
}

/** What the commands need of the board around the bus. */
export interface CanConsoleBoard {
  clock: Clock;
  /** Bytes queued for the UART and not yet sent. */
  uartBacklog(): number;
  /** No link is open and no server runs: handing the UART to SLCAN loses nothing. */
  idle(): boolean;
  /** N's and V's replies in SLCAN mode. */
  slcan: Omit<SlcanOptions, "bitrate">;
}

/** How long AT+CANSEND waits for room in a full transmit queue before ERROR. */
export const CAN_SEND_TIMEOUT = 1000;
/** Received frames are dropped (and counted) while this much output waits for the UART. */
export const CAN_UART_ROOM = 4096;
/** How many filters AT+CANFLT holds. */
export const CAN_MAX_FILTERS = 16;

const hex = (n: number, digits: number) => n.toString(16).toUpperCase().padStart(digits, "0");
const HEX_NUMBER = /^(?:0[xX])?([0-9A-Fa-f]{1,8})$/;

/** An id as the commands write it: 8 hex digits for an extended one, 3 for a standard one. */
export function formatCanId(can_id: number): string {
  return can_id & CAN_EFF_FLAG ? hex(can_id & CAN_EFF_MASK, 8) : hex(can_id & CAN_SFF_MASK, 3);
}

/**
 * A hex id (`7FF`, `0x7FF`, `"7FF"`): extended when `extended` or written with 8 digits, as
 * cansend reads it; its can_id has CAN_EFF_FLAG then. Undefined when it does not fit.
 */
export function parseCanId(text: Param, extended = false): number | undefined {
  const m = typeof text === "string" ? HEX_NUMBER.exec(text) : null;
  if (!m) return undefined;
  const eff = extended || m[1].length === 8;
  const id = Number.parseInt(m[1], 16);
  if (id > (eff ? CAN_EFF_MASK : CAN_SFF_MASK)) return undefined;
  return (id | (eff ? CAN_EFF_FLAG : 0)) >>> 0;
}

/**
 * AT+CANSEND's `<id>,<data>[,<flags>]`: flags bit 0 extended, bit 1 remote (RTR). Data is 0 to 8
 * bytes in hex; for a remote frame it is the requested length, 0 to 8 (empty for 0).
 */
export function parseCanSend(params: Param[]): CanFrame | undefined {
  const [idText, dataText, flagsText, ...rest] = params;
  if (rest.length) return undefined;
  if (flagsText !== undefined && (typeof flagsText !== "string" || !/^[0-3]$/.test(flagsText))) return undefined;
  const flags = flagsText === undefined ? 0 : Number(flagsText);
  const id = parseCanId(idText, (flags & 1) !== 0);
  if (id === undefined || (dataText !== undefined && typeof dataText !== "string")) return undefined;
  if (flags & 2) {
    if (dataText !== undefined && dataText !== "" && !/^[0-8]$/.test(dataText)) return undefined;
    return { can_id: (id | CAN_RTR_FLAG) >>> 0, len: dataText ? Number(dataText) : 0, data: new Uint8Array(0) };
  }
  const digits = dataText ?? "";
  if (!/^(?:[0-9A-Fa-f]{2}){0,8}$/.test(digits)) return undefined;
  const data = new Uint8Array(digits.length / 2);
  for (let i = 0; i < data.length; i++) data[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return { can_id: id, len: data.length, data };
}

/**
 * AT+CANFLT's `<id>,<mask>[,<inverted>]`, as a CAN_RAW filter: the id as AT+CANSEND reads it, the
 * mask SocketCAN's can_mask (bit 31 makes the frame format count, bit 30 the RTR bit), and
 * inverted 1 for CAN_INV_FILTER.
 */
export function parseCanFilter(params: Param[]): CanFilter | undefined {
  const [idText, maskText, inverted, ...rest] = params;
  if (rest.length || (inverted !== undefined && inverted !== "0" && inverted !== "1")) return undefined;
  const id = parseCanId(idText);
  const m = typeof maskText === "string" ? HEX_NUMBER.exec(maskText) : null;
  if (id === undefined || !m) return undefined;
  const mask = Number.parseInt(m[1], 16) >>> 0;
  if (mask & CAN_ERR_FLAG) return undefined; // error frames are not filtered: +CANERR always shows
  return { can_id: (id | (inverted === "1" ? CAN_INV_FILTER : 0)) >>> 0, can_mask: mask };
}

/** `+CANFLT:<index>,<id>,<mask>,<inverted>`, as AT+CANFLT= takes them. */
export function canFilterLine(index: number, filter: CanFilter): string {
  const mask = filter.can_mask >>> 0;
  return `+CANFLT:${index},${formatCanId(filter.can_id)},${mask <= CAN_SFF_MASK ? hex(mask, 3) : hex(mask, 8)},${filter.can_id & CAN_INV_FILTER ? 1 : 0}`;
}

/** `+CANRX:<id>,<len>,<data>`: data in hex, or R for a remote frame. */
export function canRxLine(frame: CanFrame): string {
  let data = "";
  if (frame.can_id & CAN_RTR_FLAG) data = "R";
  else for (let i = 0; i < frame.len; i++) data += hex(frame.data[i], 2);
  return `+CANRX:${formatCanId(frame.can_id)},${frame.len},${data}`;
}

/** The controller's state an error frame tells of, or `current` when it tells of none. */
export function errorState(frame: CanFrame, current: string): string {
  const classes = frame.can_id;
  const ctrl = frame.data[1] ?? 0;
  if (classes & CAN_ERR_BUSOFF) return "bus-off";
  if (classes & CAN_ERR_RESTARTED) return "error-active";
  if (classes & CAN_ERR_CRTL) {
    if (ctrl & (CAN_ERR_CRTL_RX_PASSIVE | CAN_ERR_CRTL_TX_PASSIVE)) return "error-passive";
    if (ctrl & (CAN_ERR_CRTL_RX_WARNING | CAN_ERR_CRTL_TX_WARNING)) return "error-warning";
    if (ctrl & CAN_ERR_CRTL_ACTIVE) return "error-active";
  }
  return current;
}

/** An error frame that only tells of frames the controller missed. */
function isRxOverflow(frame: CanFrame): boolean {
  return (frame.can_id & ~CAN_ERR_FLAG) === CAN_ERR_CRTL && (frame.data[1] & CAN_ERR_CRTL_RX_OVERFLOW) !== 0;
}

/** `+CANERR:"<state>",<tec>,<rec>` for an error frame; the counters from it when it has them. */
export function canErrLine(frame: CanFrame, current: string, counters: { tx: number; rx: number }): string {
  const cnt = (frame.can_id & CAN_ERR_CNT) !== 0;
  const tx = cnt ? frame.data[6] : counters.tx;
  const rx = cnt ? frame.data[7] : counters.rx;
  return `+CANERR:"${errorState(frame, current)}",${tx},${rx}`;
}

export function canCommands(at: AtConsole, bus: CanBus, board: CanConsoleBoard): CommandTable {
  const filters = new FilterSet();
  const list: CanFilter[] = [];
  /** Frames and messages dropped while the UART had no room, not yet reported. */
  let lost = 0;
  let retry: (() => void) | undefined;
  let unsubscribe: (() => void) | undefined;

  const room = () => !at.inPassthrough && at.heldOutput + board.uartBacklog() < CAN_UART_ROOM;
  const say = (line: string) => at.unsolicited(encodeLatin1(`${line}\r\n`));
  /** Reports the lost count now if there is room, else tries again shortly. */
  const reportLost = () => {
    if (!lost) return;
    if (!room()) {
      retry ??= board.clock.after(50, () => {
        retry = undefined;
        reportLost();
      });
      return;
    }
    retry?.();
    retry = undefined;
    say(`+CANERR:"rx-overflow",${lost}`);
    lost = 0;
  };

  const receiver: CanReceiver = (frame, own) => {
    if (own) return;
    const error = (frame.can_id & CAN_ERR_FLAG) !== 0;
    if (!error && !filters.passes(frame)) return;
    // The controller missed frames (its receive queue was full): at least one more is lost.
    if (error && isRxOverflow(frame)) {
      lost++;
      reportLost();
      return;
    }
    if (!room()) {
      lost++;
      reportLost();
      return;
    }
    reportLost();
    say(error ? canErrLine(frame, bus.state, bus.driver.counters) : canRxLine(frame));
  };

  const start = (bitrate: number, mode: CanModeName) => {
    bus.start({ bitrate, mode });
    unsubscribe ??= bus.subscribe(receiver);
  };
  const stop = () => {
    unsubscribe?.();
    unsubscribe = undefined;
    bus.stop();
  };

  /** Queues a frame; with the transmit queue full, waits for room up to CAN_SEND_TIMEOUT. */
  const send = (frame: CanFrame): boolean | Promise<boolean> => {
    if (bus.send(frame, receiver)) return true;
    return new Promise((resolve) => {
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        stopWaiting();
        cancel();
        resolve(ok);
      };
      const stopWaiting = bus.onWritable(() => {
        try {
          if (bus.send(frame, receiver)) finish(true);
        } catch {
          finish(false); // bus-off or stopped while waiting
        }
      });
      const cancel = board.clock.after(CAN_SEND_TIMEOUT, () => finish(false));
    });
  };

  /** AT+CANSLCAN: the UART speaks SLCAN until the board restarts, the channel closed until O. */
  const enterSlcan = (at: AtConsole) => {
    if (!board.idle()) return false;
    stop();
    let write = (_bytes: Uint8Array) => {};
    let unsubscribeSlcan: (() => void) | undefined;
    const session: Slcan = new Slcan(
      {
        write: (bytes) => write(bytes),
        room: () => board.uartBacklog() < CAN_UART_ROOM,
        bitrates: bus.driver.bitrates,
        open: (bitrate, listenOnly) => {
          bus.start({ bitrate, mode: listenOnly ? "listen-only" : "normal" });
          unsubscribeSlcan ??= bus.subscribe(slcanReceiver);
        },
        close: () => {
          unsubscribeSlcan?.();
          unsubscribeSlcan = undefined;
          bus.stop();
        },
        send: (frame) => bus.send(frame, slcanReceiver),
        now: () => board.clock.now(),
      },
      { ...board.slcan, bitrate: bus.settings.bitrate },
    );
    const slcanReceiver: CanReceiver = (frame, own) => {
      if (!own) session.receive(frame);
    };
    at.ok();
    write = at.handOver((bytes) => session.input(bytes));
    return REPLIED;
  };

  return {
    "+CANCFG": {
      query: (at) => {
        const { tx, rx } = bus.driver.counters;
        const mode = Math.max(0, CAN_MODE_NUMBERS.indexOf(bus.settings.mode as CanModeName));
        at.print(`+CANCFG:${bus.up ? bus.settings.bitrate : 0},${mode},"${bus.up ? bus.state : "stopped"}",${tx},${rx}`);
      },
      test: (at) => at.print(`+CANCFG:(0,${bus.driver.bitrates.join(",")}),(0-2)`),
      set: (_at, [bitrate, mode, ...rest]) => {
        if (rest.length) return false;
        if (bitrate === 0 && mode === undefined) return void stop();
        if (!isInt(bitrate, 1, 10000000) || !bus.driver.bitrates.includes(bitrate)) return false;
        if (mode !== undefined && !isInt(mode, 0, 2)) return false;
        start(bitrate, CAN_MODE_NUMBERS[mode ?? 0]);
      },
    },
    "+CANSEND": {
      textFields: true,
      set: (_at, params) => {
        const frame = parseCanSend(params);
        return frame ? send(frame) : false;
      },
    },
    "+CANFLT": {
      textFields: true,
      query: (at) => list.forEach((filter, i) => at.print(canFilterLine(i, filter))),
      set: (_at, params) => {
        const filter = parseCanFilter(params);
        if (!filter || list.length >= CAN_MAX_FILTERS) return false;
        list.push(filter);
        filters.set(list);
      },
      execute: () => {
        list.length = 0;
        filters.set(DEFAULT_FILTERS);
      },
    },
    "+CANSLCAN": { execute: enterSlcan },
  };
}
