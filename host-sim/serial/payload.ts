// A payload typed after the console's `>` prompt: escapes for the bytes a keyboard cannot type,
// Enter as CR-LF, and a count of what the board still expects, so that a command typed too
// early can never become payload unseen. `xsock console` and `xsock sim`'s terminal share it.

/** The send commands that print `>` and take a payload (ESP-AT's TCP/IP commands). */
const SEND = /^AT\+CIPSEND(?:EX|L)?(?:=(.*))?$/i;

/**
 * The payload a send command announces: its length in bytes; `null` for AT+CIPSEND with no
 * parameters (passthrough, ended by `+++`); undefined when the line is not a send command.
 * The length is the first number of `<length>[,"host",port]`, the second of `<link>,<length>...`.
 */
export function announcedLength(command: string): number | null | undefined {
  const m = SEND.exec(command.trim());
  if (!m) return undefined;
  if (m[1] === undefined) return null;
  const numbers: number[] = [];
  for (const field of m[1].split(",")) {
    if (!/^\d+$/.test(field.trim())) break;
    numbers.push(Number(field));
  }
  return numbers.length === 1 ? numbers[0] : numbers.length >= 2 ? numbers[1] : undefined;
}

/** The prompt while a payload is typed: the bytes the board still expects, or passthrough's way out. */
export const payloadPrompt = (remaining: number | null): string =>
  remaining === null ? "payload (Enter sends CR-LF; +++ ends)> " : `payload, ${remaining} bytes left (\\r \\n \\xHH; Enter sends CR-LF)> `;

/** A typed payload line's bytes: `\r`, `\n`, `\t`, `\\` and `\xHH` escapes; any other backslash stays (CIPSENDEX's `\0` ends a payload). */
export function decodeEscapes(text: string): Buffer {
  const out: number[] = [];
  const bytes = Buffer.from(text, "utf8");
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const next = String.fromCharCode(bytes[i + 1] ?? 0);
    if (b !== 0x5c || !"rnt\\x".includes(next) || next === "\0") out.push(b);
    else if (next === "x") {
      const hex = bytes.subarray(i + 2, i + 4).toString("latin1");
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error(`bad escape \\x${hex}: use \\xHH, two hex digits`);
      out.push(parseInt(hex, 16));
      i += 3;
    } else {
      out.push({ r: 0x0d, n: 0x0a, t: 0x09, "\\": 0x5c }[next]!);
      i++;
    }
  }
  return Buffer.from(out);
}

/**
 * What Enter sends for a typed line in payload mode: its bytes, and CR-LF when both still fit in
 * the `remaining` bytes the board expects (always, in passthrough: `remaining` null, where a
 * `+++` line goes alone). A line longer than what remains is refused, and nothing is sent.
 */
export function payloadBytes(line: string, remaining: number | null): Buffer {
  // +++ alone leaves passthrough: it goes without a line end.
  if (remaining === null && line === "+++") return Buffer.from(line);
  const typed = decodeEscapes(line);
  if (remaining !== null && typed.length > remaining)
    throw new Error(`${typed.length} bytes typed, but the board expects ${remaining} more`);
  const crlf = remaining === null || typed.length + 2 <= remaining;
  return crlf ? Buffer.concat([typed, Buffer.from("\r\n")]) : typed;
}
