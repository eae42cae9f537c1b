// ESP-AT's long sends: AT+CIPSENDL streams up to 2^31 - 1 bytes from the UART to a link while
// they come in, with +CIPSENDL:<had sent len>,<port recv len> reports; AT+CIPSENDLCFG sets
// the report and transmit block sizes.
import { REPLIED, type AtConsole, type Clock, type CommandTable } from "./console";
import { isInt, type Param } from "./parser";
import { PASSTHROUGH_LIMIT, type Links, type UartFlow } from "./links";

/** ESP-AT's CIPSENDLCFG defaults: a report every 1024 bytes, 2920-byte blocks to the stack. */
export const DEFAULT_REPORT_SIZE = 1024;
export const DEFAULT_TRANSMIT_SIZE = 2920;
/** A block smaller than the transmit size goes after this much quiet (AT+TRANSINTVL's default). */
export const TRANSMIT_INTERVAL_MS = 20;

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function sendlCommands(links: Links, uart: UartFlow, clock: Clock): CommandTable {
  let reportSize = DEFAULT_REPORT_SIZE;
  let transmitSize = DEFAULT_TRANSMIT_SIZE;

  /** `[<link ID>,]<length>[,<"remote host">,<remote port>]`, then data mode until <length> bytes or `+++`. */
  const sendLong = (at: AtConsole, params: Param[]): false | Promise<typeof REPLIED> => {
    const [id, rest] = links.mux ? [params[0], params.slice(1)] : [0, params];
    const [length, host, port, ...more] = rest;
    if (!isInt(id, 0, links.max - 1) || more.length || !isInt(length, 1, 2 ** 31 - 1)) return false;
    const link = links.links[id];
    if (!link || links.transparent) return false;
    const to = host === undefined ? undefined : typeof host === "string" && isInt(port, 1, 65535) && link.type === "UDP" ? ([host, port] as [string, number]) : null;
    if (to === null) return false;
    // What this send holds: its own report and block sizes, as they were when it started.
    const [report, block] = [reportSize, transmitSize];
    let received = 0;
    let sent = 0;
    /** The last report printed: the final one is printed unless it would say the same. */
    let reported = "";
    let nextReport = report;
    let failed = false;
    /** Blocks handed to the stack and not yet taken, and their bytes: past PASSTHROUGH_LIMIT the UART waits. */
    let inFlight = 0;
    let inFlightBytes = 0;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let cancelTimer: (() => void) | undefined;
    let inputDone = false;
    let cancelled = false;
    let surplus = false;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));

    const settle = () => {
      if (inputDone && !inFlight && !pendingBytes) finish();
    };
    /** One block to the stack; its bytes count as sent once the stack has taken them. */
    const transmit = (bytes: Uint8Array) => {
      inFlight++;
      inFlightBytes += bytes.length;
      if (inFlightBytes >= PASSTHROUGH_LIMIT) uart.pause();
      const current = links.links[id];
      const done = failed || current !== link ? Promise.reject(new Error("the link is gone")) : to ? link.sock.sendto(bytes, to).then(() => {}) : links.queueSend(link, bytes);
      done.then(
        () => {
          sent += bytes.length;
          if (sent >= nextReport) {
            reported = `+CIPSENDL:${sent},${received}`;
            at.print(reported);
            nextReport = (Math.floor(sent / report) + 1) * report;
          }
        },
        () => (failed = true),
      ).finally(() => {
        inFlight--;
        inFlightBytes -= bytes.length;
        if (inFlightBytes < PASSTHROUGH_LIMIT / 2) uart.resume();
        settle();
      });
    };
    /** Full blocks go at once; the rest, with `all` or after TRANSMIT_INTERVAL_MS of quiet. */
    const flush = (all: boolean) => {
      cancelTimer?.();
      cancelTimer = undefined;
      let data = concat(pending, pendingBytes);
      while (data.length >= block || (all && data.length)) {
        transmit(data.subarray(0, block));
        data = data.subarray(Math.min(block, data.length));
      }
      pending = data.length ? [data] : [];
      pendingBytes = data.length;
      if (pendingBytes) cancelTimer = clock.after(TRANSMIT_INTERVAL_MS, () => flush(true));
    };

    at.ok();
    at.send("\r\n>");
    at.enterPassthrough(
      (bytes) => {
        const take = bytes.subarray(0, length - received);
        if (take.length < bytes.length) surplus = true;
        received += take.length;
        pending.push(take);
        pendingBytes += take.length;
        flush(received === length);
        if (received === length) at.leavePassthrough();
      },
      () => {
        // `+++` before the whole length: what came is sent, and the send is cancelled.
        cancelled = received < length;
        inputDone = true;
        flush(true);
        uart.resume();
        settle();
      },
    );
    return finished.then(() => {
      if (surplus) at.send("busy p...\r\n"); // bytes past <length>, as AT+CIPSEND drops them
      const last = `+CIPSENDL:${sent},${received}`;
      if (last !== reported) at.print(last);
      at.send(cancelled ? "\r\nSEND CANCELLED\r\n" : !failed && sent === length ? "\r\nSEND OK\r\n" : "\r\nSEND FAIL\r\n");
      return REPLIED;
    });
  };

  return {
    "+CIPSENDL": { set: sendLong },
    "+CIPSENDLCFG": {
      query: (at) => at.print(`+CIPSENDLCFG:${reportSize},${transmitSize}`),
      set: (_at, [report, transmit = transmitSize, ...rest]) => {
        if (rest.length || !isInt(report, 100, 2 ** 20) || !isInt(transmit, 100, 2920)) return false;
        reportSize = report;
        transmitSize = transmit;
      },
    },
  };
}
