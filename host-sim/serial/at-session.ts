// Commands to the ESP-AT console, one at a time: send a line, wait for its final result.
import type { SerialLink } from "./link.ts";

/** The end of a command's reply: a final result on its own line, or the data prompt. */
const FINAL = /(?:^|\n)(OK|SEND OK|SET OK|ERROR|FAIL|SEND FAIL|busy [ps]\.\.\.)\r?\n|\n> ?$/;

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
  return finalResult(link, timeoutMs);
}

/** Waits for the final result of what is under way. */
export async function finalResult(link: SerialLink, timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandResult> {
  const reply = await link.waitFor(FINAL, timeoutMs);
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
