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
    let nextReport = report;
    /** The last report printed: the final one is printed unless it would say the same. */
    let reported = "";
    let failed = false;
    /** What the UART brought and the stack has not taken; past PASSTHROUGH_LIMIT the UART waits. */
    const pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let sending = false;
    let inputDone = false;
    let cancelled = false;
    let surplus = false;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));

    /** The next block, at most `block` bytes, out of what is pending. */
    const take = () => {
      const out = new Uint8Array(Math.min(block, pendingBytes));
      let at = 0;
      while (at < out.length) {
        const head = pending[0]!;
        const n = Math.min(head.length, out.length - at);
        out.set(head.subarray(0, n), at);
        at += n;
        if (n === head.length) pending.shift();
        else pending[0] = head.subarray(n);
      }
      pendingBytes -= out.length;
      return out;
    };
    const sendBlock = (bytes: Uint8Array): Promise<unknown> => {
      if (failed || links.links[id] !== link) return Promise.reject(new Error("the link is gone"));
      return to ? link.sock.sendto(bytes, to) : links.queueSend(link, bytes);
    };
    /**
     * One block at a time to the stack (the board's heap holds no queue of them): a full block at
     * once, a smaller one after TRANSMIT_INTERVAL_MS without more, or once the input is done.
     */
    const transmit = async () => {
      sending = true;
      while (pendingBytes) {
        if (pendingBytes < block && !inputDone) await new Promise<void>((resolve) => clock.after(TRANSMIT_INTERVAL_MS, resolve));
        const bytes = take();
        if (pendingBytes < PASSTHROUGH_LIMIT / 2) uart.resume();
        try {
          await sendBlock(bytes);
          sent += bytes.length;
          if (sent >= nextReport) {
            reported = `+CIPSENDL:${sent},${received}`;
            at.print(reported);
            nextReport = (Math.floor(sent / report) + 1) * report;
          }
        } catch {
          failed = true; // the rest is taken from the UART and dropped: SEND FAIL
        }
      }
      sending = false;
      if (inputDone) finish();
    };

    at.ok();
    at.send("\r\n>");
    at.enterPassthrough(
      (bytes) => {
        const data = bytes.subarray(0, length - received);
        if (data.length < bytes.length) surplus = true;
        received += data.length;
        pending.push(data);
        pendingBytes += data.length;
        if (pendingBytes >= PASSTHROUGH_LIMIT) uart.pause();
        if (!sending) void transmit();
        if (received === length) at.leavePassthrough();
      },
      () => {
        // `+++` before the whole length: what came is sent, and the send is cancelled.
        cancelled = received < length;
        inputDone = true;
        uart.resume();
        if (!sending) finish();
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
