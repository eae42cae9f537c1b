// ESP-AT command lines: `AT`, `AT<name>`, `AT<name>?`, `AT<name>=?`, `AT<name>=<params>`.

export type CommandKind = "execute" | "query" | "test" | "set";

/** One parameter: a quoted string, a number, or empty (left out). */
export type Param = string | number | undefined;

export interface Command {
  /** `""` for bare `AT`, `"+GMR"`, `"E0"`, ... */
  name: string;
  kind: CommandKind;
  params: Param[];
}

/** A parameter that is a MAC address, aa:bb:cc:dd:ee:ff (either case). */
export const isMac = (p: Param): p is string => typeof p === "string" && /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(p);

/** A parameter that is an integer from min to max. */
export const isInt = (p: Param, min: number, max: number): p is number => typeof p === "number" && Number.isInteger(p) && p >= min && p <= max;

/**
 * Parses one command line (without its CR-LF); null when it is not a well-formed AT command.
 * A command for which `textFields` is true takes its set parameters as text (parseFields).
 */
export function parseCommand(line: string, textFields?: (name: string) => boolean): Command | null {
  if (!line.startsWith("AT")) return null;
  const rest = line.slice(2);
  if (rest === "") return { name: "", kind: "execute", params: [] };
  const m = /^(\+[A-Z][A-Z0-9_]*|[A-Z&][0-9]?)(.*)$/.exec(rest);
  if (!m) return null;
  const [, name, tail] = m;
  if (tail === "") return { name, kind: "execute", params: [] };
  if (tail === "?") return { name, kind: "query", params: [] };
  if (tail === "=?") return { name, kind: "test", params: [] };
  if (!tail.startsWith("=")) return null;
  const params = textFields?.(name) ? parseFields(tail.slice(1)) : parseParams(tail.slice(1));
  return params ? { name, kind: "set", params } : null;
}

/**
 * Reads the quoted string that starts at text[i]: its value and the index after its closing
 * quote. It copies runs between backslashes with slice, not a character at a time: XS meters
 * each character's step: a character at a time cost about 45 computrons each.
 */
function readQuoted(text: string, i: number): [string, number] | null {
  let value = "";
  i++;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return null;
    const escape = text.indexOf("\\", i);
    if (escape < 0 || escape > quote) return [value + text.slice(i, quote), quote + 1];
    // A backslash takes the next character as it is, a quote too.
    if (escape + 1 >= text.length) return null;
    value += text.slice(i, escape) + text[escape + 1];
    i = escape + 2;
  }
}

/**
 * Splits comma-separated parameters: a quoted field is a string (a backslash escapes the next
 * character: `\"`, `\\`, `\,`, as ESP-AT does), a bare one goes through `bare`, and an empty
 * one is a left-out parameter. Null when the quoting is bad or `bare` refuses a field.
 */
function splitParams(text: string, bare: (field: string) => Param | null): Param[] | null {
  const params: Param[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      const quoted = readQuoted(text, i);
      if (!quoted) return null;
      params.push(quoted[0]);
      i = quoted[1];
    } else {
      const end = text.indexOf(",", i);
      const field = text.slice(i, end < 0 ? text.length : end);
      i += field.length;
      const value = field === "" ? undefined : bare(field);
      if (value === null) return null;
      params.push(value);
    }
    if (i >= text.length) return params;
    if (text[i] !== ",") return null;
    i++;
  }
}

/** Parses comma-separated parameters: quoted strings, and numbers in decimal or in hex with 0x. */
export function parseParams(text: string): Param[] | null {
  return splitParams(text, (field) => {
    if (/^-?[0-9]+$/.test(field)) return Number(field);
    if (/^0[xX][0-9a-fA-F]+$/.test(field)) return Number.parseInt(field, 16);
    return null;
  });
}

/**
 * Parses comma-separated parameters as text, for commands whose numbers are hex (AT+CANSEND's
 * `7FF,DEADBEEF`): a bare field is kept as it is (without quotes), a quoted one is unquoted.
 */
export function parseFields(text: string): Param[] | null {
  return splitParams(text, (field) => (field.includes('"') ? null : field));
}
