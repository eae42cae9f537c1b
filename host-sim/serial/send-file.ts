// Sends a file over an open link of the ESP-AT console: as CIPSEND payloads of at most
// 8192 bytes each (ESP-AT's limit), or in passthrough (CIPMODE=1) ended by +++.
import { AtError, command, finalResult, lastLine } from "./at-session.ts";
import type { SerialLink } from "./link.ts";

/** ESP-AT takes at most this many bytes per AT+CIPSEND. */
export const CIPSEND_MAX = 8192;

export interface SendOptions {
  /** The link id, with CIPMUX=1. */
  linkId?: number;
  /** Passthrough instead of CIPSEND payloads. */
  passthrough?: boolean;
  /** Bytes per CIPSEND (at most 8192) or per write in passthrough. */
  chunk?: number;
}

export type SendEvent =
  | { type: "mode"; passthrough: boolean; chunks: number }
  | { type: "progress"; sent: number; total: number }
  | { type: "done"; sent: number; ms: number };

/** Sends the bytes, yielding progress after each chunk the console has taken. */
export async function* sendFile(link: SerialLink, data: Uint8Array, options: SendOptions = {}): AsyncGenerator<SendEvent> {
  const chunk = Math.min(options.chunk ?? CIPSEND_MAX, options.passthrough ? Infinity : CIPSEND_MAX);
  const start = Date.now();
  yield { type: "mode", passthrough: Boolean(options.passthrough), chunks: Math.max(1, Math.ceil(data.length / chunk)) };
  if (options.passthrough) yield* passthrough(link, data, chunk, options.linkId);
  else yield* cipsend(link, data, chunk, options.linkId);
  yield { type: "done", sent: data.length, ms: Date.now() - start };
}

async function* cipsend(link: SerialLink, data: Uint8Array, chunk: number, linkId?: number): AsyncGenerator<SendEvent> {
  const id = linkId === undefined ? "" : `${linkId},`;
  for (let sent = 0; sent < data.length; ) {
    const n = Math.min(chunk, data.length - sent);
    const prompt = await command(link, `AT+CIPSEND=${id}${n}`);
    if (prompt.final !== ">") throw new AtError(`AT+CIPSEND=${id}${n} got ${lastLine(prompt.reply)}: is a link open (AT+CIPSTART)${linkId === undefined ? ", and CIPMUX=0 (or give --link ID)" : ""}?`);
    await link.write(data.subarray(sent, sent + n));
    const result = await finalResult(link);
    if (result.final !== "SEND OK") throw new AtError(`after ${sent} bytes, the console answered ${lastLine(result.reply)}`);
    sent += n;
    yield { type: "progress", sent, total: data.length };
  }
}

async function* passthrough(link: SerialLink, data: Uint8Array, chunk: number, linkId?: number): AsyncGenerator<SendEvent> {
  if (linkId !== undefined) throw new AtError("passthrough runs on the single link (CIPMUX=0): drop --link");
  const mode = await command(link, "AT+CIPMODE?");
  const was = /\+CIPMODE:(\d)/.exec(mode.reply)?.[1];
  if (!mode.ok || was === undefined) throw new AtError(`AT+CIPMODE? got ${lastLine(mode.reply)}`);
  const set = (value: string) => command(link, `AT+CIPMODE=${value}`);
  if (was !== "1" && !(await set("1")).ok) throw new AtError("AT+CIPMODE=1 failed: passthrough needs CIPMUX=0");
  try {
    const prompt = await command(link, "AT+CIPSEND");
    if (prompt.final !== ">") throw new AtError(`AT+CIPSEND got ${lastLine(prompt.reply)}: is a link open (AT+CIPSTART)?`);
    for (let sent = 0; sent < data.length; ) {
      const n = Math.min(chunk, data.length - sent);
      await link.write(data.subarray(sent, sent + n));
      sent += n;
      yield { type: "progress", sent, total: data.length };
    }
    // +++ alone, with ESP-AT's guard times of silence around it, leaves passthrough.
    await pause(GUARD_MS);
    await link.write("+++");
    await pause(GUARD_MS);
  } finally {
    if (was !== "1") await set(was);
  }
}

/** Silence before and after +++: ESP-AT wants at least 20 ms, and a second before the next command. */
const GUARD_MS = 1000;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
