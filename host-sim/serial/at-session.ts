// Commands to the ESP-AT console, one at a time: send a line, wait for its final result.
import type { SerialLink } from "./link.ts";

/** The end of a command's reply: a final result on its own line, or the data prompt. */
const FINAL = /(?:^|\n)(OK|SEND OK|SET OK|ERROR|FAIL|SEND FAIL|busy [ps]\.\.\.)\r?\n|\n> ?$/;

/** The console did not answer as a command's caller needs: a timeout, or a refusal. */
export class AtError extends Error {}

/** After its OK, AT+CIPSEND (and CIPSENDEX) prints the `>` prompt for the payload. */
const PROMPTS = /^AT\+CIPSEND(EX)?(=|$)/i;
const PROMPT = /\n> ?$|(?:^|\n)(ERROR|busy [ps]\.\.\.)\r?\n/;

/** How long a command may take: AT+CWJAP's default join timeout is 15 s. */
export const COMMAND_TIMEOUT_MS = 20_000;

export interface CommandResult {
  /** Everything the console sent back, the echo included. */
  reply: string;
  /** The final result: "OK", "ERROR", "SEND OK", ..., or ">" for the data prompt. */
  final: string;
  ok: boolean;
}

/** Sends a command line (CR-LF ended) and waits for its final result. */
export async function command(link: SerialLink, line: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandResult> {
  link.discard();
  await link.write(`${line}\r\n`);
  const result = await finalResult(link, timeoutMs, line);
  if (!PROMPTS.test(line) || result.final !== "OK") return result;
  const more = await wait(link, PROMPT, timeoutMs, line);
  const refused = PROMPT.exec(more)![1];
  return { reply: result.reply + more, final: refused ?? ">", ok: !refused };
}

/** Waits for the final result of what is under way. */
export async function finalResult(link: SerialLink, timeoutMs = COMMAND_TIMEOUT_MS, what = "the payload"): Promise<CommandResult> {
  const reply = await wait(link, FINAL, timeoutMs, what);
  const final = FINAL.exec(reply)![1] ?? ">";
  return { reply, final, ok: final === "OK" || final === "SEND OK" || final === "SET OK" || final === ">" };
}

/** The reply's last meaningful line, to say why a command failed. */
export function lastLine(reply: string): string {
  return (
    reply
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? "nothing"
  );
}

async function wait(link: SerialLink, pattern: RegExp, timeoutMs: number, what: string): Promise<string> {
  try {
    return await link.waitFor(pattern, timeoutMs);
  } catch {
    throw new AtError(`no answer to ${what} within ${timeoutMs / 1000} s${link.connected ? "" : `: ${link.path} is not connected`}`);
  }
}
