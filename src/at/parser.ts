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

/** A parameter that is an integer from min to max. */
export const isInt = (p: Param, min: number, max: number): p is number => typeof p === "number" && Number.isInteger(p) && p >= min && p <= max;

/** Parses one command line (without its CR-LF); null when it is not a well-formed AT command. */
export function parseCommand(line: string): Command | null {
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
  const params = parseParams(tail.slice(1));
  return params ? { name, kind: "set", params } : null;
}

/**
 * Parses comma-separated parameters. Strings are double-quoted; inside them a backslash
 * escapes the next character (`\"`, `\\`, `\,`), as ESP-AT does. Numbers are decimal,
 * or hex with 0x. An empty field is a left-out parameter.
 */
export function parseParams(text: string): Param[] | null {
  const params: Param[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) return null;
        const c = text[i++];
        if (c === '"') break;
        if (c === "\\") {
          if (i >= text.length) return null;
          value += text[i++];
        } else value += c;
      }
      params.push(value);
    } else {
      const end = text.indexOf(",", i);
      const field = text.slice(i, end < 0 ? text.length : end);
      i += field.length;
      if (field === "") params.push(undefined);
      else if (/^-?[0-9]+$/.test(field)) params.push(Number(field));
      else if (/^0[xX][0-9a-fA-F]+$/.test(field)) params.push(Number.parseInt(field, 16));
      else return null;
    }
    if (i >= text.length) return params;
    if (text[i] !== ",") return null;
    i++;
  }
}
